"""Errors as the Marketplace reports them: NestJS-style JSON with the status, a message and the phrase."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class SandboxError(Exception):
    """A refusal the API reports to the caller; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> SandboxError:
    return SandboxError(400, message)


def forbidden(message: str) -> SandboxError:
    return SandboxError(403, message)


def not_found(message: str) -> SandboxError:
    return SandboxError(404, message)


def conflict(message: str) -> SandboxError:
    return SandboxError(409, message)


def error_body(status: int, message: str) -> dict[str, Any]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"statusCode": status, "message": message, "error": phrase}
