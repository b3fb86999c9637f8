"""Structured logs, and the redaction every log line passes, whoever wrote it.

The app logs through structlog, which renders to standard output by itself; Bolt, slack_sdk, httpx and
aiohttp log through `logging`. Both pass `redaction.shared()`: structlog as a processor before the
renderer, `logging` in the record factory (every record of every logger, whichever handler takes it)
and in a filter on the root's handlers (the `extra` fields, which are set after the factory). The
libraries are capped at INFO: at DEBUG they log request bodies, socket frames and API answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any, Final

import structlog

from marketplace_slack.infra.redaction import REDACTED, Redactor, names_secret, shared

# Their DEBUG records carry whole payloads (Bolt, slack_sdk's socket frames and Web API calls),
# headers (httpx, httpcore) or query parameters (aiosqlite, asyncpg): never below INFO, whatever
# MPSLACK_LOG_LEVEL says.
LIBRARIES: Final = (
    "slack_bolt",
    "slack_sdk",
    "httpx",
    "httpcore",
    "aiohttp",
    "websockets",
    "aiosqlite",
    "asyncpg",
)
LIBRARY_FLOOR: Final = logging.INFO

# What every LogRecord has; anything else on one came from `extra=`.
_UNREDACTABLE: Final = "[a log record withheld: it could not be redacted]"
_RECORD_FIELDS: Final = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def redact_event(redactor: Redactor) -> Processor:
    """A structlog processor: every value of the event (the formatted exception included) redacted."""

    def processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            event[key] = REDACTED if names_secret(key) else redactor.value(value)
        return event

    return processor


def redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Redact a record in place: its message formatted and redacted (the arguments then go), its
    exception and stack formatted and redacted (the live exception goes: its arguments may hold a
    secret a handler would print), and what `extra=` put on it. Redacting twice changes nothing."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string; logging would print both parts
        message = f"{record.msg} {record.args!r}"
    record.msg = redactor.text(message)
    record.args = None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redactor.text(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.text(record.stack_info)
    for key in set(record.__dict__) - _RECORD_FIELDS:
        record.__dict__[key] = REDACTED if names_secret(key) else redactor.value(record.__dict__[key])


class _RedactingFactory:
    def __init__(self, base: Callable[..., logging.LogRecord], redactor: Redactor) -> None:
        self.base = base
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        try:
            redact_record(record, self.redactor)
        except Exception:  # noqa: BLE001 - a log call must not raise, nor print what it could not redact
            record.msg, record.args, record.exc_info, record.exc_text = _UNREDACTABLE, None, None, None
            record.stack_info = None
        return record


class RedactingFilter(logging.Filter):
    """On a handler: drops the libraries' records below `LIBRARY_FLOOR` (Bolt copies the root's level
    onto loggers it makes, so a level set on `slack_bolt` alone does not hold) and redacts the rest,
    including what was set after the record factory ran."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < LIBRARY_FLOOR and is_library(record.name):
            return False
        redact_record(record, self.redactor)
        return True


def is_library(name: str) -> bool:
    return any(name == library or name.startswith(f"{library}.") for library in LIBRARIES)


def install_redaction(redactor: Redactor, level: int) -> None:
    """Redact every `logging` record from now on and cap the libraries' loggers. Idempotent."""
    base = logging.getLogRecordFactory()
    if isinstance(base, _RedactingFactory):
        base = base.base
    logging.setLogRecordFactory(_RedactingFactory(base, redactor))
    for handler in logging.root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redactor))
    floor = max(LIBRARY_FLOOR, level)
    for library in LIBRARIES:
        logging.getLogger(library).setLevel(floor)
    # Loggers the libraries made already, with a level of their own copied from the root.
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and is_library(name) and logger.level != logging.NOTSET:
            logger.setLevel(max(logger.level, floor))


def uninstall_redaction() -> None:
    """Undo `install_redaction`'s factory and filters (tests)."""
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(factory.base)
    for handler in logging.root.handlers:
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Logs at `level` to standard output (structlog) and standard error (`logging`), redacted."""
    redactor = shared()
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_event(redactor),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, format="%(message)s")
    logging.root.setLevel(level)  # basicConfig does nothing when the root has a handler already
    install_redaction(redactor, logging.getLevelName(level))
