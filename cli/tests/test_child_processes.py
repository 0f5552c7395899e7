"""No child of the CLI outlives it (issue 22: an orphaned ``eid-card insert`` kept
the vpcd reader slot after ``make bench``).

The parent here is a real Python process that starts the virtual card, the card
agent and the PKI's status service exactly as ``eproc run`` does
(``eproc.card.start_virtual_card``). The card's "vpcd" is a port of this test that
refuses connections at first, so the card is still being inserted when its parent
is killed by SIGKILL; the port then starts to accept, as vpcd does once a slot is
free. Nothing may be left behind, and a plain SIGTERM must end ``eid-card insert``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eproc_eid_testkit.pki import ensure_demo_card
from eproc_runtime.testing.infra import free_port

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def _children() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        table.setdefault(parent, []).append(int(entry))
    return table


def descendants(pid: int) -> set[int]:
    table, found, todo = _children(), set(), [pid]
    while todo:
        for child in table.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def wait_for_card_process_ready(pid: int) -> None:
    """Until the card process is past its start-up (imports, card loaded), connecting:
    the old code's SIGTERM handler is in place, or a few seconds passed (no handler:
    the default action ends it whenever the signal comes)."""
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(
            next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16
        )
        if caught & SIGTERM_BIT:
            return
        time.sleep(0.1)


@pytest.fixture
def eid_home(tmp_path: Path) -> Path:
    home = tmp_path / "eid"
    ensure_demo_card(home, "alice")  # the PKI and the card exist: the children start fast
    return home


@pytest.fixture
def vpcd_port() -> Iterator[int]:
    """A port that refuses connections until the test listens on it."""
    yield free_port()


def _listen(port: int) -> socket.socket:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    return listener


PARENT = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    import eproc.card as card
    card.pcsc_available = lambda: True  # the card talks to this test's port, not to pcscd
    started = card.start_virtual_card(
        data_dir=Path(sys.argv[1]), eid_home=Path(sys.argv[2]),
        gateway_origin="http://127.0.0.1:9", person="alice",
        vpcd_port=int(sys.argv[3]), agent_port=int(sys.argv[4]),
    )
    print(" ".join(str(p.pid) for p in started.processes), flush=True)
    signal.pause()
    """
)


def test_a_parent_killed_by_sigkill_leaves_no_descendant(
    tmp_path: Path, eid_home: Path, vpcd_port: int
) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PARENT,
            str(tmp_path),
            str(eid_home),
            str(vpcd_port),
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
    )
    listener: socket.socket | None = None
    family: set[int] = set()
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) >= 2, pids  # card, agent (and the status service)
        family = descendants(parent.pid)
        assert set(pids) <= family
        card = next(pid for pid in pids if "insert" in command_of(pid))
        wait_for_card_process_ready(card)

        parent.kill()
        parent.wait()
        time.sleep(1.0)
        listener = _listen(vpcd_port)  # vpcd's slot frees up: a card still inserting gets in
        wait_until(
            lambda: not any(alive(pid) for pid in family),
            timeout=20,
            what="every descendant ended: "
            + "; ".join(command_of(pid) for pid in family if alive(pid)),
        )
    finally:
        if listener is not None:
            listener.close()
        for pid in family | descendants(parent.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


def test_sigterm_ends_a_card_being_inserted(eid_home: Path, vpcd_port: int) -> None:
    script = Path(sys.executable).parent / "eid-card"
    card = subprocess.Popen(
        [
            str(script),
            "--dir",
            str(eid_home),
            "insert",
            "--person",
            "alice",
            "--port",
            str(vpcd_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listener: socket.socket | None = None
    try:
        wait_for_card_process_ready(card.pid)
        card.terminate()
        time.sleep(0.5)
        listener = _listen(vpcd_port)
        card.wait(timeout=15)
        assert card.returncode is not None
    finally:
        if listener is not None:
            listener.close()
        if card.poll() is None:
            card.kill()
            card.wait()
