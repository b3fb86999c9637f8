"""Members as users.info reports them, changing them, and the `user_change` event Slack sends then."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.slack.directory import profile_from_user
from marketplace_slack.workflow.ports import SlackProfile
from marketplace_slack_standins.fakeslack import FakeSlack, Install
from marketplace_slack_standins.stage import installed_as_declared


async def test_users_info_carries_the_flags_slack_sends(slack: FakeSlack, client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0SARA"))["user"]
    assert (user["deleted"], user["is_restricted"], user["is_ultra_restricted"]) == (False, False, False)
    assert user["is_email_confirmed"] is True and "is_email_confirmed" not in user["profile"]
    assert "is_stranger" not in user  # Slack only says so of a stranger
    assert user["team_id"] == slack.team_id

    slack.change_user("U0SARA", is_stranger=True, team_id="T0OTHER", is_email_confirmed=False)
    user = (await client.users_info(user="U0SARA"))["user"]
    assert (user["is_stranger"], user["team_id"], user["profile"]["team"]) == (True, "T0OTHER", "T0OTHER")
    assert user["is_email_confirmed"] is False


async def test_a_change_is_announced_only_to_an_app_subscribed_to_user_change() -> None:
    async with FakeSlack(install=Install()) as unsubscribed:
        assert unsubscribed.set_email("U0SARA", "sara@new.example") is None
        assert (
            next(u for u in unsubscribed.users if u.id == "U0SARA").email == "sara@new.example"
        )  # changed all the same
    declared = installed_as_declared()
    assert "user_change" in declared.bot_events
    async with FakeSlack(install=declared.without("users:read")) as unscoped:
        assert unscoped.deactivate("U0SARA") is None  # the event needs users:read
    async with FakeSlack(install=declared) as subscribed:
        body = subscribed.make_guest("U0SARA", single_channel=True)
        assert body is not None and body["type"] == "event_callback"
        event = body["event"]
        assert event["type"] == "user_change" and event["user"]["id"] == "U0SARA"
        assert (event["user"]["is_restricted"], event["user"]["is_ultra_restricted"]) == (True, True)
        assert body["team_id"] == subscribed.team_id and body["event_id"].startswith("Ev")


async def test_a_deactivated_account_cannot_be_written_to(slack: FakeSlack, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users="U0SARA"))["channel"]["id"]  # opened while active
    slack.deactivate("U0SARA")
    with pytest.raises(SlackApiError) as into_the_dm:
        await client.chat_postMessage(channel=dm, text="hello")
    assert into_the_dm.value.response["error"] == "user_disabled"
    assert (await client.users_info(user="U0SARA"))["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users="U0SARA")
    assert refused.value.response["error"] == "user_disabled"
    with pytest.raises(SlackApiError):
        await client.users_lookupByEmail(email="sara@example.com")


def test_a_profile_from_slacks_user_object() -> None:
    user = {
        "id": "U1",
        "team_id": "T1",
        "deleted": False,
        "is_restricted": True,
        "is_ultra_restricted": False,
        "profile": {"email": "a@b.c"},
    }
    assert profile_from_user(user) == SlackProfile("U1", "a@b.c", restricted=True, team_id="T1")
    assert profile_from_user({**user, "is_email_confirmed": False}) == SlackProfile(
        "U1", "a@b.c", restricted=True, team_id="T1", email_confirmed=False
    )
    assert profile_from_user({"profile": {}}) is None
    assert profile_from_user({"id": "U2", "profile": {"email": ""}}) == SlackProfile("U2", None)
