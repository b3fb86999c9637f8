"""Look before you post again: the messenger over a stub Web API client that can lose answers.

The stub keeps the channels' messages (with their metadata) like Slack does, so "the post landed
but its answer was lost" is one switch: `lose[method]` posts and then raises the given exception.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from marketplace_slack.domain import ApprovalStep, RecordStatus, RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import cards
from marketplace_slack.slack.history import (
    CARD_EVENT,
    DM_EVENT,
    NOTICE_EVENT,
    REPLY_EVENT,
    RETIRED_EVENT,
    ambiguous,
)
from marketplace_slack.slack.messenger import SlackMessenger
from marketplace_slack.slack.pacing import CREATING_METHODS, only_repeatable
from marketplace_slack.workflow.ports import (
    DeliveryUnknown,
    Destination,
    Digest,
    MessageRef,
    dm_key,
    step_key,
)

from .factories import NOW, pending_data_access

CHANNEL = "C0CARDS"
DM = "D0NORA"


def _api_error(status: int, error: str) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError(error, response)


class StubSlack:
    """chat.postMessage/update, conversations.history/replies/open and chat.getPermalink, in memory.

    `lose[method]`: the next call is done, then the exception is raised (the answer was lost).
    `refuse[method]`: the next call raises without doing anything. `history_error`: every
    history read is refused with that Slack error (a missing scope...).
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lose: dict[str, list[BaseException]] = defaultdict(list)
        self.refuse: dict[str, list[BaseException]] = defaultdict(list)
        self.history_error: str | None = None
        self._seq = itertools.count(1)

    def _ts(self) -> str:
        return f"{int(self.clock.now().timestamp())}.{next(self._seq):06d}"

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.lose[method]:
            raise self.lose[method].pop(0)
        return {"ok": True, **body}

    def posts(self) -> list[dict[str, Any]]:
        return [args for method, args in self.calls if method == "chat.postMessage"]

    async def chat_postMessage(self, **args: Any) -> dict[str, Any]:
        self.calls.append(("chat.postMessage", args))
        if self.refuse["chat.postMessage"]:
            raise self.refuse["chat.postMessage"].pop(0)
        message = {
            "ts": self._ts(),
            "text": args["text"],
            "metadata": args.get("metadata"),
            "user": "U0BOT",
            "bot_id": "B0BOT",
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.messages[args["channel"]].append(message)
        return self._answer("chat.postMessage", {"channel": args["channel"], "ts": message["ts"]})

    async def chat_update(self, **args: Any) -> dict[str, Any]:
        self.calls.append(("chat.update", args))
        for message in self.messages[args["channel"]]:
            if message["ts"] == args["ts"]:
                message.update(text=args["text"], blocks=args["blocks"], metadata=args.get("metadata"))
                return self._answer("chat.update", {"channel": args["channel"], "ts": args["ts"]})
        raise _api_error(200, "message_not_found")

    def _read(self, method: str, args: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append((method, args))
        if self.history_error is not None:
            raise _api_error(200, self.history_error)
        assert args["include_all_metadata"] is True
        oldest = float(args["oldest"])
        found = [m for m in messages if float(m["ts"]) > oldest]
        return {"ok": True, "messages": list(reversed(found)), "has_more": False}

    async def conversations_history(self, **args: Any) -> dict[str, Any]:
        top = [m for m in self.messages[args["channel"]] if "thread_ts" not in m]
        return self._read("conversations.history", args, top)

    async def conversations_replies(self, **args: Any) -> dict[str, Any]:
        thread = [m for m in self.messages[args["channel"]] if m.get("thread_ts") == args["ts"]]
        return self._read("conversations.replies", args, thread)

    async def auth_test(self) -> dict[str, Any]:
        self.calls.append(("auth.test", {}))
        return {"ok": True, "user_id": "U0BOT", "bot_id": "B0BOT"}

    async def conversations_open(self, **args: Any) -> dict[str, Any]:
        self.calls.append(("conversations.open", args))
        return {"ok": True, "channel": {"id": DM}}

    async def chat_getPermalink(self, **args: Any) -> dict[str, Any]:
        self.calls.append(("chat.getPermalink", args))
        return {"ok": True, "permalink": f"https://slack.example.com/archives/{args['channel']}/p1"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def slack(clock: FakeClock) -> StubSlack:
    return StubSlack(clock)


@pytest.fixture
def messenger(slack: StubSlack, clock: FakeClock) -> SlackMessenger:
    return SlackMessenger(cast(AsyncWebClient, slack), clock)


def _tag(message: dict[str, Any]) -> tuple[str, str | None]:
    meta = message["metadata"]
    return meta["event_type"], meta["event_payload"].get("key")


DROPPED = aiohttp.ServerDisconnectedError()


@pytest.mark.parametrize(
    "lost",
    [TimeoutError(), DROPPED, aiohttp.ClientOSError(104, "Connection reset by peer"), _api_error(503, "x")],
    ids=["timeout", "dropped", "reset", "5xx"],
)
async def test_a_card_whose_answer_was_lost_is_found_in_the_history_and_adopted(
    messenger: SlackMessenger, slack: StubSlack, lost: BaseException
) -> None:
    state = pending_data_access()
    slack.lose["chat.postMessage"].append(lost)

    ref = await messenger.post_request(CHANNEL, state)

    assert len(slack.posts()) == 1
    [card] = slack.messages[CHANNEL]
    assert ref == MessageRef(CHANNEL, card["ts"])
    assert _tag(card) == (CARD_EVENT, state.request.id)


async def test_another_apps_message_with_the_same_tag_is_not_adopted(
    messenger: SlackMessenger, slack: StubSlack, clock: FakeClock
) -> None:
    state = pending_data_access()
    forged = {"event_type": CARD_EVENT, "event_payload": {"key": state.request.id}}
    slack.messages[CHANNEL].append(
        {
            "ts": f"{int(clock.now().timestamp())}.000001",
            "text": "x",
            "metadata": forged,
            "user": "U0X",
            "bot_id": "B0X",
        }
    )
    slack.messages[CHANNEL].append(
        {"ts": f"{int(clock.now().timestamp())}.000002", "text": "x", "metadata": forged, "user": "U0BOT"}
    )  # a person cannot attach metadata; and the bot's user without bot_id is the bot

    ref = await messenger.post_request(CHANNEL, state, look_first=True)

    assert ref.ts.endswith(".000002")
    assert slack.posts() == []


async def test_a_post_that_never_landed_is_posted_once_more(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    slack.refuse["chat.postMessage"].append(TimeoutError())  # timed out before Slack did anything
    ref = await messenger.post_request(CHANNEL, pending_data_access())
    assert len(slack.posts()) == 2
    assert [m["ts"] for m in slack.messages[CHANNEL]] == [ref.ts]
    assert [m for m, _ in slack.calls].count("conversations.history") == 1


async def test_a_second_lost_answer_is_delivery_unknown_and_nothing_more_is_posted(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    slack.refuse["chat.postMessage"] += [TimeoutError(), TimeoutError()]
    with pytest.raises(DeliveryUnknown) as raised:
        await messenger.post_request(CHANNEL, pending_data_access())
    assert raised.value.key == pending_data_access().request.id
    assert len(slack.posts()) == 2


async def test_after_a_lost_answer_any_failure_of_the_second_attempt_leaves_the_outcome_unknown(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    # The first post may have landed, so a clean-looking refusal of the second proves nothing.
    slack.refuse["chat.postMessage"] += [TimeoutError(), _api_error(200, "channel_not_found")]
    with pytest.raises(DeliveryUnknown):
        await messenger.post_request(CHANNEL, pending_data_access())


async def test_a_look_that_fails_in_any_way_leaves_the_outcome_unknown(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    slack.refuse["chat.postMessage"].append(TimeoutError())

    async def refused(**args: Any) -> dict[str, Any]:
        raise aiohttp.ClientConnectorError(cast(Any, None), OSError(111, "refused"))

    slack.conversations_history = refused  # type: ignore[method-assign]
    with pytest.raises(DeliveryUnknown):
        await messenger.post_request(CHANNEL, pending_data_access())
    assert len(slack.posts()) == 1


async def test_an_adopted_card_stays_adopted_when_refreshing_it_fails(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    state = pending_data_access()
    slack.lose["chat.postMessage"].append(TimeoutError())
    slack.lose["chat.update"].append(_api_error(503, "x"))  # the refresh's answer is lost too

    ref = await messenger.post_request(CHANNEL, state)

    [card] = slack.messages[CHANNEL]
    assert ref.ts == card["ts"] and len(slack.posts()) == 1


async def test_without_the_history_scope_a_lost_answer_is_not_posted_again(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    slack.history_error = "missing_scope"
    slack.lose["chat.postMessage"].append(DROPPED)
    with pytest.raises(DeliveryUnknown) as raised:
        await messenger.post_request(CHANNEL, pending_data_access())
    assert "missing_scope" in raised.value.reason
    assert len(slack.posts()) == 1 and len(slack.messages[CHANNEL]) == 1  # late, never doubled


async def test_a_clean_refusal_is_not_looked_into(messenger: SlackMessenger, slack: StubSlack) -> None:
    slack.refuse["chat.postMessage"].append(_api_error(400, "invalid_blocks"))
    with pytest.raises(SlackApiError):
        await messenger.post_request(CHANNEL, pending_data_access())
    assert [m for m, _ in slack.calls] == ["chat.postMessage"]


async def test_look_first_adopts_the_card_a_dead_owner_posted_and_makes_it_true(
    messenger: SlackMessenger, slack: StubSlack, clock: FakeClock
) -> None:
    state = pending_data_access()
    await messenger.post_request(CHANNEL, state)
    clock.advance(timedelta(minutes=5))
    settled = replace(state, request=replace(state.request, status=RequestStatus.APPROVED))

    ref = await messenger.post_request(CHANNEL, settled, look_first=True)

    assert len(slack.posts()) == 1
    assert ref.ts == slack.messages[CHANNEL][0]["ts"]
    [update] = [args for method, args in slack.calls if method == "chat.update"]
    assert update["ts"] == ref.ts and update["metadata"]["event_type"] == CARD_EVENT


async def test_a_repost_never_adopts_the_card_it_replaces(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    state = pending_data_access()
    stuck = await messenger.post_request(CHANNEL, state)  # say it can no longer be updated
    slack.lose["chat.postMessage"].append(DROPPED)
    new = await messenger.post_request(CHANNEL, state, replacing=stuck)
    assert new != stuck and len(slack.posts()) == 2


async def test_look_first_without_history_posts_blind(messenger: SlackMessenger, slack: StubSlack) -> None:
    slack.history_error = "not_in_channel"
    ref = await messenger.post_request(CHANNEL, pending_data_access(), look_first=True)
    assert len(slack.posts()) == 1 and ref.ts == slack.messages[CHANNEL][0]["ts"]


async def test_several_cards_of_one_request_keep_the_oldest_live_and_retire_the_others(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    state = pending_data_access()
    first = await messenger.post_request(CHANNEL, state)
    second = await messenger.post_request(CHANNEL, state)  # two replicas both posted, say

    ref = await messenger.post_request(CHANNEL, state, look_first=True)

    assert ref == first
    retired = next(m for m in slack.messages[CHANNEL] if m["ts"] == second.ts)
    assert _tag(retired) == (RETIRED_EVENT, state.request.id)
    assert all(b["type"] != "actions" for b in retired["blocks"])
    assert "slack.example.com/archives" in str(retired["blocks"][-1])
    live = next(m for m in slack.messages[CHANNEL] if m["ts"] == first.ts)
    assert _tag(live) == (CARD_EVENT, state.request.id)
    # Retired, it is no longer a candidate: the next look finds one card.
    assert await messenger.post_request(CHANNEL, state, look_first=True) == first
    assert len(slack.posts()) == 2


async def test_a_thread_reply_is_looked_for_in_its_thread(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    state = pending_data_access()
    card = await messenger.post_request(CHANNEL, state)
    step = ApprovalStep("st-9", RecordStatus.APPROVED, ())
    slack.lose["chat.postMessage"].append(TimeoutError())

    await messenger.announce_step(card, state.request, step)

    replies = [m for m in slack.messages[CHANNEL] if m.get("thread_ts") == card.ts]
    assert [_tag(m) for m in replies] == [(REPLY_EVENT, step_key(step))]
    [read] = [args for method, args in slack.calls if method == "conversations.replies"]
    assert read["ts"] == card.ts and read["channel"] == CHANNEL


async def test_the_requester_dm_is_tagged_and_looked_for_in_the_dm(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    request = replace(pending_data_access().request, status=RequestStatus.APPROVED)
    slack.lose["chat.postMessage"].append(DROPPED)
    await messenger.notify_requester("U0NORA", request)
    assert [_tag(m) for m in slack.messages[DM]] == [(DM_EVENT, dm_key(request))]
    assert [args["channel"] for method, args in slack.calls if method == "conversations.history"] == [DM]


async def test_a_persons_dm_channel_is_opened_once(messenger: SlackMessenger, slack: StubSlack) -> None:
    """`conversations.open` is Tier 3: a hundred DMs due at once must not open a hundred channels."""
    request = pending_data_access().request
    for status in (RequestStatus.APPROVED, RequestStatus.EXPIRED):
        await messenger.notify_requester("U0NORA", replace(request, status=status))
    assert [args for method, args in slack.calls if method == "conversations.open"] == [{"users": "U0NORA"}]
    assert len(slack.messages[DM]) == 2


async def test_notices_carry_their_key_and_one_without_a_key_is_not_looked_for(
    messenger: SlackMessenger, slack: StubSlack
) -> None:
    await messenger.send_digest(
        Destination.in_channel(CHANNEL), Digest(entries=()), key="digest:C0CARDS:slot"
    )
    assert _tag(slack.messages[CHANNEL][-1]) == (NOTICE_EVENT, "digest:C0CARDS:slot")
    slack.lose["chat.postMessage"].append(DROPPED)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await messenger.send_digest(Destination.in_channel(CHANNEL), Digest(entries=()))
    assert "conversations.history" not in [m for m, _ in slack.calls]


def test_what_counts_as_ambiguous() -> None:
    assert ambiguous(TimeoutError())
    assert ambiguous(aiohttp.ServerDisconnectedError())
    assert ambiguous(_api_error(502, "bad_gateway"))
    assert ambiguous(_api_error(200, "internal_error"))
    assert not ambiguous(_api_error(200, "channel_not_found"))
    assert not ambiguous(_api_error(429, "ratelimited"))
    key = aiohttp.client_reqrep.ConnectionKey("slack.com", 443, True, True, None, None, None)
    assert not ambiguous(aiohttp.ClientConnectorError(key, OSError(111, "refused")))  # nothing was sent
    assert not ambiguous(ValueError())


@pytest.mark.parametrize(
    "handler",
    [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncServerErrorRetryHandler(max_retry_count=2)],
    ids=["connection", "server"],
)
async def test_the_plain_clients_retry_handlers_never_repeat_a_creating_call(
    handler: AsyncRetryHandler,
) -> None:
    guarded = only_repeatable(handler)
    server_error = HttpResponse(status_code=503, headers={})

    async def retries(method: str) -> bool:
        request = HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})
        return await guarded.can_retry_async(
            state=RetryState(),
            request=request,
            response=server_error,
            error=aiohttp.ServerDisconnectedError(),
        )

    for method in CREATING_METHODS:
        assert not await retries(method)
    assert await retries("conversations.open")
    assert await retries("chat.postEphemeral")  # decided: an ephemeral answer is repeatable


def test_a_retired_card_has_no_buttons_and_points_to_the_live_card() -> None:
    state = pending_data_access()
    live = cards.render_card(state, now=NOW)
    assert any(b["type"] == "actions" for b in live.blocks)
    retired = cards.render_retired(state, now=NOW, live_url="https://slack.example.com/archives/C1/p1")
    assert all(b["type"] != "actions" for b in retired.blocks)
    assert "<https://slack.example.com/archives/C1/p1|" in str(retired.blocks[-1])
    assert retired.blocks[:-1] == [b for b in live.blocks if b["type"] != "actions"]
    unlinked = cards.render_retired(state, now=NOW)
    assert "<" not in str(unlinked.blocks[-1]["elements"])
