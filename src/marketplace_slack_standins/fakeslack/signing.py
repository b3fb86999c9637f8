"""Sign requests exactly as Slack does (https://docs.slack.dev/authentication/verifying-requests-from-slack/)."""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# Receivers (slack-sdk's SignatureVerifier, Bolt) reject timestamps further than this from their clock.
MAX_SKEW_SECONDS = 300


def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app, over the exact bytes on the wire.

    The signature comes from the same slack-sdk code the app's receiver verifies with, so the stand-in
    cannot drift from what Bolt accepts.
    """
    stamp = str(timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None  # slack-sdk returns None only for a missing timestamp
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature}
