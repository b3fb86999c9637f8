"""The decision form's context: which request, verdict and steward a modal was opened for, signed.

Slack hands a modal's `private_metadata` back with its submission, and anything that can post to our
endpoint with a valid signature (a client that edits the view, a replayed payload from another
steward's modal) chooses what comes back. So the context is bound to the request, the verdict, the
steward and their workspace, and signed: HMAC-SHA256 under a key derived with HKDF from the app's
encryption keys. Signed rather than stored server-side because every replica can check it with no
database write per click and no table to clean up; the keys rotate with `MPSLACK_ENCRYPTION_KEYS`
(the first key signs, any configured key verifies, so a form opened before a rotation still works).

The context stays readable JSON (`{"r": request, "c": channel, ..., "s": signature}`), so a listener
can tell a form that names no request from one whose signature is wrong without holding any key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from marketplace_slack.domain import Verdict

# Changing it invalidates every open form, on purpose: a new meaning needs a new label.
_INFO: Final = b"marketplace-slack/decision-form-context/v1"
SIGNATURE: Final = "s"


@dataclass(frozen=True, slots=True)
class FormContext:
    """What a decision form was opened for, as its signed context carries it back."""

    request_id: str
    verdict: Verdict
    team_id: str
    user_id: str
    channel: str | None = None
    message_ts: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "r": self.request_id,
            "v": self.verdict.value,
            "w": self.team_id,
            "u": self.user_id,
            "c": self.channel,
            "t": self.message_ts,
        }


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a consumer's request modal was opened for: who, in which workspace, and (once picked) the
    product, the kind and the form version its questions came from."""

    team_id: str
    user_id: str
    channel: str | None = None
    product_id: str | None = None
    kind: str | None = None
    form_version: str | None = None

    def fields(self) -> dict[str, Any]:
        # "v" is the decision forms' verdict; "request" there can never pass for a verdict here.
        return {
            "v": "request",
            "w": self.team_id,
            "u": self.user_id,
            "c": self.channel,
            "p": self.product_id,
            "k": self.kind,
            "f": self.form_version,
        }


class ContextSeal:
    """Signs and opens decision-form and request-modal contexts."""

    def __init__(self, keys: Sequence[SecretStr]) -> None:
        if isinstance(keys, SecretStr | str) or not keys:
            raise ValueError("a context seal takes a non-empty sequence of keys, newest first")
        self._keys = [_derive(key) for key in keys]

    @classmethod
    def ephemeral(cls) -> ContextSeal:
        """A seal with a random key: for a single process (tests), never for replicas sharing forms."""
        return cls([SecretStr(secrets.token_urlsafe(32))])

    def seal(self, context: FormContext) -> str:
        fields = context.fields()
        return json.dumps({**fields, SIGNATURE: _mac(self._keys[0], fields)}, separators=(",", ":"))

    def seal_request(self, context: RequestContext) -> str:
        fields = context.fields()
        return json.dumps({**fields, SIGNATURE: _mac(self._keys[0], fields)}, separators=(",", ":"))

    def open_request(self, raw: str | None, *, team_id: str, user_id: str) -> RequestContext | None:
        """The request modal's context, if this app signed it for this person and team; else None."""
        fields = self._verified(raw)
        if fields is None or (fields.get("w"), fields.get("u"), fields.get("v")) != (
            team_id,
            user_id,
            "request",
        ):
            return None

        def text(key: str) -> str | None:
            value = fields.get(key)
            return value if isinstance(value, str) and value else None

        return RequestContext(team_id, user_id, text("c"), text("p"), text("k"), text("f"))

    def _verified(self, raw: str | None) -> dict[str, Any] | None:
        fields = peek(raw)
        if fields is None:
            return None
        signature = fields.pop(SIGNATURE, None)
        if not isinstance(signature, str):
            return None
        if not any(hmac.compare_digest(signature, _mac(key, fields)) for key in self._keys):
            return None
        return fields

    def open(self, raw: str | None, *, team_id: str, user_id: str, verdict: Verdict) -> FormContext | None:
        """The context, if it is one this app signed for this steward, team and verdict; else None."""
        fields = self._verified(raw)
        if fields is None:
            return None
        if (fields.get("w"), fields.get("u"), fields.get("v")) != (team_id, user_id, verdict.value):
            return None  # a genuine context, but of someone else's form (or the other verdict's)
        request_id, channel, ts = fields.get("r"), fields.get("c"), fields.get("t")
        if not isinstance(request_id, str) or not request_id:
            return None
        return FormContext(
            request_id=request_id,
            verdict=verdict,
            team_id=team_id,
            user_id=user_id,
            channel=channel if isinstance(channel, str) else None,
            message_ts=ts if isinstance(ts, str) else None,
        )


def peek(raw: str | None) -> dict[str, Any] | None:
    """The context's fields, unverified: only to tell whether a form names a request at all."""
    try:
        value = json.loads(raw or "")
    except (json.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _derive(key: SecretStr) -> bytes:
    material = key.get_secret_value().strip().encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    # Canonical JSON: the same fields always sign to the same bytes, whatever order they arrive in.
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hmac.new(key, canonical.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
