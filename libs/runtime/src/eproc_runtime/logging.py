"""structlog configuration: JSON lines with the trace context, and a last line of
defence that masks anything shaped like a Belgian national number (R-NF-2)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from eproc_runtime.tracing import add_trace_ids

_ELEVEN_DIGITS = re.compile(
    r"(?<!\d)(\d{2})[.\s-]?(\d{2})[.\s-]?(\d{2})[.\s-]?(\d{3})[.\s-]?(\d{2})(?!\d)"
)


def _is_national_number(digits: str) -> bool:
    body, check = int(digits[:9]), int(digits[9:])
    return 97 - body % 97 == check or 97 - int("2" + digits[:9]) % 97 == check


def mask_national_numbers(text: str) -> str:
    """Replace every valid national number in ``text`` by a mask."""

    def replace(match: re.Match[str]) -> str:
        digits = "".join(match.groups())
        return "[national-number]" if _is_national_number(digits) else match.group(0)

    return _ELEVEN_DIGITS.sub(replace, text)


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = mask_national_numbers(value)
        elif isinstance(value, int) and not isinstance(value, bool) and len(str(value)) == 11:
            event_dict[key] = mask_national_numbers(str(value))
    return event_dict


def configure_logging(service: str, *, level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the standard library's logging for a service process."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
