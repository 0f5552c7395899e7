"""Child processes that never outlive the command that started them.

``eproc run`` and ``eproc stack up`` start helpers (the virtual card, the card
agent, the PKI's status service, the services of the stack). Each must end when
its parent ends, however the parent ends: a clean exit stops them itself, and
for SIGKILL or a crash the kernel sends them SIGTERM (``PR_SET_PDEATHSIG``).

Two traps are closed here:

- the parent may die between ``fork`` and ``prctl``: the child then checks that
  its parent is still the one that started it, and exits at once otherwise;
- ``PR_SET_PDEATHSIG`` fires when the *thread* that forked ends, so children are
  started from the main thread only (asserted).

A child must let SIGTERM end it (the virtual card keeps the default action:
a handler that does work instead of exiting can lose the signal).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# Loaded once, in the parent: nothing may be loaded between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGTERM when ``parent`` ends, even by SIGKILL."""

    def preexec() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl: no signal would come
            os._exit(1)

    return preexec


def spawn_child(
    command: list[str], *, log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` with its output appended to ``log``; it ends with this process."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("start children from the main thread (PR_SET_PDEATHSIG is per thread)")
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own console scripts
            command,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(os.getpid()),
        )
