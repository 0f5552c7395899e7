"""``eventually``: wait until something a test expects has happened.

The services talk through events, so much of what a test checks becomes true
a moment after the action. Poll instead of sleeping a fixed time: fast when
the machine is idle, patient when it is loaded.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    *,
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "the condition",
) -> Any:
    """Call ``check`` (sync or async) until it returns a truthy value; return that value.

    A ``check`` may also assert: an ``AssertionError`` counts as "not yet", and
    the last one is re-raised when time runs out, so the failure shows what was
    still wrong. Otherwise an ``AssertionError`` names ``what`` and the last value seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        failure: AssertionError | None = None
        result: Any = None
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except AssertionError as exc:
            failure = exc
        if failure is None and result:
            return result
        if time.monotonic() >= deadline:
            if failure is not None:
                raise failure
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what} (last seen: {result!r})"
            )
        await asyncio.sleep(interval)
