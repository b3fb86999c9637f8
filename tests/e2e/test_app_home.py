"""App Home, cancelling, requesting again and unfurls, end to end against the sandbox and the stand-in."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marketplace_slack.slack import ids
from marketplace_slack_standins.consumer import Consumer
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage


def _requests_of(stage: Stage, username: str, product: str) -> list[Any]:
    state = stage.sandbox.state
    return [
        r
        for r in state.requests.values()
        if r.user.username == username and state.products[r.product_id].name == product
    ]


def request_id_of(message: Any) -> str:
    [value] = _buttons({"blocks": message.blocks}, ids.REQUEST_AGAIN_OPEN)
    return value


def _buttons(view: Any, action_id: str) -> list[str]:
    """The values of the `action_id` buttons a view or message shows."""
    return [
        element["value"]
        for block in view.get("blocks", [])
        for element in block.get("elements") or ([block["accessory"]] if block.get("accessory") else [])
        if element.get("action_id") == action_id and "value" in element
    ]


DURATION = "<the access duration's amount>"
SALES = {DURATION: "30", "What will you use this data for?": "Forecasts"}


async def _file(consumer: Consumer, product: str, answers: dict[str, Any]) -> Any:
    """`consumer` requests `product` from Slack (`DURATION` stands for the duration's amount input)."""
    await consumer.command(f"request {product}")
    if DURATION in answers:
        label = next(
            b["label"]["text"]
            for b in consumer.modal()["blocks"]
            if b.get("type") == "input" and (b.get("element") or {}).get("type") == "number_input"
        )
        answers = {label if k == DURATION else k: v for k, v in answers.items()}
    await consumer.submit(answers)
    [filed] = [r for r in _requests_of(consumer.stage, consumer.username, product) if r.status != "CANCELED"]
    return filed


async def test_a_stewards_home_lists_what_waits_on_them_and_approves_from_there(stage: Stage) -> None:
    await stage.link("rick")
    await stage.link("sara")
    rick, sara = Consumer(stage, "rick"), Consumer(stage, "sara")
    filed = await _file(rick, "Sales Pipeline", SALES)

    home = await sara.open_home()

    assert filed.id in _buttons(home, ids.APPROVE) and filed.id in _buttons(home, ids.DENY)
    assert "Sales Pipeline" in json.dumps(home)
    opened = len(stage.slack.views(sara.user_id))
    await sara.click_home(ids.APPROVE, filed.id)
    views = stage.slack.views(sara.user_id)
    assert len(views) > opened and views[-1]["callback_id"] == ids.APPROVE_MODAL  # the card's own modal
    await stage.submit("sara", views[-1], {})
    assert stage.sandbox.state.requests[filed.id].status == "APPROVED"
    await stage.advance(timedelta(seconds=31))  # past the Home's throttle: the next tick publishes it
    assert filed.id not in _buttons(sara.home(), ids.APPROVE)  # her Home followed


async def test_a_consumers_home_shows_their_requests_and_cancels_one(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    filed = await _file(rick, "Sales Pipeline", SALES)
    home = await rick.open_home()
    assert filed.id in _buttons(home, ids.CANCEL_REQUEST)
    assert "Linked" in json.dumps(home)

    await rick.click_home(ids.CANCEL_REQUEST, filed.id)

    assert stage.sandbox.state.requests[filed.id].status == "CANCELED"
    card = await stage.card(filed.id)
    assert "Canceled" in card.text or "canceled" in json.dumps(card.blocks).lower()
    told = [m.text for m in rick.dms()]
    assert "Your request for Sales Pipeline is canceled." in told  # the answer to his click
    assert not [t for t in told if "Canceled" in t]  # and no outcome DM: he canceled it himself
    await stage.advance(timedelta(seconds=31))  # past the Home's throttle: the next tick publishes it
    assert filed.id not in _buttons(rick.home(), ids.CANCEL_REQUEST)


async def test_request_data_access_on_home_opens_the_modal_with_the_picker(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    home = await rick.open_home()
    [value] = _buttons(home, ids.START_REQUEST)

    await rick.click_home(ids.START_REQUEST, value)

    assert rick.modal()["callback_id"] == ids.REQUEST_MODAL
    assert "Pick a data product" in rick.modal_text()
    await rick.pick_product("Customer 360")
    assert "Purpose" in rick.modal_text()


async def test_my_requests_in_any_channel(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await _file(rick, "Sales Pipeline", SALES)

    await rick.command("requests")

    [listed] = stage.slack.ephemeral_messages(STEWARDS_CHANNEL, rick.user_id)[-1:]
    assert "Sales Pipeline" in json.dumps(listed.blocks)


async def test_request_again_is_said_while_active_and_prefilled_after_expiry(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    filed = await _file(rick, "Web Analytics", {"Project name": "Atlas"})  # approved for 30 days at once
    assert filed.status == "APPROVED" and filed.expiration is not None

    home = await rick.open_home()
    assert filed.id in _buttons(home, ids.REQUEST_AGAIN_OPEN)
    await rick.click_home(ids.REQUEST_AGAIN_OPEN, filed.id)
    assert "already have access" in rick.modal_text()  # not a second request the tenant would refuse
    await rick.choose(ids.REMIND_RENEWAL)  # also told by the card keeper when it ends: once, not twice
    assert "I'll send you a message when your access to Web Analytics ends" in rick.modal_text()

    await stage.advance(filed.expiration - stage.clock.now() + timedelta(hours=1))
    assert stage.sandbox.state.requests[filed.id].status == "EXPIRED"
    [notice] = [m for m in rick.dms() if "Expired" in m.text]  # told at the moment it ended
    assert request_id_of(notice) == filed.id
    await rick.click_message(notice, ids.REQUEST_AGAIN_OPEN)
    block = rick.block_of("Project name")
    element = next(b for b in rick.modal()["blocks"] if b.get("block_id") == block)["element"]
    assert element.get("initial_value") == "Atlas"  # the earlier answer, on the current form


async def test_refused_while_active_it_says_until_when_and_the_reminder_comes_when_it_ends(
    stage: Stage,
) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Web Analytics")
    assert rick.block_of("Project name")  # the form is open...
    granted_id = await stage.request_access("rick", "Web Analytics")  # ...and meanwhile, in the Marketplace
    await stage.settle()
    grant = stage.sandbox.state.requests[granted_id]
    assert grant.status == "APPROVED" and grant.expiration is not None

    await rick.submit({"Project name": "Atlas"})  # the tenant refuses a second one (409)
    text = rick.modal_text()
    assert f"until {grant.expiration:%Y-%m-%d %H:%M} UTC" in text and "request it again once it ends" in text
    standing = rick.modal()
    await rick.choose(ids.REMIND_RENEWAL, view=standing)
    await rick.choose(ids.REMIND_RENEWAL, view=standing)  # clicked twice (or delivered twice)
    assert "I'll send you a message when your access to Web Analytics ends" in rick.modal_text()
    [planned] = await stage.app.store.renewals.list()
    assert planned.request_id == granted_id and planned.due_at == grant.expiration

    await stage.advance(grant.expiration - stage.clock.now() - timedelta(hours=1))
    assert not [m for m in rick.dms() if "Expired" in m.text]  # not before it ends
    await stage.advance(timedelta(hours=2))
    assert stage.sandbox.state.requests[granted_id].status == "EXPIRED"
    [notice] = [m for m in rick.dms() if "Expired" in m.text]  # a grant no card showed: the reminder
    assert request_id_of(notice) == granted_id  # Request again, prefilled from this grant
    [done] = await stage.app.store.renewals.list()
    assert done.outcome == "sent"  # the reminder sent it: nothing else would have
    await stage.advance(timedelta(days=1))
    assert len([m for m in rick.dms() if "Expired" in m.text]) == 1
    assert stage.slack.violations == [] and stage.app.tasks.failures == 0


async def test_a_pasted_product_link_unfurls_with_request_access(stage: Stage) -> None:
    product_id = await stage.product_id("Customer 360")
    url = stage.app.workflow.cards._gateway.product_url(product_id)  # type: ignore[attr-defined]
    rick = Consumer(stage, "rick")
    delivery = stage.slack.share_links(rick.user_id, STEWARDS_CHANNEL, [url])
    assert delivery is not None, "the manifest subscribes to link_shared for the Marketplace's domain"

    await stage.agent.send_event(delivery)
    await stage.settle()

    event = delivery["event"]
    [preview] = stage.slack.unfurls(STEWARDS_CHANNEL, event["message_ts"]).values()
    text = json.dumps(preview)
    assert "Customer 360" in text and "Finance Stewards" in text
    assert product_id in _buttons(preview, ids.START_REQUEST)
