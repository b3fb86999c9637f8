"""Every block set is checked against Slack's limits; refusals look like Slack's and are recorded."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack_standins.fakeslack import FakeSlack, blockkit

from .samples import card_blocks, modal_view


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_valid_blocks_leave_no_violation(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0STEWARDS", text="card", blocks=card_blocks())
    await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view())
    assert slack.violations == []


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param([section(f"line {i}") for i in range(51)], id="51-blocks"),
        pytest.param([section("x" * 3001)], id="3001-char-section"),
    ],
)
async def test_messages_over_the_limits_are_refused_as_invalid_blocks(
    slack: FakeSlack, client: AsyncWebClient, blocks: list[dict[str, Any]]
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0STEWARDS", text="too much", blocks=blocks)

    body = raised.value.response.data
    assert body["error"] == "invalid_blocks" and body["errors"]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")
    [violation] = slack.violations
    assert (violation.method, violation.surface) == ("chat.postMessage", "message")
    assert violation.problems == tuple(body["errors"])
    assert slack.messages("C0STEWARDS") == []


async def test_updates_and_ephemerals_are_checked_too(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card", blocks=card_blocks())
    too_many = [section(str(i)) for i in range(51)]
    with pytest.raises(SlackApiError):
        await client.chat_update(channel="C0STEWARDS", ts=posted["ts"], text="x", blocks=too_many)
    with pytest.raises(SlackApiError):
        await client.chat_postEphemeral(channel="C0STEWARDS", user="U0SARA", text="x", blocks=too_many)
    assert [v.method for v in slack.violations] == ["chat.update", "chat.postEphemeral"]
    assert len(slack.message("C0STEWARDS", posted["ts"]).blocks) == len(card_blocks())


async def test_overlong_text_is_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0STEWARDS", text="x" * 40_001)
    assert raised.value.response["error"] == "msg_too_long"
    assert "40001" in slack.violations[0].problems[0]


async def test_views_over_the_limits_are_refused_like_slack_refuses_views(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    crowded = {**modal_view(), "blocks": [section(str(i)) for i in range(101)]}
    long_title = {**modal_view(), "title": {"type": "plain_text", "text": "Approve this access request now"}}
    for view in (crowded, long_title):
        with pytest.raises(SlackApiError) as raised:
            await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=view)
        assert raised.value.response["error"] == "invalid_arguments"
        assert raised.value.response["response_metadata"]["messages"]
    assert [(v.method, v.surface) for v in slack.violations] == [("views.open", "modal")] * 2
    assert any("title" in p for p in slack.violations[1].problems)
    assert slack.views("U0SARA") == []


async def test_the_blockkit_validator_decides(
    slack: FakeSlack, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str]] = []
    complaint = "blocks[4].elements[0].text: 76 characters > 75"

    def validate_blocks(blocks: object, *, surface: str) -> list[str]:
        seen.append((len(blocks), surface))  # type: ignore[arg-type]
        return [complaint]

    monkeypatch.setattr(blockkit, "validate_blocks", validate_blocks)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0STEWARDS", text="card", blocks=card_blocks())
    assert raised.value.response["errors"] == [complaint]
    assert seen == [(len(card_blocks()), "message")]
