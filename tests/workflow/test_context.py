"""The decision form's signed context: bound to request, verdict, steward and team; keys rotate."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet
from pydantic import SecretStr

from marketplace_slack.domain import Verdict
from marketplace_slack.workflow.context import ContextSeal, FormContext, peek

OLD, NEW = (SecretStr(Fernet.generate_key().decode()) for _ in range(2))
FORM = FormContext("req-1", Verdict.APPROVE, "T0TEAM", "U0SARA", "C0CARDS", "1700000000.000001")


def _open(seal: ContextSeal, raw: str, **who: str) -> FormContext | None:
    return seal.open(
        raw,
        team_id=who.get("team_id", "T0TEAM"),
        user_id=who.get("user_id", "U0SARA"),
        verdict=Verdict(who.get("verdict", "APPROVE")),
    )


def test_a_sealed_context_opens_for_its_steward_team_and_verdict_only() -> None:
    seal = ContextSeal([NEW])
    raw = seal.seal(FORM)
    assert _open(seal, raw) == FORM
    assert _open(seal, raw, user_id="U0OMAR") is None
    assert _open(seal, raw, team_id="T0OTHER") is None
    assert _open(seal, raw, verdict="DENY") is None
    assert peek(raw) is not None and peek(raw)["r"] == "req-1"  # type: ignore[index]


def test_rotation_signs_with_the_first_key_and_opens_with_any() -> None:
    before = ContextSeal([OLD]).seal(FORM)
    rotated = ContextSeal([NEW, OLD])
    assert _open(rotated, before) == FORM  # a form opened before the rotation still submits
    assert _open(ContextSeal([NEW]), rotated.seal(FORM)) == FORM
    assert _open(ContextSeal([NEW]), before) is None  # the old key retired: its forms are refused


def test_the_signature_covers_every_field_and_nothing_depends_on_their_order() -> None:
    seal = ContextSeal([NEW])
    fields = json.loads(seal.seal(FORM))
    reordered = json.dumps(dict(reversed(list(fields.items()))))
    assert _open(seal, reordered) == FORM
    for name, value in [("r", "req-2"), ("c", "C0OTHER"), ("t", "1.2"), ("c", None)]:
        assert _open(seal, json.dumps({**fields, name: value})) is None, name
    assert _open(seal, json.dumps({**fields, "x": "extra"})) is None


def test_the_signing_key_is_derived_not_the_encryption_key_itself() -> None:
    import base64
    import hashlib
    import hmac

    fields = json.loads(ContextSeal([NEW]).seal(FORM))
    signature = fields.pop("s")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    raw_key = NEW.get_secret_value().encode()
    direct = base64.urlsafe_b64encode(hmac.new(raw_key, canonical, hashlib.sha256).digest()).decode()
    assert signature != direct.rstrip("=")
