"""Structured logging: JSON lines on stdout, ids on every line of a request or submission, and a
masking processor that runs last before rendering so nothing unmasked can slip past it.

Standard-library loggers (aiohttp's access log, SQLAlchemy, Alembic) are routed through the same
processors, so their lines are JSON and masked too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.common.pii import mask_traceback, mask_value

__all__ = ["bind_ids", "configure_logging", "get_logger", "mask_processor"]


# Fields format_exc_info / StackInfoRenderer fill with multi-line text: masked per line, never whole.
_TRACEBACK_KEYS = frozenset({"exception", "stack"})


def mask_processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Mask personal data and bodies in every field, the message and formatted exceptions."""
    return {
        key: mask_traceback(value) if key in _TRACEBACK_KEYS and isinstance(value, str) else mask_value(key, value)
        for key, value in event_dict.items()
    }


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)
    return event_dict


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once (tests do)."""
    stream = stream or sys.stdout
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _drop_color_message,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    # Masking runs once, in the formatter, after every other processor: both structlog and stdlib
    # records pass through it and nothing is rendered without it.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, mask_processor, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # SQLAlchemy's echo and aiosqlite's debug chatter would print bound parameters (personal data).
    for noisy in ("sqlalchemy.engine", "aiosqlite", "asyncio", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.stdlib.get_logger(name)


def bind_ids(**ids: str | None) -> Mapping[str, Any]:
    """Bind request_id / submission_id for every following line in this task."""
    return structlog.contextvars.bind_contextvars(**{k: v for k, v in ids.items() if v is not None})


def _configure_default() -> None:
    """Before configure_logging runs (library use, tests), structlog's own default renders an
    exception with rich, locals included: slow (a refused database connection took 90 s to render
    on a loaded machine) and it would print local variables, personal data among them, unmasked.
    The default here is structlog's, with plain tracebacks and masking."""
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.processors.format_exc_info,
            mask_processor,
            structlog.dev.ConsoleRenderer(colors=False),
        ]
    )


_configure_default()
