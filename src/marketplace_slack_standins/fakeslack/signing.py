"""Sign requests exactly as Slack does (https://docs.slack.dev/authentication/verifying-requests-from-slack/)."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# Receivers (slack-sdk's SignatureVerifier, Bolt) reject timestamps further than this from their clock.
MAX_SKEW_SECONDS = 300


def signature(signing_secret: str, body: bytes, timestamp: int) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, over the exact bytes that go on the wire."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(signing_secret, body, timestamp),
    }
