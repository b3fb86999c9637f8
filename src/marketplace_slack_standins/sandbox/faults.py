"""Faults on demand and request counting, as one aiohttp middleware in front of the vendor paths.

``failNext`` fails the next N matching requests deterministically; ``errorRate`` fails a share
drawn from a seeded RNG; ``latencyMs`` delays every matching response. 429s carry Retry-After.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field

from marketplace_slack_standins.sandbox.errors import error_body

CONTROL_PREFIX = "/_sandbox"
API_PREFIX = "/marketplace"


class FaultSettings(BaseModel):
    """The body of ``PUT /_sandbox/faults``; keys may also be given in snake_case in-process."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    latency_ms: int = Field(0, alias="latencyMs", ge=0, le=60_000)
    error_rate: float = Field(0.0, alias="errorRate", ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [500, 503], alias="errorStatuses", min_length=1)
    fail_next: int = Field(0, alias="failNext", ge=0)
    fail_status: int = Field(503, alias="failStatus", ge=400, le=599)
    retry_after: int = Field(1, alias="retryAfter", ge=0)
    path_prefix: str = Field("/marketplace/api", alias="pathPrefix")


class Faults:
    def __init__(self, *, seed: int = 7) -> None:
        self._seed = seed
        self.settings = FaultSettings()
        self.remaining_failures = 0
        self._rng = random.Random(f"faults-{seed}")

    def set(self, **settings: Any) -> FaultSettings:
        """Replace the fault settings (unnamed ones fall back to their defaults)."""
        self.settings = FaultSettings.model_validate(settings)
        self.remaining_failures = self.settings.fail_next
        self._rng = random.Random(f"faults-{self._seed}")  # the same settings fail the same requests
        return self.settings

    def clear(self) -> None:
        self.set()

    def wire(self) -> dict[str, Any]:
        return {**self.settings.model_dump(by_alias=True), "failNext": self.remaining_failures}

    def verdict(self, path: str) -> tuple[float, int | None]:
        """Seconds to delay and the status to fail with (None: answer normally) for one request."""
        s = self.settings
        if not path.startswith(s.path_prefix):
            return 0.0, None
        delay = s.latency_ms / 1000
        if self.remaining_failures > 0:
            self.remaining_failures -= 1
            return delay, s.fail_status
        if s.error_rate > 0 and self._rng.random() < s.error_rate:
            return delay, self._rng.choice(s.error_statuses)
        return delay, None


class Stats:
    """Requests per ``METHOD /route`` (route templates without the /marketplace prefix)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def record(self, key: str) -> None:
        self.counts[key] += 1

    def reset(self) -> None:
        self.counts.clear()

    def wire(self) -> dict[str, Any]:
        return {"total": self.total, "routes": dict(sorted(self.counts.items()))}


def route_key(request: web.Request) -> str:
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    return f"{request.method} {path.removeprefix(API_PREFIX)}"


def fault_response(status: int, retry_after: int) -> web.Response:
    response = web.json_response(
        error_body(status, "Fault injected by the Marketplace sandbox"), status=status
    )
    if status == 429:
        response.headers["Retry-After"] = str(retry_after)
    return response


def middleware(faults: Faults, stats: Stats) -> Middleware:
    @web.middleware
    async def faults_and_stats(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        stats.record(route_key(request))
        delay, status = faults.verdict(request.path)
        if delay:
            await asyncio.sleep(delay)
        if status is not None:
            return fault_response(status, faults.settings.retry_after)
        return await handler(request)

    return faults_and_stats
