"""App Home and the "my requests" message: what a person sees of their own requests, and Slack's limits."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    Person,
    RecordStatus,
    RequestStatus,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.home import home_view, requests_message
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import HomeSnapshot
from marketplace_slack.workflow.sentences import Outcome, Sentence
from marketplace_slack_standins.fakeslack.blockkit import validate_blocks, validate_message, validate_view

from .factories import (
    CREATED,
    NOW,
    approved_with_expiration,
    canceled,
    denied,
    pending_data_access,
    sequential_stages,
)
from .hostile import HOSTILE, assert_inert

EXPIRES = NOW + timedelta(days=60)
UNREACHABLE = Sentence(Outcome.MARKETPLACE_UNREACHABLE, "The Marketplace is not answering right now.")
_MORE = re.compile(r"… and ([\d,]+) more")


def _waiting() -> AccessRequest:
    return replace(sequential_stages().request, id="req-wait")


def _pending() -> AccessRequest:
    return replace(pending_data_access().request, id="req-mine", product_name="Sales Pipeline")


def _snapshot(**changes: Any) -> HomeSnapshot:
    full = HomeSnapshot(
        now=NOW,
        linked_as="nquinn",
        link_expires_at=EXPIRES,
        waiting_on_me=(_waiting(),),
        my_pending=(_pending(),),
        my_recent=(
            replace(denied().request, id="req-denied"),
            replace(canceled().request, id="req-canceled"),
        ),
        my_access=(
            replace(approved_with_expiration().request, id="req-granted"),
            replace(approved_with_expiration().request, id="req-forever", expiration=None),
        ),
    )
    return replace(full, **changes)


def _home_problems(view: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a Home view. `validate_view` knows modals only, so the view is checked
    as the modal it would be (same blocks, same 100-block limit), and its own type and blocks as the
    stand-in's `views.publish` checks them."""
    problems = [] if view["type"] == "home" else [f"type {view['type']!r}"]
    problems += validate_blocks(view["blocks"], surface="modal")
    as_modal = {**view, "type": "modal", "title": {"type": "plain_text", "text": "Home"}}
    return problems + validate_view(as_modal)


def _text(block: dict[str, Any]) -> str:
    """Every text a block shows, joined: its own, its elements' and its accessory's."""
    return json.dumps(block, ensure_ascii=False)


def _buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        for element in [block.get("accessory"), *block.get("elements", [])]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                found.append(element)
    return found


def _index(blocks: list[dict[str, Any]], needle: str) -> int:
    return next(i for i, b in enumerate(blocks) if needle in _text(b))


def _mores(blocks: list[dict[str, Any]]) -> list[int]:
    lines = [_text(b) for b in blocks if b["type"] == "context"]
    return [int(m.group(1).replace(",", "")) for line in lines for m in _MORE.finditer(line)]


# --- layout ---------------------------------------------------------------------------------------


def test_home_shows_its_sections_in_order() -> None:
    view = home_view(_snapshot())
    blocks = view["blocks"]
    assert view["type"] == "home"
    assert blocks[0]["type"] == "header"
    order = [
        _index(blocks, ids.START_REQUEST),
        _index(blocks, "Linked to the Marketplace"),
        _index(blocks, "*Waiting on me* (1)"),
        _index(blocks, "*My requests* (1)"),
        _index(blocks, "*Recent outcomes*"),
        _index(blocks, "*My access* (2)"),
    ]
    assert order == sorted(order)
    assert _home_problems(view) == []


def test_request_data_access_button_opens_an_empty_request() -> None:
    [start] = _buttons(home_view(_snapshot())["blocks"], ids.START_REQUEST)
    assert start["value"] == ""
    assert start["text"]["text"] == "Request data access"


def test_waiting_on_me_carries_the_cards_buttons_and_says_where_the_request_is() -> None:
    blocks = home_view(_snapshot())["blocks"]
    [approve], [deny] = _buttons(blocks, ids.APPROVE), _buttons(blocks, ids.DENY)
    assert (approve["value"], approve["style"]) == ("req-wait", "primary")
    assert (deny["value"], deny["style"]) == ("req-wait", "danger")
    [actions] = [b for b in blocks if b["type"] == "actions"]
    # The card's listeners register on this block id pattern; the home buttons must match it.
    assert ids.matching(ids.CARD_ACTIONS_BLOCK).match(actions["block_id"])
    item = blocks[blocks.index(actions) - 1]["text"]["text"]
    assert "*Customer 360*" in item
    assert "Data access" in item
    assert "requested by <@U0NORA>" in item
    assert "waiting 2 days" in item  # created 20 Nov 14:05, now 23 Nov 09:00
    assert "stage 2 of 3" in item
    assert blocks[blocks.index(actions) - 1]["text"]["verbatim"] is True


