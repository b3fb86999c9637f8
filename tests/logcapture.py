"""A logging handler that keeps every record, as a handler the app never configured would see it."""

from __future__ import annotations

import json
import logging


class Capture(logging.Handler):
    """Every record at every level, formatted, and every attribute of each: a handler added after
    start-up (so without the app's filter) sees this; only the record factory and the loggers' levels
    stand between it and a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def everything(self) -> str:
        fields = [{key: repr(value) for key, value in r.__dict__.items()} for r in self.records]
        return "\n".join(self.lines) + json.dumps(fields)

    def of(self, prefix: str) -> list[str]:
        """The formatted lines of the loggers named `prefix` or below it."""
        return [line for line, r in zip(self.lines, self.records, strict=True) if r.name.startswith(prefix)]
