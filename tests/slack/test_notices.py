"""Reminders, escalations, digests and expiry notices: golden files, Slack's limits and hostile data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from marketplace_slack.domain import Approver, Person, RequestKind
from marketplace_slack.slack import ids
from marketplace_slack.slack.digest import (
    GROUPS_SHOWN_MAX,
    LINES_PER_GROUP_MAX,
    render_digest,
    visible_entries,
)
from marketplace_slack.slack.expiry import expiry_message
from marketplace_slack.slack.reminders import escalation_message, reminder_message
from marketplace_slack.workflow.ports import (
    Digest,
    DigestEntry,
    EscalationNote,
    ExpiryNote,
    MessageRef,
    ReminderNote,
    age_words,
)
from marketplace_slack_standins.fakeslack.blockkit import validate_message

from .golden import assert_golden
from .hostile import EMOJI, HOSTILE, INJECTIONS, forged_formatting

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
RICK = Person("u-rick", "rmoreno", "Rick Moreno", "rick@example.com", slack_user_id="U0RICK")
SARA = Approver("USER", "Sara Stone", "u-sara")
OMAR = Approver("USER", "Omar Haddad", "u-omar")
STEWARDS = Approver("GROUP", "Finance Stewards", "7")
CARD_URL = "https://marketplace-demo.slack.com/archives/C0STEWARDS/p1795000000000100"
MARKETPLACE_URL = "https://app.example.com/marketplace/data-product/dp-1/details"


def reminder(**changes: object) -> ReminderNote:
    note = ReminderNote(
        request_id="req-1",
        record_id="rec-2",
        product_name="Sales Pipeline",
        kind=RequestKind.DATA_ACCESS,
        requester=RICK,
        waiting_since=NOW - timedelta(hours=5),
        recipients=("U0SARA", "U0OMAR"),
        number=2,
        step_number=2,
        steps_total=2,
        card_url=CARD_URL,
        marketplace_url=MARKETPLACE_URL,
    )
    return replace(note, **changes)  # type: ignore[arg-type]


def escalation(**changes: object) -> EscalationNote:
    note = EscalationNote(
        request_id="req-1",
        record_id="rec-2",
        product_name="Finance Ledger",
        kind=RequestKind.DATA_ACCESS,
        requester=RICK,
        waiting_since=NOW - timedelta(days=3, hours=2),
        reminders=3,
        not_acted=("Gina Rossi", "Farah Nasser"),
        approvers=(STEWARDS,),
        usergroup="S0STEWARDS",
        card_url=CARD_URL,
        marketplace_url=MARKETPLACE_URL,
    )
    return replace(note, **changes)  # type: ignore[arg-type]


def entry(n: int, product: str, *, hours: float, **changes: object) -> DigestEntry:
    base = DigestEntry(
        request_id=f"req-{n}",
        product_id=f"dp-{product}",
        product_name=product,
        requester=f"Requester {n}",
        created_at=NOW - timedelta(hours=hours),
        risk="LOW",
        waiting_for=(SARA, OMAR),
        card=MessageRef("C0STEWARDS", f"1795000000.{n:06d}"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def expiry(**changes: object) -> ExpiryNote:
    note = ExpiryNote(
        request_id="req-9",
        product_id="dp-1",
        product_name="Sales Pipeline",
        kind=RequestKind.DATA_ACCESS,
        expires_at=NOW + timedelta(days=7),
        timezone="Europe/Berlin",
        request_again_url="https://app.example.com/marketplace/data-product/dp-1/request-access?type=data-access",
        marketplace_url=MARKETPLACE_URL,
    )
    return replace(note, **changes)  # type: ignore[arg-type]


def _json(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _assert_no_injection(payload: object) -> None:
    text = _json(payload)
    for injection in INJECTIONS:
        assert injection not in text, f"{injection!r} survived unescaped"
    assert forged_formatting(payload) == []
    text.encode("utf-8")


# --- golden ---------------------------------------------------------------------------------------


def test_reminder_in_the_thread_mentions_the_recipients_and_offers_snooze() -> None:
    card = reminder_message(reminder(), now=NOW, in_thread=True)
    assert validate_message(card.as_message()) == []
    assert card.text.startswith("<@U0SARA> <@U0OMAR> ")  # the notification pings, unlike a card's
    body = _json(card.blocks)
    assert "waiting 5 hours" in body and "stage 2 of 2" in body
    assert ids.SNOOZE_1D in body and ids.SNOOZE_3D in body and ids.VIEW_REQUEST not in body
    assert_golden("reminder_thread", card.as_message())


def test_reminder_as_a_dm_names_the_request_and_links_the_card() -> None:
    card = reminder_message(
        reminder(recipients=("U0SARA",), step_number=1, steps_total=1), now=NOW, in_thread=False
    )
    assert validate_message(card.as_message()) == []
    assert "<@" not in card.text
    assert CARD_URL in _json(card.blocks) and "Rick Moreno's request for access to *Sales Pipeline*" in _json(
        card.blocks
    )
    assert_golden("reminder_dm", card.as_message())


def test_a_notify_only_reminder_points_to_the_marketplace() -> None:
    note = replace(reminder(recipients=("U0SARA",), step_number=1, steps_total=1), notify_only=True)
    card = reminder_message(note, now=NOW, in_thread=False)
    assert validate_message(card.as_message()) == []
    body = _json(card.blocks)
    assert "for your decision in the Marketplace." in body
    [actions] = [b for b in card.blocks if b["type"] == "actions"]
    first = actions["elements"][0]
    assert (first["action_id"], first["text"]["text"], first["style"]) == (
        ids.OPEN_IN_MARKETPLACE,
        "Review in Marketplace",
        "primary",
    )
    assert [e["action_id"] for e in actions["elements"]].count(ids.OPEN_IN_MARKETPLACE) == 1
    assert_golden("reminder_notify_only", card.as_message())
    escalated = escalation_message(replace(escalation(), notify_only=True), now=NOW)
    assert "Review in Marketplace" in _json(escalated.blocks)


def test_escalation_names_who_has_not_acted_and_mentions_the_group() -> None:
    card = escalation_message(escalation(), now=NOW)
    assert validate_message(card.as_message()) == []
    body = _json(card.blocks)
    assert "Gina Rossi, Farah Nasser" in body and "<!subteam^S0STEWARDS>" in body
    assert "<@" not in body  # named, not pinged
    assert "3 days" in body and "after 3 reminders" in body
    assert_golden("escalation", card.as_message())


def test_digest_groups_by_product_oldest_first_with_totals() -> None:
    digest = Digest(
        entries=(
            entry(1, "Sales Pipeline", hours=5),
            entry(
                2,
                "Finance Ledger",
                hours=80,
                risk="HIGH",
                waiting_for=(STEWARDS,),
                step_number=1,
                steps_total=2,
            ),
            entry(3, "Sales Pipeline", hours=30, url=CARD_URL),
            entry(4, "Finance Ledger", hours=2, risk=None, waiting_for=()),
        )
    )
    card = render_digest(digest, now=NOW)
    assert validate_message(card.as_message()) == []
    body = _json(card.blocks)
    # Finance Ledger holds the oldest request, so it comes first; within it, oldest first.
    assert body.index("Finance Ledger") < body.index("Sales Pipeline")
    assert body.index("Requester 2") < body.index("Requester 4")
    assert body.index("Requester 3") < body.index("Requester 1")
    assert "4 waiting* across 2 data products" in body and "1 high risk" in body
    assert f"<{CARD_URL}|Requester 3>" in body
    assert_golden("digest", card.as_message())


def test_expiry_notice_shows_the_time_in_the_members_zone_and_a_request_again_button() -> None:
    card = expiry_message(expiry(), now=NOW)
    assert validate_message(card.as_message()) == []
    body = _json(card.blocks)
    assert "ends in 7 days" in body
    held_back = expiry_message(expiry(), now=NOW + timedelta(hours=7))  # waited for the member's morning
    assert "ends in 7 days" in held_back.text
    assert "ends in 18 hours" in expiry_message(expiry(), now=NOW + timedelta(days=6, hours=6)).text
    assert "2026-12-01 14:00 CET" in body  # 13:00 UTC in Berlin, in the date token's fallback
    assert ids.REQUEST_AGAIN_OPEN in body  # opens the request modal here, prefilled
    assert_golden("expiry_notice", card.as_message())


# --- limits and hostile data ----------------------------------------------------------------------


def test_digest_of_500_requests_summarises_what_does_not_fit() -> None:
    products = [f"Product {p:02d}" for p in range(30)]
    entries = tuple(entry(n, products[n % 30], hours=1 + n) for n in range(500))
    digest = Digest(entries=entries)
    card = render_digest(digest, now=NOW)
    assert validate_message(card.as_message()) == []
    body = _json(card.blocks)
    assert "500 access requests waiting" in card.text
    assert "*500 waiting* across 30 data products" in body
    shown = visible_entries(digest)
    assert len(shown) == GROUPS_SHOWN_MAX * LINES_PER_GROUP_MAX
    # Groups are ordered by their oldest request: Product 19 holds request 499, the oldest.
    assert shown[0].request_id == "req-499" and shown[0].product_name == "Product 19"
    assert all(f"Requester {e.request_id[4:]}" in body for e in shown)
    hidden_products = 30 - GROUPS_SHOWN_MAX
    hidden_requests = sum(1 for e in entries if e.product_name not in {s.product_name for s in shown})
    assert f"…and {hidden_requests} more in {hidden_products} other data products" in body
    assert "…and 12 more in Product 19" in body  # 17 in the group, 5 shown


def test_digest_with_one_huge_product_and_hostile_names_stays_valid() -> None:
    long = HOSTILE * 40
    entries = tuple(
        entry(
            n, long, hours=n + 1, requester=long, waiting_for=(Approver("GROUP", long, "g"),) * 9, risk=long
        )
        for n in range(500)
    )
    card = render_digest(Digest(entries=entries), now=NOW)
    assert validate_message(card.as_message()) == []
    _assert_no_injection(card.as_message())
    assert "more in" in _json(card.blocks)


@pytest.mark.parametrize("recipients", [("U0SARA",), tuple(f"U{n:08d}" for n in range(200)), ("not-an-id",)])
def test_hostile_reminders_escalations_and_notices_stay_valid_and_inert(recipients: tuple[str, ...]) -> None:
    person = Person("u-x", HOSTILE, HOSTILE * 20, "x@example.com")
    payloads = [
        reminder_message(
            reminder(product_name=HOSTILE * 50, requester=person, recipients=recipients),
            now=NOW,
            in_thread=True,
        ),
        reminder_message(
            reminder(product_name=EMOJI + HOSTILE, requester=person, card_url="javascript:x"),
            now=NOW,
            in_thread=False,
        ),
        escalation_message(
            escalation(
                product_name=HOSTILE * 50,
                requester=person,
                not_acted=(HOSTILE * 10,) * 50,
                approvers=(Approver("ATTRIBUTE", HOSTILE, "k=v"),) * 20,
                usergroup="<!channel>",
            ),
            now=NOW,
        ),
        expiry_message(
            expiry(product_name=HOSTILE * 50, timezone="Not/AZone", request_again_url=None), now=NOW
        ),
    ]
    for card in payloads:
        assert validate_message(card.as_message()) == [], card.as_message()
        _assert_no_injection(card.as_message())
    assert "javascript" not in _json(payloads[1].blocks)
    assert EMOJI.split()[0] in _json(payloads[1].blocks)  # the DM names the product, emoji intact


def test_an_empty_digest_says_so() -> None:
    card = render_digest(Digest(entries=()), now=NOW)
    assert validate_message(card.as_message()) == [] and "No access requests" in card.text


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=30), "0 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=1, minutes=5), "1 hour"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(days=12, hours=23), "12 days"),
        (timedelta(hours=-3), "0 minutes"),
    ],
)
def test_age_words(delta: timedelta, words: str) -> None:
    assert age_words(delta) == words
