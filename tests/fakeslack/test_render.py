"""What the offline demo prints for a message or a modal."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack_standins.fakeslack import FakeSlack, blocks_to_text

from .samples import card_blocks, modal_view

CARD_TEXT = """\
# Access request: Sales Orders
@sara asks for *Sales Orders* & its masking rules
  *Requester* @sara
  *Product* Sales Orders (https://market.example.com/p/7)
» Submitted Nov 14 · risk <low>
────────────────────────────────
[ Approve ]  [ Deny ]  [ 7 days ▾ ]  [ Open in Marketplace ↗ ]"""


def test_a_request_card_reads_like_slack_shows_it() -> None:
    assert blocks_to_text(card_blocks()) == CARD_TEXT


def test_inputs_and_unseeded_people() -> None:
    blocks = [
        *modal_view()["blocks"],
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "ping <@U0STRANGER> in <#C0STEWARDS>, <!here>"},
        },
    ]
    assert blocks_to_text(blocks).splitlines() == [
        "Reason: [ ___ ]",
        "Grant for (optional): [ Choose ▾ ]",
        "ping @U0STRANGER in #data-stewards, @here",
    ]


async def test_calls_are_described_with_where_they_went(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0STEWARDS", text="New request", blocks=card_blocks())
    await client.chat_postMessage(channel="U0NORA", text="Your request for <#C0GENERAL> was *approved*")
    await client.views_open(trigger_id=slack.issue_trigger_id("U0SARA"), view=modal_view())
    await client.users_lookupByEmail(email="nora@example.com")

    card, dm, modal, lookup = (slack.describe(c) for c in slack.calls)

    ts = slack.calls[0].response["ts"]
    assert card == f"chat.postMessage → #data-stewards (ts {ts})\n" + "\n".join(
        "  " + line for line in CARD_TEXT.splitlines()
    )
    assert dm.splitlines()[1] == "  Your request for #general was *approved*"
    assert dm.startswith("chat.postMessage → DM @nora")
    assert modal.splitlines() == [
        "views.open → modal 'mp_approve_modal'",
        "  # Approve request",
        "  Reason: [ ___ ]",
        "  Grant for (optional): [ Choose ▾ ]",
        "  [ Cancel ]  [ Approve ]",
    ]
    assert lookup == "users.lookupByEmail(email=nora@example.com)"
    assert slack.transcript(["views.open"]) == modal
