"""Requests are signed exactly as Slack signs them."""

from __future__ import annotations

import json
from pathlib import Path

from slack_sdk.signature import Clock, SignatureVerifier

from marketplace_slack_standins.fakeslack.signing import sign

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_matches_slacks_published_example() -> None:
    body = (PAYLOADS / "slash_command_signed.form").read_bytes()
    published = json.loads((PAYLOADS / "slash_command_signed.headers.json").read_text())
    timestamp = int(published["headers"]["X-Slack-Request-Timestamp"])

    headers = sign(published["signing_secret"], body, timestamp)

    assert headers == {
        "X-Slack-Request-Timestamp": published["headers"]["X-Slack-Request-Timestamp"],
        "X-Slack-Signature": published["headers"]["X-Slack-Signature"],
    }


def test_slack_sdks_verifier_accepts_our_signature_and_rejects_tampering() -> None:
    body = b"payload=%7B%22type%22%3A%20%22block_actions%22%7D"
    timestamp = 1_800_000_000
    headers = sign("s3cr3t", body, timestamp)

    verifier = SignatureVerifier("s3cr3t", clock=FixedClock(timestamp + 30))
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"x", headers)
    assert not SignatureVerifier("other", clock=FixedClock(timestamp)).is_valid_request(body, headers)
    # Receivers refuse anything more than five minutes old.
    late = SignatureVerifier("s3cr3t", clock=FixedClock(timestamp + 301))
    assert not late.is_valid_request(body, headers)
