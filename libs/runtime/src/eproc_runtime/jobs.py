"""Background jobs a service runs alongside its API, declared to ``create_service_app``.

A job is anything with ``async run()`` (loops until stopped) and ``stop()``
(asks the loop to end soon). The service app creates each declared job once
its database and messaging are up, runs it as a task named after the job,
and at shutdown stops it, waits for it to finish its batch, and only then
closes the database::

    create_service_app(
        settings, ...,
        jobs=[Job("request-reminders", lambda state: ReminderJob(state.sessions, ...))],
    )

A job that repeats one batch of work on a timer subclasses :class:`PeriodicJob`
and writes only ``run_once``.

Every instance of a service runs its jobs; a job that must not run twice at
once claims its work (``FOR UPDATE SKIP LOCKED``, row claims) instead of
relying on being alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from eproc_messaging.loops import StopSignal

if TYPE_CHECKING:
    from eproc_runtime.app import ServiceState

log = structlog.get_logger(__name__)


class BackgroundJob(Protocol):
    """What the app runs: ``run`` loops until ``stop`` is called."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Job:
    """A job declared to the app: its task name, and how to build it from the running service."""

    name: str
    create: Callable[[ServiceState], BackgroundJob]


class PeriodicJob:
    """A job that does one batch of work every ``interval`` seconds until stopped.

    Subclasses write ``run_once()`` (one batch in its own transaction, returning
    how many items it handled). A batch of ``full_batch`` items or more is followed
    at once by the next (there is more); a failed batch is logged and tried again
    at the next turn, so the job outlives a database outage. ``stop()`` ends the
    pause at once; the batch in hand finishes first.
    """

    def __init__(self, *, interval: float, full_batch: int | None = None) -> None:
        self.interval = interval
        self.full_batch = full_batch
        self._stopping = StopSignal()

    async def run_once(self) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
            except Exception:  # the job must outlive a database outage; it tries again
                log.exception("background job batch failed; retrying", job=type(self).__name__)
                handled = 0
            if self.full_batch is None or handled < self.full_batch:
                await self._stopping.pause(self.interval)

    def stop(self) -> None:
        self._stopping.set()


@asynccontextmanager
async def running(
    jobs: Iterable[tuple[str, BackgroundJob]], *, stop_timeout: float = 10.0
) -> AsyncIterator[None]:
    """Run each ``(name, job)`` as a task for the duration of the block.

    On exit every job is asked to stop and given ``stop_timeout`` seconds to
    finish what it holds; one that does not is cancelled. A job that ends by
    itself with an error is logged (loudly) when it happens.
    """
    started: list[tuple[BackgroundJob, asyncio.Task[None]]] = []
    for name, job in jobs:
        task = asyncio.create_task(job.run(), name=name)
        task.add_done_callback(_report_crash)
        started.append((job, task))
    try:
        yield
    finally:
        for job, _ in started:
            job.stop()
        for _, task in started:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=stop_timeout)
            except TimeoutError:
                log.error("background job did not stop in time; cancelled", job=task.get_name())
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
            except Exception:  # noqa: S110 - already logged by _report_crash when it ended
                pass


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background job crashed", job=task.get_name(), exc_info=task.exception())
