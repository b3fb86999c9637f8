"""Where the bot may post, as Slack decides it: membership, private and archived channels, DMs behind the
messages tab, scopes, and messages that vanish behind the app's back."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from marketplace_slack_standins.fakeslack import FakeSlack, Install, SlackChannel
from marketplace_slack_standins.fakeslack.install import DEFAULT_SCOPES
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)


async def test_a_fresh_install_posts_nowhere_until_invited(fresh: FakeSlack) -> None:
    client = client_of(fresh)
    assert await error_of(client.chat_postMessage(channel="C0STEWARDS", text="card")) == "not_in_channel"
    assert await error_of(client.chat_postMessage(channel="#general", text="card")) == "not_in_channel"
    assert fresh.messages("C0STEWARDS") == []

    fresh.invite("C0STEWARDS")
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card")

    assert [m.ts for m in fresh.messages("C0STEWARDS")] == [posted["ts"]]
    assert await error_of(client.chat_postMessage(channel="C0GENERAL", text="card")) == "not_in_channel"


async def test_chat_write_public_reaches_public_channels_only(fresh: FakeSlack) -> None:
    fresh.install.scopes.add("chat:write.public")
    client = client_of(fresh)

    assert (await client.chat_postMessage(channel="C0GENERAL", text="card"))["ok"]
    assert await error_of(client.chat_postMessage(channel="G0SECURITY", text="card")) == "channel_not_found"


async def test_a_private_channel_does_not_exist_for_the_bot_until_invited(fresh: FakeSlack) -> None:
    fresh.install.scopes.add("groups:read")
    client = client_of(fresh)
    assert await error_of(client.chat_postMessage(channel="G0SECURITY", text="card")) == "channel_not_found"
    assert await error_of(client.conversations_info(channel="G0SECURITY")) == "channel_not_found"
    assert await error_of(client.chat_getPermalink(channel="G0SECURITY", message_ts="1.000100")) == (
        "channel_not_found"
    )

    fresh.invite("G0SECURITY")
    posted = await client.chat_postMessage(channel="G0SECURITY", text="card")
    info = (await client.conversations_info(channel="G0SECURITY"))["channel"]

    assert posted["ok"] and info["is_member"] and info["is_private"]
    fresh.remove("G0SECURITY")
    assert await error_of(client.chat_update(channel="G0SECURITY", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )


async def test_an_archived_channel_takes_no_posts_and_no_edits(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card")
    slack.archive("C0STEWARDS")

    assert await error_of(client.chat_postMessage(channel="C0STEWARDS", text="x")) == "is_archived"
    assert (
        await error_of(client.chat_update(channel="C0STEWARDS", ts=posted["ts"], text="x")) == "is_archived"
    )
    assert await error_of(client.chat_delete(channel="C0STEWARDS", ts=posted["ts"])) == "is_archived"
    slack.install.scopes.add("channels:join")
    assert await error_of(client.conversations_join(channel="C0STEWARDS")) == "is_archived"
    assert (await client.conversations_info(channel="C0STEWARDS"))["channel"]["is_archived"]

    slack.archive("C0STEWARDS", archived=False)
    assert (await client.chat_update(channel="C0STEWARDS", ts=posted["ts"], text="x"))["ok"]


async def test_ephemeral_needs_the_bot_there_and_the_person_in_the_channel(fresh: FakeSlack) -> None:
    client = client_of(fresh)
    whisper = {"channel": "C0STEWARDS", "user": "U0SARA", "text": "Link your account first"}
    assert await error_of(client.chat_postEphemeral(**whisper)) == "not_in_channel"

    fresh.invite("C0STEWARDS")
    assert (await client.chat_postEphemeral(**whisper))["ok"]
    fresh.remove("C0STEWARDS", "U0SARA")
    assert await error_of(client.chat_postEphemeral(**whisper)) == "user_not_in_channel"

    fresh.invite("G0SECURITY")
    assert await error_of(client.chat_postEphemeral(channel="G0SECURITY", user="U0OMAR", text="x")) == (
        "user_not_in_channel"
    )
    assert (await client.chat_postEphemeral(channel="G0SECURITY", user="U0GINA", text="x"))["ok"]


async def test_dms_need_the_messages_tab(fresh: FakeSlack) -> None:
    client = client_of(fresh)
    dm = (await client.conversations_open(users="U0SARA"))["channel"]["id"]  # opening is allowed

    assert await error_of(client.chat_postMessage(channel=dm, text="Approved")) == "messages_tab_disabled"
    assert await error_of(client.chat_postMessage(channel="U0SARA", text="x")) == "messages_tab_disabled"
    assert fresh.messages(dm) == []

    fresh.install.messages_tab_enabled = True
    assert (await client.chat_postMessage(channel=dm, text="Approved"))["ok"]


async def test_a_message_deleted_behind_the_apps_back_cannot_be_updated(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    card = await client.chat_postMessage(channel="C0STEWARDS", text="card")
    reply = await client.chat_postMessage(channel="C0STEWARDS", thread_ts=card["ts"], text="reply")

    slack.delete_message("C0STEWARDS", card["ts"])

    assert [m.ts for m in slack.messages("C0STEWARDS")] == [reply["ts"]]
    assert await error_of(client.chat_update(channel="C0STEWARDS", ts=card["ts"], text="x")) == (
        "message_not_found"
    )
    assert await error_of(client.chat_delete(channel="C0STEWARDS", ts=card["ts"])) == "message_not_found"
    assert await error_of(client.chat_postMessage(channel="C0STEWARDS", thread_ts=card["ts"], text="x")) == (
        "thread_not_found"
    )


async def test_scopes_are_checked_and_reported(fresh: FakeSlack) -> None:
    client = client_of(fresh)
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_join(channel="C0GENERAL")
    answer = raised.value.response
    assert (answer["error"], answer["needed"]) == ("missing_scope", "channels:join")
    assert answer["provided"] == ",".join(sorted(DEFAULT_SCOPES))
    assert await error_of(client.conversations_info(channel="C0GENERAL")) == "missing_scope"

    me = await client.auth_test()
    assert me.headers["X-OAuth-Scopes"] == ",".join(sorted(DEFAULT_SCOPES))


async def test_join_info_and_members(fresh: FakeSlack) -> None:
    fresh.install.scopes.update({"channels:join", "channels:read", "groups:read"})
    client = client_of(fresh)
    assert not (await client.conversations_info(channel="C0GENERAL"))["channel"]["is_member"]

    joined = await client.conversations_join(channel="C0GENERAL")
    again = await client.conversations_join(channel="C0GENERAL")
    members = (await client.conversations_members(channel="C0GENERAL"))["members"]

    assert joined["channel"]["is_member"] and "warning" not in joined
    assert again["warning"] == "already_in_channel"
    assert "U0MPBOT" in members and "U0SARA" in members
    assert (await client.chat_postMessage(channel="C0GENERAL", text="card"))["ok"]
    fresh.invite("G0SECURITY")
    assert await error_of(client.conversations_join(channel="G0SECURITY")) == (
        "method_not_supported_for_channel_type"
    )
    assert sorted((await client.conversations_members(channel="G0SECURITY"))["members"]) == [
        "U0ADMIN",
        "U0GINA",
        "U0MPBOT",
        "U0SARA",
    ]


async def test_channels_added_later_follow_the_same_rules(fresh: FakeSlack) -> None:
    fresh.add_channel(SlackChannel("C0NEW", "new-approvals", members=("U0SARA",)))
    client = client_of(fresh)
    assert await error_of(client.chat_postMessage(channel="#new-approvals", text="x")) == "not_in_channel"
    fresh.invite("C0NEW")
    assert (await client.chat_postEphemeral(channel="C0NEW", user="U0SARA", text="x"))["ok"]


async def test_a_response_url_answers_where_the_bot_is_not(fresh: FakeSlack) -> None:
    # Slash commands work in any channel: their response_url does not need the bot to be a member.
    url = fresh.response_url(channel="C0GENERAL", user_id="U0SARA")
    answer = await AsyncWebhookClient(url).send(text="Your account is linked")
    assert answer.status_code == 200
    assert [m.text for m in fresh.ephemeral_messages("C0GENERAL", user="U0SARA")] == [
        "Your account is linked"
    ]


def test_an_install_reads_a_manifest() -> None:
    manifest = """
features:
  app_home:
    messages_tab_enabled: true
oauth_config:
  scopes:
    bot: [chat:write, chat:write.public]
"""
    install = Install.from_manifest(manifest)
    assert install.scopes == {"chat:write", "chat:write.public"} and install.messages_tab_enabled
    assert not Install.from_manifest("oauth_config: {scopes: {bot: [chat:write]}}").messages_tab_enabled


async def test_the_stage_installs_as_the_manifest_declares_and_invites_the_bot(
    fresh: FakeSlack, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text("oauth_config: {scopes: {bot: [chat:write, im:write]}}")
    assert installed_as_declared(manifest).scopes == {"chat:write", "im:write"}
    assert installed_as_declared(tmp_path / "absent.yml") == Install()  # an installed package has none

    invite_everywhere(fresh)
    client = client_of(fresh)
    for channel in ("C0STEWARDS", "C0GENERAL", "G0SECURITY"):
        assert (await client.chat_postMessage(channel=channel, text="card"))["ok"]