def test_waiting_on_me_lists_the_oldest_first_with_its_risk() -> None:
    older = replace(pending_data_access().request, id="req-old", created_at=CREATED - timedelta(days=9))
    newer = replace(pending_data_access().request, id="req-new", created_at=CREATED)
    blocks = home_view(_snapshot(waiting_on_me=(newer, older)))["blocks"]
    assert [b["value"] for b in _buttons(blocks, ids.APPROVE)] == ["req-old", "req-new"]
    first = blocks[_index(blocks, "req-old") - 1]["text"]["text"]
    assert "risk 🟢 LOW" in first
    assert "waiting 11 days" in first


def test_action_block_ids_differ_even_for_a_repeated_request() -> None:
    twice = (_waiting(), _waiting())
    view = home_view(_snapshot(waiting_on_me=twice))
    block_ids = [b["block_id"] for b in view["blocks"] if b["type"] == "actions"]
    assert len(set(block_ids)) == 2
    assert _home_problems(view) == []


def test_pending_request_has_a_cancel_button_with_a_confirm_naming_the_product() -> None:
    blocks = home_view(_snapshot())["blocks"]
    [cancel] = _buttons(blocks, ids.CANCEL_REQUEST)
    assert cancel["value"] == "req-mine"
    confirm = cancel["confirm"]
    assert confirm["title"]["text"] == sentences.HOME_CANCEL_TITLE
    assert "Sales Pipeline" in confirm["text"]["text"]
    assert confirm["confirm"]["text"] == "Cancel request"
    assert confirm["deny"]["text"] == "Keep it"
    item = blocks[_index(blocks, ids.CANCEL_REQUEST)]["text"]["text"]
    assert "*Sales Pipeline*" in item
    assert "waiting for group Data Stewards or anyone with GOVERNANCE" in item
    assert "submitted <!date^" in item


def test_pending_in_a_later_stage_says_the_stage() -> None:
    staged = replace(sequential_stages().request, id="req-staged")
    blocks = home_view(_snapshot(my_pending=(staged,)))["blocks"]
    item = blocks[_index(blocks, ids.CANCEL_REQUEST)]["text"]["text"]
    assert "Stage 2 of 3: waiting for anyone with GOVERNANCE or Jane Doe" in item


def test_recent_outcomes_give_the_denial_reason_and_when() -> None:
    blocks = home_view(_snapshot())["blocks"]
    denial = blocks[_index(blocks, "⛔ Denied")]["text"]["text"]
    assert "Denied by <@U0JANE>: Use the aggregated churn dataset instead" in denial
    assert "<!date^" in denial
    assert any("🚫 Canceled" in _text(b) for b in blocks)


def test_my_access_offers_request_again_and_says_when_it_ends() -> None:
    blocks = home_view(_snapshot())["blocks"]
    again = _buttons(blocks, ids.REQUEST_AGAIN_OPEN)
    assert [b["value"] for b in again] == ["req-granted", "req-forever"]
    granted = blocks[_index(blocks, "req-granted")]["text"]["text"]
    forever = blocks[_index(blocks, "req-forever")]["text"]["text"]
    expiration = approved_with_expiration().request.expiration
    assert expiration is not None
    assert f"until <!date^{int(expiration.timestamp())}^" in granted
    assert "access with no end date" in forever


def test_notice_is_a_context_line() -> None:
    blocks = home_view(_snapshot(notice=UNREACHABLE))["blocks"]
    [line] = [b for b in blocks if b["type"] == "context" and "not answering" in _text(b)]
    assert line["elements"][0]["verbatim"] is True
    assert not any("not answering" in _text(b) for b in home_view(_snapshot())["blocks"])


# --- linked or not --------------------------------------------------------------------------------


def test_linked_shows_the_username_its_expiry_and_unlink() -> None:
    blocks = home_view(_snapshot())["blocks"]
    status = blocks[_index(blocks, "Linked to the Marketplace")]
    assert "as *nquinn* until <!date^" in status["text"]["text"]
    assert status["accessory"]["action_id"] == ids.UNLINK_ACCOUNT
    assert _buttons(blocks, ids.LINK_ACCOUNT) == []


