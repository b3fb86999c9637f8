"""Deliver payloads to the app over HTTP exactly as Slack does: same encodings, headers and signature."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp

from marketplace_slack.infra.clock import Clock, SystemClock
from marketplace_slack_standins.fakeslack.payloads import encode_event, encode_form, encode_interaction
from marketplace_slack_standins.fakeslack.server import FakeSlack
from marketplace_slack_standins.fakeslack.signing import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

Forgery = Literal[
    "wrong_secret", "stale_timestamp", "missing_headers", "missing_signature", "missing_timestamp"
]

FORM = "application/x-www-form-urlencoded"
_SLACK_HEADERS = {
    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "Accept": "application/json,*/*",
    "Accept-Encoding": "gzip,deflate",
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the app answered: Slack itself gives up after 3 seconds (`elapsed`)."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackUserAgent:
    """Plays Slack's side of the Events/Interactivity request URL.

    With `slack=` (a running FakeSlack) every payload is first adopted by the fake, so trigger ids
    it carries open modals and its response_url reaches the fake instead of hooks.slack.com.
    """

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        slack: FakeSlack | None = None,
        clock: Clock | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.slack = slack
        self.clock: Clock = clock or SystemClock()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_interaction(
        self, payload: dict[str, Any], *, forge: Forgery | None = None, past_the_client: bool = False
    ) -> Delivery:
        """block_actions, view_submission, view_closed...: form field `payload` holding the JSON.
        `past_the_client`: what Slack's client would not send (a required input left empty)."""
        if self.slack is not None:
            payload = self.slack.adopt(payload, forged=past_the_client)
        delivery = await self.post(encode_interaction(payload), FORM, forge=forge)
        if self.slack is not None:
            self.slack.note_delivery(payload, delivery.status, delivery.body)
        return delivery

    async def send_slash_command(self, fields: dict[str, str], *, forge: Forgery | None = None) -> Delivery:
        if self.slack is not None:
            fields = self.slack.adopt(fields)
        return await self.post(encode_form(fields), FORM, forge=forge)

    async def send_event(self, body: dict[str, Any], *, forge: Forgery | None = None) -> Delivery:
        """Events API callbacks and url_verification: a raw JSON body."""
        if self.slack is not None:
            self.slack.note_event(body)
        return await self.post(encode_event(body), "application/json", forge=forge)

    async def post(self, body: bytes, content_type: str, *, forge: Forgery | None = None) -> Delivery:
        """Sign `body` (the exact bytes sent) and POST it; `forge` breaks the signature on purpose."""
        headers = {**_SLACK_HEADERS, "Content-Type": content_type, **self._signature(body, forge)}
        started = time.perf_counter()
        if self._session is not None:
            return await self._send(self._session, body, headers, started)
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            return await self._send(session, body, headers, started)

    def _signature(self, body: bytes, forge: Forgery | None) -> dict[str, str]:
        timestamp = int(self.clock.now().timestamp())
        if forge == "stale_timestamp":
            timestamp -= MAX_SKEW_SECONDS + 60
        secret = self.signing_secret + "-forged" if forge == "wrong_secret" else self.signing_secret
        headers = sign(secret, body, timestamp)
        if forge in ("missing_headers", "missing_signature"):
            del headers[SIGNATURE_HEADER]
        if forge in ("missing_headers", "missing_timestamp"):
            del headers[TIMESTAMP_HEADER]
        return headers

    async def _send(
        self, session: aiohttp.ClientSession, body: bytes, headers: dict[str, str], started: float
    ) -> Delivery:
        async with session.post(self.events_url, data=body, headers=headers) as response:
            text = await response.text()
            return Delivery(response.status, text, dict(response.headers), time.perf_counter() - started)
