"""The one business error of this service the runtime's kit does not name.

Everything else a use case refuses is an ``eproc_runtime.errors`` error
(``NotFound``, ``Forbidden``, ``Conflict``, ``Invalid``), answered by the
runtime's one handler.
"""

from __future__ import annotations

from eproc_contracts.events import RefusalReason
from eproc_runtime.errors import Conflict


class ChangeRefused(Conflict):
    """A membership change the rules forbid (R-REQ-8 and friends), with the reason code the
    ``membership.change-refused`` event carries when it happens at apply time."""

    def __init__(self, reason: RefusalReason, message: str, *, field: str | None = None) -> None:
        super().__init__(reason.value, message, field=field)
        self.reason = reason
