"""Real loopback HTTP through slack-sdk's AsyncWebClient: the methods the app uses answer like Slack."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from marketplace_slack_standins.fakeslack import FakeSlack, view_submission

from .samples import card_blocks, modal_view

TS = re.compile(r"^\d{10}\.\d{6}$")


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_post_update_and_thread_reply_show_in_channel_state(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="C0STEWARDS", text="New request", blocks=card_blocks())
    second = await client.chat_postMessage(channel="#data-stewards", text="Another")

    assert first["channel"] == "C0STEWARDS" and TS.match(first["ts"])
    assert second["ts"] > first["ts"]
    assert first["message"]["bot_id"] == "B0MPBOT"
    assert first["message"]["blocks"][0]["block_id"]  # Slack fills in block ids the app left out

    updated = await client.chat_update(
        channel="C0STEWARDS", ts=first["ts"], text="Approved", blocks=card_blocks()[:1]
    )
    reply = await client.chat_postMessage(channel="C0STEWARDS", thread_ts=first["ts"], text="Sara approved")
    nested = await client.chat_postMessage(channel="C0STEWARDS", thread_ts=reply["ts"], text="noted")

    assert updated["text"] == "Approved" and updated["message"]["edited"]["ts"]
    messages = slack.messages("C0STEWARDS")
    assert [m.ts for m in messages] == [first["ts"], second["ts"], reply["ts"], nested["ts"]]
    card = messages[0]
    assert card.text == "Approved" and len(card.blocks) == 1 and card.edits == 1
    assert card.history[0][0] == "New request"
    assert messages[2].thread_ts == first["ts"]
    assert messages[3].thread_ts == first["ts"]  # a reply to a reply joins the parent's thread


async def test_update_keeps_fields_it_leaves_out(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card", blocks=card_blocks())
    await client.chat_update(channel="C0STEWARDS", ts=posted["ts"], text="only the fallback changed")
    assert len(slack.message("C0STEWARDS", posted["ts"]).blocks) == len(card_blocks())
    await client.chat_update(channel="C0STEWARDS", ts=posted["ts"], text="no blocks", blocks=[])
    assert slack.message("C0STEWARDS", posted["ts"]).blocks == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_chat_errors_use_slacks_names(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="hello")

    assert await error_of(client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"
    assert await error_of(client.chat_postMessage(channel="C0STEWARDS")) == "no_text"
    assert (
        await error_of(client.chat_update(channel="C0STEWARDS", ts="1.000100", text="x"))
        == "message_not_found"
    )
    assert await error_of(client.chat_update(channel="C0STEWARDS", ts=posted["ts"])) == "no_text"
    assert (
        await error_of(client.chat_postMessage(channel="C0STEWARDS", thread_ts="9.000001", text="x"))
        == "thread_not_found"
    )
    assert await error_of(client.chat_delete(channel="C0STEWARDS", ts="1.000100")) == "message_not_found"
    assert await error_of(client.api_call("chat.scheduleMessage")) == "unknown_method"
    assert [m.ts for m in slack.messages("C0STEWARDS")] == [posted["ts"]]


async def test_tokens_are_checked(slack: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.base_url)
    anonymous = AsyncWebClient(base_url=slack.base_url)
    assert await error_of(wrong.chat_postMessage(channel="C0STEWARDS", text="x")) == "invalid_auth"
    assert await error_of(anonymous.auth_test()) == "not_authed"

    me = await AsyncWebClient(token=slack.bot_token, base_url=slack.base_url).auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T0MARKET", "U0MPBOT", "B0MPBOT")


async def test_ephemeral_is_seen_by_one_user_only(slack: FakeSlack, client: AsyncWebClient) -> None:
    sent = await client.chat_postEphemeral(
        channel="C0STEWARDS", user="U0OMAR", text="Link your account first"
    )

    assert TS.match(sent["message_ts"])
    assert slack.messages("C0STEWARDS") == []
    [seen] = slack.ephemeral_messages("C0STEWARDS", user="U0OMAR")
    assert seen.text == "Link your account first" and seen.ts == sent["message_ts"]
    assert await error_of(client.chat_postEphemeral(channel="C0STEWARDS", user="U0GHOST", text="x")) == (
        "user_not_in_channel"
    )
    dm = slack.dm_channel("U0SARA")
    assert (
        await error_of(client.chat_postEphemeral(channel=dm, user="U0OMAR", text="x"))
        == "user_not_in_channel"
    )


async def test_permalinks_and_delete(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card")
    reply = await client.chat_postMessage(channel="C0STEWARDS", thread_ts=posted["ts"], text="reply")

    link = await client.chat_getPermalink(channel="C0STEWARDS", message_ts=posted["ts"])
    thread_link = await client.chat_getPermalink(channel="C0STEWARDS", message_ts=reply["ts"])

    assert link["permalink"] == (
        f"https://marketplace-demo.slack.com/archives/C0STEWARDS/p{posted['ts'].replace('.', '')}"
    )
    assert thread_link["permalink"].endswith(f"?thread_ts={posted['ts']}&cid=C0STEWARDS")
    deleted = await client.chat_delete(channel="C0STEWARDS", ts=posted["ts"])
    assert deleted["ts"] == posted["ts"]
    assert [m.ts for m in slack.messages("C0STEWARDS")] == [reply["ts"]]


async def test_direct_messages(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.conversations_open(users="U0SARA")
    again = await client.conversations_open(users=["U0SARA"])
    to_user = await client.chat_postMessage(channel="U0SARA", text="A request needs you")
    info = await client.conversations_info(channel=opened["channel"]["id"])

    assert opened["channel"]["id"] == "D0SARA" and opened["already_open"] is False
    assert again["already_open"] is True
    assert to_user["channel"] == "D0SARA"  # posting to a user id lands in the app's DM
    assert info["channel"]["is_im"] and info["channel"]["user"] == "U0SARA"
    assert [m.text for m in slack.messages("D0SARA")] == ["A request needs you"]
    assert await error_of(client.conversations_open(users="U0GHOST")) == "user_not_found"


async def test_users_lookup_is_case_insensitive(client: AsyncWebClient) -> None:
    omar = await client.users_lookupByEmail(email="omar@example.com")
    sara = await client.users_lookupByEmail(email="SARA@Example.COM")

    assert omar["user"]["id"] == "U0OMAR" and omar["user"]["profile"]["email"] == "Omar@Example.com"
    assert sara["user"]["id"] == "U0SARA"
    assert await error_of(client.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"


async def test_users_info_reports_time_zone_offsets_for_now(client: AsyncWebClient) -> None:
    # The fake clock stands on 23 November: no daylight saving in Berlin or Los Angeles.
    sara = (await client.users_info(user="U0SARA"))["user"]
    gina = (await client.users_info(user="U0GINA"))["user"]
    nora = (await client.users_info(user="U0NORA"))["user"]

    assert (sara["tz"], sara["tz_offset"], sara["real_name"]) == ("Europe/Berlin", 3600, "Sara Stone")
    assert (gina["tz"], gina["tz_offset"]) == ("America/Los_Angeles", -8 * 3600)
    assert nora["tz_offset"] == 5 * 3600 + 1800
    assert sara["profile"]["email"] == "sara@example.com"
    assert await error_of(client.users_info(user="U0GHOST")) == "user_not_found"


async def test_usergroup_members(client: AsyncWebClient) -> None:
    members = await client.usergroups_users_list(usergroup="S0STEWARDS")
    assert members["users"] == ["U0SARA", "U0GINA"]
    assert await error_of(client.usergroups_users_list(usergroup="S0NOPE")) == "no_such_subteam"


async def test_calls_are_recorded_with_parsed_args_and_no_token(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.conversations_open(users="U0SARA")  # slack-sdk sends these as query parameters
    await client.chat_postMessage(channel="C0STEWARDS", text="hi", blocks=card_blocks())  # JSON body
    await client.api_call("chat.postMessage", data={"channel": "C0STEWARDS", "text": "form"})  # form body

    opened, as_json, as_form = slack.calls
    assert opened.method == "conversations.open" and opened.args == {"users": "U0SARA"}
    assert as_json.args["blocks"] == card_blocks() and as_json.ok
    assert as_form.args == {"channel": "C0STEWARDS", "text": "form"}
    assert as_json.headers["Authorization"] == "<redacted>"
    assert all("token" not in c.args for c in slack.calls)
    assert len(slack.calls_to("chat.postMessage")) == 2


async def test_form_encoded_blocks_are_decoded(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.api_call(
        "chat.postMessage", data={"channel": "C0STEWARDS", "text": "x", "blocks": json.dumps(card_blocks())}
    )
    assert slack.messages("C0STEWARDS")[0].blocks[0]["type"] == "header"


async def test_wait_for_awaits_calls_made_later(slack: FakeSlack, client: AsyncWebClient) -> None:
    waiter = asyncio.create_task(slack.wait_for("chat.postMessage", count=2, predicate=lambda c: c.ok))
    await client.chat_postMessage(channel="C0STEWARDS", text="one")
    assert not waiter.done()
    await client.chat_postMessage(channel="C0STEWARDS", text="two")

    calls = await waiter
    assert [c.args["text"] for c in calls] == ["one", "two"]
    with pytest.raises(TimeoutError, match=r"chat\.update"):
        await slack.wait_for("chat.update", timeout=0.05)


async def test_latency_delays_answers(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_latency(0.1, method="users.info")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.auth_test()
    fast = loop.time() - started
    await client.users_info(user="U0SARA")
    slow = loop.time() - started - fast
    assert fast < 0.1 <= slow


async def test_modals_need_a_known_unused_trigger(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger = slack.issue_trigger_id("U0SARA")
    opened = await client.views_open(trigger_id=trigger, view=modal_view(metadata="42"))

    assert opened["view"]["id"].startswith("V") and opened["view"]["private_metadata"] == "42"
    assert [v["id"] for v in slack.views("U0SARA")] == [opened["view"]["id"]]
    assert await error_of(client.views_open(trigger_id=trigger, view=modal_view())) == "exchanged_trigger_id"
    assert await error_of(client.views_open(trigger_id="1.2.3", view=modal_view())) == "invalid_trigger_id"


async def test_views_update_push_and_publish(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view()))["view"]
    updated = await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal_view("changed"))
    assert updated["view"]["id"] == opened["id"] and updated["view"]["callback_id"] == "changed"
    assert await error_of(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal_view())
    ) == ("hash_conflict")
    assert await error_of(client.views_update(view_id="V0NOPE", view=modal_view())) == "not_found"

    for _ in range(2):
        await client.views_push(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view("pushed"))
    push = client.views_push(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view("too deep"))
    assert await error_of(push) == "push_limit_reached"
    assert [v["callback_id"] for v in slack.views("U0SARA")] == ["changed", "pushed", "pushed"]

    home = {"type": "home", "blocks": card_blocks()[:2]}
    published = await client.views_publish(user_id="U0GINA", view=home)
    assert slack.home_view("U0GINA") == published["view"]
    assert await error_of(client.views_publish(user_id="U0GINA", view=modal_view())) == "invalid_arguments"


async def test_response_url_replaces_the_original_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card", blocks=card_blocks())
    url = slack.response_url(channel="C0STEWARDS", user_id="U0SARA", message_ts=posted["ts"])

    replaced = await AsyncWebhookClient(url).send(replace_original=True, text="Approved by Sara")
    whispered = await AsyncWebhookClient(url).send(text="Only you can see this")

    assert replaced.status_code == 200 and whispered.status_code == 200
    assert slack.message("C0STEWARDS", posted["ts"]).text == "Approved by Sara"
    assert [m.text for m in slack.ephemeral_messages("C0STEWARDS", user="U0SARA")] == [
        "Only you can see this"
    ]
    assert [c.method for c in slack.calls[-2:]] == ["response_url", "response_url"]
    unknown = await AsyncWebhookClient(url.rsplit("/", 1)[0] + "/nope").send(text="x")
    assert unknown.status_code == 404


async def test_submission_acks_change_the_modal_like_slack(slack: FakeSlack, client: AsyncWebClient) -> None:
    shown = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view()))["view"]
    submitted = view_submission(user_id="U0SARA", team_id=slack.team_id, view=shown)

    slack.note_delivery(
        submitted, 200, json.dumps({"response_action": "update", "view": modal_view("step2")})
    )
    assert [v["callback_id"] for v in slack.views("U0SARA")] == ["step2"]

    broken = {**modal_view(), "title": {"type": "plain_text", "text": "x" * 25}}
    slack.note_delivery(submitted, 200, json.dumps({"response_action": "push", "view": broken}))
    assert [v.method for v in slack.violations] == ["response_action:push"]
    assert len(slack.views("U0SARA")) == 1

    slack.note_delivery(submitted, 200, json.dumps({"response_action": "clear"}))
    assert slack.views("U0SARA") == []