def test_unlink_asks_first() -> None:
    [unlink] = _buttons(home_view(_snapshot())["blocks"], ids.UNLINK_ACCOUNT)
    assert unlink["confirm"]["title"]["text"] == sentences.HOME_UNLINK_TITLE
    assert unlink["confirm"]["confirm"]["text"] == "Unlink"


def test_linked_with_nothing_waiting_says_so() -> None:
    blocks = home_view(_snapshot(waiting_on_me=()))["blocks"]
    assert any("*Waiting on me*" in _text(b) for b in blocks)
    assert any(sentences.HOME_NOTHING_WAITING in _text(b) for b in blocks)


def test_unlinked_offers_to_link_and_says_what_linking_does() -> None:
    snapshot = HomeSnapshot(now=NOW)
    view = home_view(snapshot)
    blocks = view["blocks"]
    status = blocks[_index(blocks, ids.LINK_ACCOUNT)]
    assert sentences.HOME_NOT_LINKED in status["text"]["text"]
    assert "act as you" in status["text"]["text"]
    assert "requests and decisions" in status["text"]["text"]
    assert _buttons(blocks, ids.UNLINK_ACCOUNT) == []
    assert not any("Waiting on me" in _text(b) for b in blocks)
    # Unlinked, one's own lists could not be read: they say so, rather than that there are none.
    assert sum(sentences.HOME_LINK_TO_SEE in _text(b) for b in blocks) == 2
    assert _home_problems(view) == []


def test_unlinked_still_shows_what_waits_on_them() -> None:
    blocks = home_view(HomeSnapshot(now=NOW, waiting_on_me=(_waiting(),)))["blocks"]
    assert any("*Waiting on me* (1)" in _text(b) for b in blocks)
    assert len(_buttons(blocks, ids.APPROVE)) == 1


# --- the block budget -----------------------------------------------------------------------------


def _many(base: AccessRequest, prefix: str, n: int = 300) -> tuple[AccessRequest, ...]:
    return tuple(
        replace(
            base, id=f"{prefix}-{i}", product_name=f"Product {i}", created_at=CREATED + timedelta(minutes=i)
        )
        for i in range(n)
    )


def test_300_waiting_fit_in_100_blocks_with_the_rest_counted() -> None:
    view = home_view(_snapshot(waiting_on_me=_many(pending_data_access().request, "w")))
    blocks = view["blocks"]
    assert len(blocks) <= 100
    shown = len(_buttons(blocks, ids.APPROVE))
    assert shown > 20
    assert _mores(blocks) == [300 - shown]
    assert len(blocks) >= 99  # the lists that fit gave back the blocks held for their "more" lines
    assert _home_problems(view) == []
    # the other lists still show everything they have
    assert len(_buttons(blocks, ids.CANCEL_REQUEST)) == 1
    assert len(_buttons(blocks, ids.REQUEST_AGAIN_OPEN)) == 2


def test_300_in_every_list_share_the_100_blocks() -> None:
    snapshot = _snapshot(
        waiting_on_me=_many(pending_data_access().request, "w"),
        my_pending=_many(pending_data_access().request, "p"),
        my_recent=_many(denied().request, "r"),
        my_access=_many(approved_with_expiration().request, "a"),
        notice=UNREACHABLE,
    )
    view = home_view(snapshot)
    blocks = view["blocks"]
    assert len(blocks) <= 100
    waiting = len(_buttons(blocks, ids.APPROVE))
    pending = len(_buttons(blocks, ids.CANCEL_REQUEST))
    recent = sum("⛔ Denied" in _text(b) for b in blocks)
    access = len(_buttons(blocks, ids.REQUEST_AGAIN_OPEN))
    assert min(waiting, pending, recent, access) >= 10  # no list crowds out the others
    assert _mores(blocks) == [300 - waiting, 300 - pending, 300 - recent, 300 - access]
    assert _home_problems(view) == []


def test_a_huge_list_is_counted_in_full() -> None:
    many = _many(pending_data_access().request, "w", 10_000)
    blocks = home_view(_snapshot(waiting_on_me=many))["blocks"]
    assert len(blocks) <= 100
    assert _mores(blocks) == [10_000 - len(_buttons(blocks, ids.APPROVE))]
    assert any("*Waiting on me* (10,000)" in _text(b) for b in blocks)


def test_lists_that_fit_show_everything_and_no_more_line() -> None:
    blocks = home_view(_snapshot())["blocks"]
    assert _mores(blocks) == []


