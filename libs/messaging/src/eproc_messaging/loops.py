"""What every background loop of the messaging kit shares: being told to stop,
pausing in a way a stop cuts short, and backing off after a failure."""

from __future__ import annotations

import asyncio
import random


class StopSignal:
    """Tells a loop to end. ``set()`` from the loop's ``stop()``; the loop checks
    ``is_set()`` and pauses with :meth:`pause`, which a stop ends at once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; return whether it was stopped."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """The pause before retry number ``attempt`` (1, 2, …): ``base`` doubled at each
    attempt, at most ``cap``, with jitter (a random 50-100 %) so that instances
    failing together do not retry together."""
    return min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random() / 2)
