"""Structured JSON logs (structlog) that carry the current trace and span ids.

Every log line is one JSON object on stderr with ``service``, ``level``, ``timestamp``,
``event`` and, inside a span, ``trace_id`` and ``span_id`` in W3C hex form, so a line
can be joined with its trace. A last processor masks anything that looks like a NIK or
KK number (16 digits): personal numbers must never reach a log, even by mistake.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
MASK = "****************"


def mask_personal_numbers(text: str) -> str:
    """Replace every free-standing 16-digit number (NIK, KK) with a mask."""
    return _SIXTEEN_DIGITS.sub(MASK, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 16:
        return MASK
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask personal numbers in every value of the line."""
    for key, value in event_dict.items():
        event_dict[key] = _redact(value)
    return event_dict


def trace_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add the current OpenTelemetry trace and span ids."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


class _Stderr:
    """Whatever ``sys.stderr`` is at the moment of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Configure structlog (and the standard library's root logger) for one process."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        trace_processor,
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared,
            lambda _l, _n, ed: {"service": service, **ed},
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Libraries that log through the standard library (aiokafka, uvicorn) go through
    # the same processors, so their lines are JSON with trace ids too.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, lambda _l, _n, ed: {"service": service, **ed}],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; ``name`` ends up in the line as ``component``."""
    return structlog.get_logger() if name is None else structlog.get_logger(component=name)
