"""Reading back what was posted, through slack_sdk against the fake on loopback: message metadata as the
app tags its posts, conversations.history and conversations.replies with their paging and bounds, and
the refusals a real workspace gives (scopes, membership, deleted messages)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import FakeSlack, Install
from marketplace_slack_standins.fakeslack.install import ALL_HISTORY_SCOPES, DEFAULT_SCOPES
from marketplace_slack_standins.stage import installed_as_declared

TAG = {"event_type": "marketplace_card", "event_payload": {"request": "r-1", "attempt": 2, "live": True}}


async def error_of(call: object) -> Any:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return raised.value.response


async def post(client: AsyncWebClient, n: int, channel: str = "C0STEWARDS", **kw: Any) -> list[str]:
    return [(await client.chat_postMessage(channel=channel, text=f"m{i}", **kw))["ts"] for i in range(n)]


# --- metadata ------------------------------------------------------------------------------------


async def test_metadata_round_trips_and_is_shown_only_when_asked_for(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    as_object = await client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=TAG)
    as_model = await client.chat_postMessage(
        channel="C0STEWARDS",
        text="card",
        metadata=Metadata(**TAG),  # type: ignore[arg-type]
    )
    # A form-encoded call sends it as JSON text, as Slack's docs show.
    as_text = await client.api_call(
        "chat.postMessage",
        data={"channel": "C0STEWARDS", "text": "card", "metadata": json.dumps(TAG)},
    )

    full = await client.conversations_history(channel="C0STEWARDS", include_all_metadata=True)
    plain = await client.conversations_history(channel="C0STEWARDS")

    stamps = [as_text["ts"], as_model["ts"], as_object["ts"]]
    assert [m["ts"] for m in full["messages"]] == stamps
    assert all(m["metadata"] == TAG for m in full["messages"])
    assert all("metadata" not in m for m in plain["messages"])
    assert slack.message("C0STEWARDS", as_object["ts"]).metadata == TAG


async def test_an_update_keeps_metadata_unless_it_gives_new(slack: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=TAG))["ts"]
    await client.chat_update(channel="C0STEWARDS", ts=ts, text="approved")
    assert slack.message("C0STEWARDS", ts).metadata == TAG

    retagged = {"event_type": "marketplace_card", "event_payload": {"request": "r-1", "state": "done"}}
    await client.chat_update(channel="C0STEWARDS", ts=ts, text="approved", metadata=retagged)
    assert slack.message("C0STEWARDS", ts).metadata == retagged


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ("{not json", "invalid_metadata_format"),
        ("[1, 2]", "invalid_metadata_format"),
        ({"event_payload": {"a": "b"}}, "invalid_metadata_schema"),
        ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "has space", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x" * 256, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": 7, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "card"}, "invalid_metadata_schema"),
        ({"event_type": "card", "event_payload": "r-1"}, "invalid_metadata_schema"),
        ({"event_type": "card", "event_payload": {"a": None}}, "invalid_metadata_schema"),
        ({"event_type": "card", "event_payload": {}, "extra": 1}, "invalid_metadata_schema"),
        ({"event_type": "card", "event_payload": {"a": "x" * 9000}}, "metadata_too_large"),
    ],
)
async def test_invalid_metadata_is_refused_and_nothing_is_posted(
    slack: FakeSlack, client: AsyncWebClient, metadata: Any, error: str
) -> None:
    refused = await error_of(client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=metadata))
    assert refused["error"] == error
    assert slack.messages("C0STEWARDS") == []

    ts = (await client.chat_postMessage(channel="C0STEWARDS", text="card"))["ts"]
    refused = await error_of(client.chat_update(channel="C0STEWARDS", ts=ts, text="x", metadata=metadata))
    assert refused["error"] == error
    assert slack.message("C0STEWARDS", ts).text == "card"  # a refused update changes nothing


# --- conversations.history -----------------------------------------------------------------------


async def test_history_pages_newest_first_by_cursor(slack: FakeSlack, client: AsyncWebClient) -> None:
    stamps = await post(client, 5)

    first = await client.conversations_history(channel="C0STEWARDS", limit=2)
    second = await client.conversations_history(
        channel="C0STEWARDS", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    third = await client.conversations_history(
        channel="C0STEWARDS", limit=2, cursor=second["response_metadata"]["next_cursor"]
    )

    assert [m["ts"] for m in first["messages"]] == stamps[:2:-1][:2] == [stamps[4], stamps[3]]
    assert [m["ts"] for m in second["messages"]] == [stamps[2], stamps[1]]
    assert [m["ts"] for m in third["messages"]] == [stamps[0]]
    assert slack.describe(slack.calls_to("conversations.history")[0]) == (
        "conversations.history ← #data-stewards: 2 messages"
    )
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert "response_metadata" not in third.data
    message = first["messages"][0]
    assert {k: message[k] for k in ("type", "user", "bot_id", "text", "ts")} == {
        "type": "message",
        "user": "U0MPBOT",
        "bot_id": "B0MPBOT",
        "text": "m4",
        "ts": stamps[4],
    }
    assert isinstance(message["blocks"], list)


async def test_history_limit_defaults_to_100_and_stops_at_999(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    for i in range(1001):
        slack.workspace.chat_post_message({"channel": "C0STEWARDS", "text": f"m{i}"})
    default = await client.conversations_history(channel="C0STEWARDS")
    most = await client.conversations_history(channel="C0STEWARDS", limit=5000)

    assert (len(default["messages"]), default["has_more"]) == (100, True)
    assert (len(most["messages"]), most["has_more"]) == (999, True)
    refused = await error_of(client.conversations_history(channel="C0STEWARDS", limit="many"))
    assert refused["error"] == "invalid_limit"


async def test_oldest_latest_and_inclusive(
    slack: FakeSlack, client: AsyncWebClient, clock: FakeClock
) -> None:
    stamps = []
    for _ in range(4):
        stamps += await post(client, 1)
        clock.advance(timedelta(seconds=10))

    def listed(answer: Any) -> list[str]:
        return [m["ts"] for m in answer["messages"]]

    between = await client.conversations_history(channel="C0STEWARDS", oldest=stamps[0], latest=stamps[3])
    inclusive = await client.conversations_history(
        channel="C0STEWARDS", oldest=stamps[0], latest=stamps[3], inclusive=True
    )
    # Whole seconds are a ts too: the second before the second message.
    since = await client.conversations_history(
        channel="C0STEWARDS", oldest=str(int(stamps[1].split(".")[0]) - 1)
    )

    assert listed(between) == [stamps[2], stamps[1]]
    assert listed(inclusive) == [stamps[3], stamps[2], stamps[1], stamps[0]]
    assert listed(since) == [stamps[3], stamps[2], stamps[1]]
    assert (await error_of(client.conversations_history(channel="C0STEWARDS", oldest="yesterday")))[
        "error"
    ] == "invalid_ts_oldest"
    assert (await error_of(client.conversations_history(channel="C0STEWARDS", latest="1.2.3")))[
        "error"
    ] == "invalid_ts_latest"
    assert (await error_of(client.conversations_history(channel="C0STEWARDS", cursor="bogus!")))[
        "error"
    ] == "invalid_cursor"


async def test_history_shows_thread_heads_not_replies(slack: FakeSlack, client: AsyncWebClient) -> None:
    card = (await client.chat_postMessage(channel="C0STEWARDS", text="card"))["ts"]
    replies = await post(client, 2, thread_ts=card)
    await client.chat_postEphemeral(channel="C0STEWARDS", user="U0SARA", text="only Sara sees this")

    answer = await client.conversations_history(channel="C0STEWARDS")

    assert [m["ts"] for m in answer["messages"]] == [card]
    head = answer["messages"][0]
    assert (head["thread_ts"], head["reply_count"], head["latest_reply"]) == (card, 2, replies[-1])
    assert head["reply_users"] == ["U0MPBOT"]


async def test_deleted_messages_are_gone_from_history_and_replies(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    kept, by_app, by_admin = await post(client, 3)
    reply = (await client.chat_postMessage(channel="C0STEWARDS", thread_ts=kept, text="r"))["ts"]
    await client.chat_delete(channel="C0STEWARDS", ts=by_app)
    slack.delete_message("C0STEWARDS", by_admin)
    slack.delete_message("C0STEWARDS", reply)

    history = await client.conversations_history(channel="C0STEWARDS")
    thread = await client.conversations_replies(channel="C0STEWARDS", ts=kept)

    assert [m["ts"] for m in history["messages"]] == [kept]
    assert "reply_count" not in history["messages"][0]
    assert [m["ts"] for m in thread["messages"]] == [kept]
    refused = await error_of(client.conversations_replies(channel="C0STEWARDS", ts=by_app))
    assert refused["error"] == "thread_not_found"


# --- conversations.replies -----------------------------------------------------------------------


async def test_replies_are_the_parent_then_the_thread_oldest_first(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    card = (await client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=TAG))["ts"]
    replies = await post(client, 3, thread_ts=card, metadata=TAG)
    # Elsewhere in the channel; straight into the workspace, as chat.postMessage allows 5 in a burst.
    slack.workspace.chat_post_message({"channel": "C0STEWARDS", "text": "other"})

    whole = await client.conversations_replies(channel="C0STEWARDS", ts=card, include_all_metadata=True)
    first = await client.conversations_replies(channel="C0STEWARDS", ts=card, limit=3)
    rest = await client.conversations_replies(
        channel="C0STEWARDS", ts=card, limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    since = await client.conversations_replies(channel="C0STEWARDS", ts=card, oldest=replies[0])
    one = await client.conversations_replies(channel="C0STEWARDS", ts=replies[1])

    assert [m["ts"] for m in whole["messages"]] == [card, *replies]
    assert all(m["metadata"] == TAG for m in whole["messages"])
    assert all(m["thread_ts"] == card for m in whole["messages"])
    assert whole["messages"][0]["reply_count"] == 3
    assert whole["messages"][1]["parent_user_id"] == "U0MPBOT"
    assert all("metadata" not in m for m in first["messages"])
    # The parent heads every page.
    assert [m["ts"] for m in first["messages"]] == [card, replies[0], replies[1]]
    assert first["has_more"] is True
    assert [m["ts"] for m in rest["messages"]] == [card, replies[2]]
    assert rest["has_more"] is False
    assert [m["ts"] for m in since["messages"]] == [card, replies[1], replies[2]]
    # A reply's ts names its whole thread.
    assert [m["ts"] for m in one["messages"]] == [card, *replies]
    # limit=1 still moves on, one reply a page.
    stamps, cursor = [], None
    while True:
        answer = await client.conversations_replies(channel="C0STEWARDS", ts=card, limit=1, cursor=cursor)
        assert answer["messages"][0]["ts"] == card
        stamps += [m["ts"] for m in answer["messages"][1:]]
        if not answer["has_more"]:
            break
        cursor = answer["response_metadata"]["next_cursor"]
    assert stamps == replies


async def test_replies_to_an_unknown_ts(slack: FakeSlack, client: AsyncWebClient) -> None:
    await post(client, 1)
    for ts in ("1700000000.000100", None):
        refused = await error_of(client.conversations_replies(channel="C0STEWARDS", ts=ts))  # type: ignore[arg-type]
        assert refused["error"] == "thread_not_found"


# --- who may read --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "scope"),
    [("C0STEWARDS", "channels:history"), ("G0SECURITY", "groups:history"), ("DM", "im:history")],
)
async def test_each_kind_of_conversation_needs_its_history_scope(
    slack: FakeSlack, client: AsyncWebClient, channel: str, scope: str
) -> None:
    if channel == "DM":
        channel = (await client.conversations_open(users="U0SARA"))["channel"]["id"]
    ts = (await client.chat_postMessage(channel=channel, text="card"))["ts"]
    slack.install.scopes -= ALL_HISTORY_SCOPES - {scope}
    assert (await client.conversations_history(channel=channel))["messages"][0]["ts"] == ts
    assert (await client.conversations_replies(channel=channel, ts=ts))["ok"]

    slack.install.scopes.discard(scope)
    for call in (
        client.conversations_history(channel=channel),
        client.conversations_replies(channel=channel, ts=ts),
    ):
        refused = await error_of(call)
        assert (refused["error"], refused["needed"]) == ("missing_scope", scope)
        assert refused["provided"] == ",".join(sorted(slack.install.scopes))


async def test_the_bot_reads_only_where_it_is_a_member(fresh: FakeSlack) -> None:
    fresh.install.scopes |= ALL_HISTORY_SCOPES | {"chat:write.public"}
    client = AsyncWebClient(token=fresh.bot_token, base_url=fresh.base_url)
    # chat:write.public lets it post to a public channel it is not in, but not read it back.
    ts = (await client.chat_postMessage(channel="C0GENERAL", text="digest"))["ts"]
    assert (await error_of(client.conversations_history(channel="C0GENERAL")))["error"] == "not_in_channel"
    refused = await error_of(client.conversations_replies(channel="C0GENERAL", ts=ts))
    assert refused["error"] == "not_in_channel"
    # A private channel it is not in does not exist for it; nor do unknown ids, #names or user ids.
    for channel in ("G0SECURITY", "C0NOSUCH", "#general", "U0SARA"):
        assert (await error_of(client.conversations_history(channel=channel)))["error"] == (
            "channel_not_found"
        )

    fresh.invite("C0GENERAL")
    assert [m["ts"] for m in (await client.conversations_history(channel="C0GENERAL"))["messages"]] == [ts]


async def test_an_archived_channel_stays_readable_to_members(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    ts = (await client.chat_postMessage(channel="G0SECURITY", text="card"))["ts"]
    slack.archive("G0SECURITY")
    assert [m["ts"] for m in (await client.conversations_history(channel="G0SECURITY"))["messages"]] == [ts]


async def test_history_is_tier_3(clock: FakeClock, ticker: Any) -> None:
    install = Install(scopes=set(DEFAULT_SCOPES | ALL_HISTORY_SCOPES))
    async with FakeSlack(clock=clock, monotonic=ticker, install=install) as fake:
        fake.invite("C0STEWARDS")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        client.retry_handlers.clear()  # see the 429 rather than slack_sdk waiting it out
        for _ in range(50):
            await client.conversations_history(channel="C0STEWARDS")
        limited = await error_of(client.conversations_history(channel="C0STEWARDS"))
        assert limited.status_code == 429 and limited["error"] == "ratelimited"
        assert int(limited.headers["Retry-After"]) >= 1
        ticker.advance(60)
        assert (await client.conversations_history(channel="C0STEWARDS"))["ok"]


# --- installing without the history scopes -------------------------------------------------------


async def test_a_team_may_install_the_app_without_the_history_scopes(clock: FakeClock) -> None:
    declared = installed_as_declared()
    assert {"channels:history", "groups:history", "im:history"} <= declared.scopes
    trimmed = declared.without(*ALL_HISTORY_SCOPES)
    assert trimmed.scopes == declared.scopes - ALL_HISTORY_SCOPES
    assert trimmed.messages_tab_enabled == declared.messages_tab_enabled
    assert "channels:history" in declared.scopes  # the original is untouched

    async with FakeSlack(clock=clock, install=trimmed) as fake:
        fake.invite("C0STEWARDS")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        # Posting, tagged, works as before; reading back is refused as a real workspace refuses it.
        ts = (await client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=TAG))["ts"]
        refused = await error_of(client.conversations_history(channel="C0STEWARDS"))
        assert (refused["error"], refused["needed"]) == ("missing_scope", "channels:history")
        assert fake.message("C0STEWARDS", ts).metadata == TAG


# --- other people's and other apps' messages -----------------------------------------------------


async def test_history_holds_what_others_wrote_and_the_bot_cannot_change_it(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    mine = (await client.chat_postMessage(channel="C0STEWARDS", text="card", metadata=TAG))["ts"]
    person = slack.post_as("U0SARA", "C0STEWARDS", "looking at it")
    other = slack.post_as("U0OTHER", "C0STEWARDS", "ticket", metadata=TAG, app=("B0OTHER", "A0OTHER"))
    in_thread = slack.post_as("U0OMAR", "C0STEWARDS", "thanks", thread_ts=mine)

    answer = await client.conversations_history(channel="C0STEWARDS", include_all_metadata=True)
    by_ts = {m["ts"]: m for m in answer["messages"]}

    assert list(by_ts) == [other, person, mine]
    assert by_ts[mine]["bot_id"] == "B0MPBOT" and by_ts[mine]["app_id"] == "A0MARKET"
    # The same event type from another app: only bot_id / app_id tell them apart.
    assert (by_ts[other]["bot_id"], by_ts[other]["app_id"], by_ts[other]["metadata"]) == (
        "B0OTHER",
        "A0OTHER",
        TAG,
    )
    assert "bot_id" not in by_ts[person] and "app_id" not in by_ts[person]
    assert by_ts[person]["user"] == "U0SARA"
    assert by_ts[mine]["reply_users"] == ["U0OMAR"]
    thread = await client.conversations_replies(channel="C0STEWARDS", ts=mine)
    assert [m["ts"] for m in thread["messages"]] == [mine, in_thread]

    for ts in (person, other):
        assert (await error_of(client.chat_update(channel="C0STEWARDS", ts=ts, text="x")))["error"] == (
            "cant_update_message"
        )
        assert (await error_of(client.chat_delete(channel="C0STEWARDS", ts=ts)))["error"] == (
            "cant_delete_message"
        )
    with pytest.raises(ValueError, match="only apps"):
        slack.post_as("U0SARA", "C0STEWARDS", "x", metadata=TAG)