# --- the "my requests" message --------------------------------------------------------------------


def test_requests_message_is_my_requests_only() -> None:
    message = requests_message(_snapshot())
    blocks = message["blocks"]
    assert validate_message(message) == []
    assert _buttons(blocks, ids.APPROVE) == [] and _buttons(blocks, ids.START_REQUEST) == []
    assert [b["value"] for b in _buttons(blocks, ids.CANCEL_REQUEST)] == ["req-mine"]
    assert [b["value"] for b in _buttons(blocks, ids.REQUEST_AGAIN_OPEN)] == ["req-granted", "req-forever"]
    order = [
        _index(blocks, "*My requests*"),
        _index(blocks, "*Recent outcomes*"),
        _index(blocks, "*My access*"),
    ]
    assert order == sorted(order)
    assert message["text"] == "Your requests: 1 pending, 2 recently settled, 2 active grants."


def test_requests_message_stays_within_50_blocks() -> None:
    snapshot = _snapshot(
        my_pending=_many(pending_data_access().request, "p"),
        my_recent=_many(denied().request, "r"),
        my_access=_many(approved_with_expiration().request, "a"),
    )
    message = requests_message(snapshot)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    pending = len(_buttons(blocks, ids.CANCEL_REQUEST))
    recent = sum("⛔ Denied" in _text(b) for b in blocks)
    access = len(_buttons(blocks, ids.REQUEST_AGAIN_OPEN))
    assert _mores(blocks) == [300 - pending, 300 - recent, 300 - access]
    assert validate_message(message) == []


def test_requests_message_when_there_is_nothing() -> None:
    message = requests_message(_snapshot(my_pending=(), my_recent=(), my_access=()))
    assert message["text"] == sentences.HOME_NOTHING_AT_ALL
    assert [b["text"]["text"] for b in message["blocks"]] == [sentences.HOME_NOTHING_AT_ALL]
    assert validate_message(message) == []


def test_requests_message_with_nothing_read_says_why() -> None:
    message = requests_message(HomeSnapshot(now=NOW, linked_as="nquinn", notice=UNREACHABLE))
    assert message["text"] == UNREACHABLE.text
    assert any(UNREACHABLE.text in _text(b) for b in message["blocks"])
    assert validate_message(message) == []


# --- hostile text ---------------------------------------------------------------------------------


def _hostile_snapshot(text: str) -> HomeSnapshot:
    who = Person("u-x", text, text, f"{text}@example.com")
    other = Person("u-y", text, text)
    approver = Approver("GROUP", text, text)
    open_step = ApprovalStep("st-1", RecordStatus.PENDING, (approver, Approver(text, text, text)))
    denial = ApprovalStep(
        "st-1", RecordStatus.DENIED, (approver,), decided_by=who, reason=text, updated_at=NOW
    )

    def hostile(request: AccessRequest, **changes: Any) -> AccessRequest:
        return replace(
            request, product_name=text, requester=who, requested_by=other, raw_status=text, **changes
        )

    return HomeSnapshot(
        now=NOW,
        linked_as=text,
        link_expires_at=EXPIRES,
        waiting_on_me=(hostile(pending_data_access().request, steps=(open_step,)),),
        my_pending=(hostile(sequential_stages().request, steps=(open_step,)),),
        my_recent=(
            hostile(denied().request, steps=(denial,)),
            hostile(denied().request, status=RequestStatus.OTHER),
        ),
        my_access=(hostile(approved_with_expiration().request),),
        notice=Sentence(Outcome.MARKETPLACE_UNREACHABLE, text),
    )


@pytest.mark.parametrize(
    "text", [HOSTILE, "x" * 10_000 + HOSTILE, HOSTILE * 40], ids=["hostile", "long", "many"]
)
def test_hostile_text_stays_inert_and_within_limits(text: str) -> None:
    snapshot = _hostile_snapshot(text)
    view = home_view(snapshot)
    assert _home_problems(view) == []
    assert_inert(view)
    for message in (
        requests_message(snapshot),
        requests_message(replace(snapshot, my_pending=(), my_recent=(), my_access=())),
    ):
        assert validate_message(message) == []
        assert_inert(message)


def test_hostile_unlinked_home_stays_inert() -> None:
    view = home_view(replace(_hostile_snapshot(HOSTILE), linked_as=None))
    assert _home_problems(view) == []
    assert_inert(view)
