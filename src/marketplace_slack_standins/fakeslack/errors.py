"""How the fake refuses a call: Slack's error names, and a record of every limit the app broke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A Web API refusal; `body()` is what Slack puts on the wire (HTTP 200, ok=false)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True, slots=True)
class Violation:
    """A request Slack would reject for breaking its limits; tests assert there are none."""

    method: str
    surface: str
    problems: tuple[str, ...]


def invalid_arguments(*messages: str) -> ApiError:
    # Slack explains schema problems in response_metadata, each line tagged [ERROR].
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})
