"""The fake's side of a self-service flow: shortcut triggers open modals, options answers are checked,
Home tabs are validated and kept, and chat.unfurl accepts and refuses what Slack does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import (
    DEFAULT_CHANNELS,
    FakeSlack,
    Install,
    block_suggestion,
    global_shortcut,
    link_shared,
    view_block_action,
    view_state,
    view_submission,
)
from marketplace_slack_standins.fakeslack.install import DEFAULT_SCOPES

from .self_service_samples import home_view, request_modal

LINK = "https://market.example.com/p/7"
PREVIEW = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Sales Orders*"}}]}


def unfurling_install(*, scopes: set[str] | None = None) -> Install:
    return Install(
        scopes=scopes if scopes is not None else set(DEFAULT_SCOPES | {"links:read", "links:write"}),
        messages_tab_enabled=True,
        bot_events={"link_shared"},
        unfurl_domains={"market.example.com"},
    )


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock, install=unfurling_install()) as fake:
        for channel in DEFAULT_CHANNELS:
            fake.invite(channel.id)
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


# --- shortcuts and views --------------------------------------------------------------------------


async def test_a_shortcut_trigger_opens_one_modal(slack: FakeSlack, client: AsyncWebClient) -> None:
    shortcut = slack.adopt(global_shortcut(user_id="U0SARA", team_id=slack.team_id, callback_id="mp_new"))

    opened = await client.views_open(trigger_id=shortcut["trigger_id"], view=request_modal())
    assert opened["ok"] and slack.views("U0SARA")[0]["id"] == opened["view"]["id"]
    assert await error_of(client.views_open(trigger_id=shortcut["trigger_id"], view=request_modal())) == (
        "exchanged_trigger_id"
    )
    unknown = global_shortcut(user_id="U0SARA", team_id=slack.team_id, callback_id="mp_new")  # never sent
    assert await error_of(client.views_open(trigger_id=unknown["trigger_id"], view=request_modal())) == (
        "invalid_trigger_id"
    )


async def test_an_action_in_an_opened_modal_lets_the_app_update_it(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    trigger = slack.issue_trigger_id("U0SARA")
    view = (await client.views_open(trigger_id=trigger, view=request_modal("req-1")))["view"]
    click = slack.adopt(
        view_block_action(user_id="U0SARA", team_id=slack.team_id, view=view, action_id="refresh_form")
    )

    updated = await client.views_update(
        view_id=click["view"]["id"], hash=click["view"]["hash"], view=request_modal("req-2")
    )
    assert updated["ok"] and slack.views("U0SARA")[0]["private_metadata"] == "req-2"
    # The click's trigger opens a pushed view too, as Slack's would.
    assert (await client.views_push(trigger_id=click["trigger_id"], view=request_modal()))["ok"]


async def test_views_publish_validates_home_tabs_and_keeps_the_latest(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.views_publish(user_id="U0SARA", view=home_view())
    second = await client.views_publish(user_id="U0SARA", view={**home_view(), "private_metadata": "v2"})

    latest = slack.home_view("U0SARA")
    assert latest is not None and latest["private_metadata"] == "v2"
    assert latest["id"] == first["view"]["id"] == second["view"]["id"] and latest["type"] == "home"
    titled = {**home_view(), "title": {"type": "plain_text", "text": "Home"}}
    assert await error_of(client.views_publish(user_id="U0SARA", view=titled)) == "invalid_arguments"
    assert await error_of(client.views_publish(user_id="U0SARA", view=request_modal())) == "invalid_arguments"
    assert [(v.method, v.surface) for v in slack.violations] == [("views.publish", "home")] * 2

    click = view_block_action(
        user_id="U0SARA", team_id=slack.team_id, view=latest, action_id="home_new_request"
    )
    assert click["container"] == {"type": "view", "view_id": latest["id"]}
    assert click["view"]["type"] == "home" and click["view"]["hash"] == latest["hash"]


# --- options answers ------------------------------------------------------------------------------


def options_load(view: dict[str, Any]) -> dict[str, Any]:
    return block_suggestion(
        user_id="U0SARA",
        team_id="T0MARKET",
        view=view,
        action_id="product_pick",
        block_id="product",
        value="sal",
    )


def options_body(n: int, text: str = "Sales") -> str:
    return json.dumps(
        {
            "options": [
                {"text": {"type": "plain_text", "text": f"{text} {i}"}, "value": f"p{i}"} for i in range(n)
            ]
        }
    )


async def test_a_good_options_answer_offers_its_options(slack: FakeSlack, client: AsyncWebClient) -> None:
    view = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=request_modal()))[
        "view"
    ]
    payload = options_load(view)

    offered = slack.note_options_answer(payload, 200, options_body(3))
    assert [o["value"] for o in offered] == ["p0", "p1", "p2"] and slack.violations == []
    slack.note_delivery(payload, 200, '{"options": []}')
    assert slack.violations == []


@pytest.mark.parametrize(
    ("status", "body", "complaint"),
    [
        (200, options_body(101), "101 items > 100"),
        (200, options_body(1, "x" * 76), "characters > 75"),
        (200, "ok", "not JSON"),
        (404, "", "HTTP 404"),
    ],
)
async def test_a_bad_options_answer_is_a_violation(
    slack: FakeSlack, client: AsyncWebClient, status: int, body: str, complaint: str
) -> None:
    view = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=request_modal()))[
        "view"
    ]

    slack.note_delivery(options_load(view), status, body)
    (violation,) = slack.violations
    assert violation.method == "block_suggestion:product_pick" and violation.surface == "options"
    assert any(complaint in p for p in violation.problems)


async def test_only_an_offered_option_can_be_chosen(slack: FakeSlack, client: AsyncWebClient) -> None:
    view = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=request_modal()))[
        "view"
    ]
    slack.note_delivery(options_load(view), 200, options_body(2))
    offered = {"text": {"type": "plain_text", "text": "Sales 1"}, "value": "p1"}
    invented = {"text": {"type": "plain_text", "text": "Payroll"}, "value": "p9"}

    def submit(option: dict[str, Any]) -> dict[str, Any]:
        state = view_state(view, {"product_pick": option})
        return view_submission(user_id="U0SARA", team_id=slack.team_id, view=view, state_values=state)

    # (the view's other required inputs are left empty: only the offered check is under test)
    assert slack.adopt(submit(offered), forged=True)["view"]["id"] == view["id"]
    with pytest.raises(ValueError, match="never offered 'p9'"):
        slack.adopt(submit(invented), forged=True)
    pick = view_block_action(
        user_id="U0SARA", team_id=slack.team_id, view=view, action_id="product_pick", option=invented
    )
    with pytest.raises(ValueError, match="never offered"):
        slack.adopt(pick)


async def test_only_the_view_on_screen_can_be_operated(slack: FakeSlack, client: AsyncWebClient) -> None:
    first = (await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=request_modal()))[
        "view"
    ]
    pushed = (await client.views_push(trigger_id=slack.issue_trigger_id("U0SARA"), view=request_modal()))[
        "view"
    ]

    def click(view: dict[str, Any], user: str = "U0SARA") -> dict[str, Any]:
        return view_block_action(user_id=user, team_id=slack.team_id, view=view, action_id="refresh_form")

    assert slack.adopt(click(pushed))["container"]["view_id"] == pushed["id"]
    with pytest.raises(ValueError, match="does not see view"):
        slack.adopt(click(first))  # under the pushed one
    with pytest.raises(ValueError, match="does not see view"):
        slack.adopt(click(pushed, user="U0GINA"))  # someone else's modal
    with pytest.raises(ValueError, match="does not see view"):
        slack.adopt(options_load(first))


# --- link_shared and chat.unfurl ------------------------------------------------------------------


async def test_unfurl_by_channel_and_ts(slack: FakeSlack, client: AsyncWebClient) -> None:
    body = slack.share_links("U0SARA", "C0STEWARDS", [LINK, "https://elsewhere.example.org/x"])
    assert body is not None
    event = body["event"]
    assert [link["url"] for link in event["links"]] == [LINK]  # only the app's unfurl domains
    assert event["is_bot_user_member"] is True

    assert (await client.chat_unfurl(channel="C0STEWARDS", ts=event["message_ts"], unfurls={LINK: PREVIEW}))[
        "ok"
    ]
    assert slack.unfurls("C0STEWARDS", event["message_ts"]) == {LINK: PREVIEW}
    assert slack.violations == []


async def test_unfurl_by_unfurl_id_and_source_replaces_the_same_preview(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    event = (slack.share_links("U0SARA", "C0STEWARDS", [LINK]) or {})["event"]
    await client.chat_unfurl(channel="C0STEWARDS", ts=event["message_ts"], unfurls={LINK: PREVIEW})
    newer = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Sales Orders* v2"}}]}

    done = await client.chat_unfurl(
        unfurl_id=event["unfurl_id"], source="conversations_history", unfurls={LINK: newer}
    )
    assert done["ok"] and slack.unfurls("C0STEWARDS", event["message_ts"]) == {LINK: newer}


async def test_an_event_the_agent_delivers_is_remembered(slack: FakeSlack, client: AsyncWebClient) -> None:
    body = link_shared(
        team_id=slack.team_id,
        user_id="U0SARA",
        channel="C0STEWARDS",
        message_ts="1700000000.000100",
        links=[LINK],
    )
    assert await error_of(
        client.chat_unfurl(channel="C0STEWARDS", ts="1700000000.000100", unfurls={LINK: PREVIEW})
    ) == ("cannot_find_message")
    slack.note_event(body)  # what SlackUserAgent.send_event does before posting
    assert (await client.chat_unfurl(channel="C0STEWARDS", ts="1700000000.000100", unfurls={LINK: PREVIEW}))[
        "ok"
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"unfurls": {"https://market.example.com/p/8": PREVIEW}}, "cannot_unfurl_url"),
        ({"unfurls": {}}, "missing_unfurls"),
        ({"unfurls": None}, "missing_unfurls"),
        ({"unfurls": "not json"}, "invalid_unfurls_format"),
        ({"unfurls": {LINK: "just text"}}, "invalid_unfurls_format"),
        ({"ts": "1600000000.000001"}, "cannot_find_message"),
        ({"channel": "C0NOWHERE"}, "cannot_find_channel"),
        ({"channel": None}, "missing_channel"),
        ({"ts": None}, "missing_ts"),
        (
            {
                "channel": None,
                "ts": None,
                "unfurl_id": "C0STEWARDS.1.2.ab",
                "source": "conversations_history",
            },
            "invalid_unfurl_id",
        ),
        ({"channel": None, "ts": None, "unfurl_id": "<id>"}, "missing_source"),
        ({"channel": None, "ts": None, "source": "conversations_history"}, "missing_unfurl_id"),
        ({"channel": None, "ts": None, "unfurl_id": "<id>", "source": "composer"}, "invalid_source"),
        ({"channel": None, "ts": None, "unfurl_id": "<id>", "source": "chat"}, "invalid_source"),
    ],
)
async def test_chat_unfurl_refuses_like_slack(
    slack: FakeSlack, client: AsyncWebClient, args: dict[str, Any], error: str
) -> None:
    event = (slack.share_links("U0SARA", "C0STEWARDS", [LINK]) or {})["event"]
    call: dict[str, Any] = {"channel": "C0STEWARDS", "ts": event["message_ts"], "unfurls": {LINK: PREVIEW}}
    call.update({k: (event["unfurl_id"] if v == "<id>" else v) for k, v in args.items()})
    # Left-out arguments are not sent; a string `unfurls` goes as given, as a hand-written form would.
    kwargs = {k: v for k, v in call.items() if v is not None}

    assert await error_of(client.chat_unfurl(**kwargs)) == error
    assert slack.unfurls("C0STEWARDS", event["message_ts"]) == {}


async def test_a_preview_with_bad_blocks_is_refused_and_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    event = (slack.share_links("U0SARA", "C0STEWARDS", [LINK]) or {})["event"]
    bad = {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}

    assert await error_of(
        client.chat_unfurl(channel="C0STEWARDS", ts=event["message_ts"], unfurls={LINK: bad})
    ) == ("cannot_parse_attachment")
    (violation,) = slack.violations
    assert violation.method == "chat.unfurl" and "characters > 150" in violation.problems[0]


async def test_unfurling_needs_links_write(clock: FakeClock) -> None:
    install = unfurling_install(scopes=set(DEFAULT_SCOPES | {"links:read"}))
    async with FakeSlack(clock=clock, install=install) as slack:
        event = (slack.share_links("U0SARA", "C0STEWARDS", [LINK]) or {})["event"]
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        assert (
            await error_of(
                client.chat_unfurl(channel="C0STEWARDS", ts=event["message_ts"], unfurls={LINK: PREVIEW})
            )
            == "missing_scope"
        )


async def test_slack_sends_no_link_shared_without_the_subscription_or_the_domain(clock: FakeClock) -> None:
    async with FakeSlack(clock=clock, install=unfurling_install(scopes=set(DEFAULT_SCOPES))) as no_scope:
        assert no_scope.share_links("U0SARA", "C0STEWARDS", [LINK]) is None  # no links:read
        assert no_scope.messages("C0STEWARDS")[-1].text == f"<{LINK}>"  # the message is posted all the same
    async with FakeSlack(clock=clock, install=unfurling_install()) as slack:
        assert slack.share_links("U0SARA", "C0STEWARDS", ["https://elsewhere.example.org/"]) is None


# --- App Home -------------------------------------------------------------------------------------


async def test_opening_the_home_tab_carries_the_published_view(clock: FakeClock) -> None:
    install = Install(scopes=set(DEFAULT_SCOPES), home_tab_enabled=True, bot_events={"app_home_opened"})
    async with FakeSlack(clock=clock, install=install) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        before = slack.open_home("U0SARA")
        assert before is not None and "view" not in before["event"]

        published = (await client.views_publish(user_id="U0SARA", view=home_view()))["view"]
        opened = slack.open_home("U0SARA")
        assert opened is not None and opened["event"]["view"]["id"] == published["id"]
        assert opened["event"]["channel"] == slack.dm_channel("U0SARA")


async def test_no_app_home_opened_without_a_home_tab_or_the_subscription(clock: FakeClock) -> None:
    for install in (
        Install(home_tab_enabled=False, bot_events={"app_home_opened"}),
        Install(home_tab_enabled=True, bot_events=set()),
    ):
        async with FakeSlack(clock=clock, install=install) as slack:
            assert slack.open_home("U0SARA") is None


def test_a_manifest_declares_unfurl_domains_and_the_home_tab() -> None:
    manifest = """
features:
  app_home: {home_tab_enabled: true}
  unfurl_domains: [market.example.com]
oauth_config: {scopes: {bot: [links:read, links:write]}}
settings: {event_subscriptions: {bot_events: [link_shared]}}
"""
    install = Install.from_manifest(manifest)
    assert install.home_tab_enabled and install.unfurl_domains == {"market.example.com"}
    assert install.receives("link_shared") and not install.without("links:read").receives("link_shared")
    assert install.without("links:write").unfurl_domains == {"market.example.com"}
