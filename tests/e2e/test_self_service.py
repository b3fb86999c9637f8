"""Consumers request access from Slack, end to end: signed Slack payloads in, the sandbox behind.

Every step is what Slack would send, built from what the app showed (the modal as views.update left
it); the Marketplace is the sandbox over loopback, which refuses what a tenant refuses.
"""

from __future__ import annotations

from typing import Any

import yaml

from marketplace_slack.slack import ids
from marketplace_slack_standins.consumer import Consumer
from marketplace_slack_standins.stage import Stage, open_stage


def _requests_of(stage: Stage, username: str, product: str) -> list[Any]:
    state = stage.sandbox.state
    return [
        r
        for r in state.requests.values()
        if r.user.username == username and state.products[r.product_id].name == product
    ]


async def _audit(stage: Stage, kind: str) -> list[Any]:
    return [e async for e in stage.app.store.audit.entries() if e.kind == kind]


async def test_a_linked_consumer_files_with_their_own_token_and_every_answer_type(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")

    await rick.command("request Customer 360")

    assert rick.modal()["callback_id"] == ids.REQUEST_MODAL
    text = rick.modal_text()
    assert "Purpose" in text and "Regions needed" in text and "Justification" in text
    assert "PII Handling Agreement" in text  # its name and full text, then the box to tick
    await rick.submit(
        {"Purpose": "Analytics", "Regions needed": ["EU", "NA"], "Justification": "Churn study"}
    )

    assert rick.modal()["callback_id"] == ids.REQUEST_STATUS_MODAL
    assert "waiting for review" in rick.modal_text()
    [filed] = _requests_of(stage, "rick", "Customer 360")
    assert filed.requesting_user.username == "rick"  # filed as the consumer, not the app
    form = (
        stage.sandbox.state.form_version(filed.form_version)
        if hasattr(stage.sandbox.state, "form_version")
        else None
    )
    answers = sorted(filed.form.values(), key=str)
    assert "Analytics" in answers and ["EU", "NA"] in answers and "Churn study" in answers, form
    assert await stage.card(filed.id)  # the stewards' card, posted at once
    assert "View the card" in rick.modal_text()  # where the stewards review it
    [agreed] = await _audit(stage, "agreement")
    assert agreed.request_id == filed.id and agreed.slack_user_id == rick.user_id
    assert agreed.detail["agreement_id"] and agreed.detail["form_version"] == filed.form_version


async def test_an_access_duration_is_a_number_and_a_unit(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Sales Pipeline")
    label = next(
        b["label"]["text"]
        for b in rick.modal()["blocks"]
        if b.get("type") == "input" and (b.get("element") or {}).get("type") == "number_input"
    )

    await rick.submit(
        {label: "14", f"{label} (unit)": "WEEKS", "What will you use this data for?": "Forecasts"}
    )

    [filed] = _requests_of(stage, "rick", "Sales Pipeline")
    assert {"duration": 14, "durationUnit": "WEEKS"} in filed.form.values()
    assert "Forecasts" in filed.form.values()


async def test_an_unticked_agreement_is_answered_in_place_and_nothing_is_filed(stage: Stage) -> None:
    # Slack's client holds a required box open; a payload that skips it anyway changes nothing.
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    agreement = next(
        b["block_id"]
        for b in rick.modal()["blocks"]
        if (b.get("element") or {}).get("action_id") == ids.AGREEMENT_INPUT
    )

    refused = await rick.submit({"Purpose": "Audit", "Regions needed": ["EU"]}, agree=False)

    assert refused.json()["response_action"] == "errors"
    assert list(refused.json()["errors"]) == [agreement]
    assert rick.modal()["callback_id"] == ids.REQUEST_MODAL  # still open, answers as typed
    assert _requests_of(stage, "rick", "Customer 360") == []


async def test_an_auto_approved_request_is_confirmed_at_once_and_told_in_a_dm(stage: Stage) -> None:
    await stage.link("nora")
    nora = Consumer(stage, "nora")
    await nora.command("request Marketing Events")

    await nora.submit({"Team": "Marketing"})

    assert "approved" in nora.modal_text()
    [filed] = _requests_of(stage, "nora", "Marketing Events")
    assert filed.status == "APPROVED"
    assert [m for m in nora.dms() if "Approved" in m.text]  # no card, yet the outcome is told, once
    await stage.request_access("admin", "Web Analytics")  # more webhooks go by: nothing more for Nora
    await stage.settle()
    assert len([m for m in nora.dms() if "Approved" in m.text]) == 1


async def test_a_second_request_is_said_at_once_and_a_409_after_opening_is_one_sentence(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    # Meanwhile Rick asks in the Marketplace itself: the form he has open would be a second request.
    await stage.request_access("rick", "Customer 360")

    await rick.submit({"Purpose": "Audit", "Regions needed": ["EU"]})

    assert "already" in rick.modal_text()
    assert len(_requests_of(stage, "rick", "Customer 360")) == 1
    await rick.command("request Customer 360")  # and now the modal says so before any form
    assert "already asked" in rick.modal_text()
    assert not rick.modal().get("submit")  # no form to file twice; the kind picker stays
    await rick.pick_kind("MASKING_EXCEPTION")  # a masking exception is another request: its form opens
    assert "Masked columns to unmask" in rick.modal_text()


async def test_a_form_changed_under_an_open_modal_is_refused_by_the_tenant_in_one_sentence(
    stage: Stage,
) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    state = stage.sandbox.state
    product = next(p for p in state.products.values() if p.name == "Customer 360")
    form = state.forms[product.data_access_form_id]
    form.fields = [f for f in form.fields if f.label != "Purpose"]  # an admin drops a question
    from marketplace_slack_standins.sandbox.catalog import snapshot_form

    snapshot_form(state, form)

    await rick.submit({"Purpose": "Audit", "Regions needed": ["EU"]})

    assert "refused" in rick.modal_text()
    assert _requests_of(stage, "rick", "Customer 360") == []


async def test_a_masking_exception_asks_for_the_masked_columns(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Sales Pipeline")
    await rick.pick_kind("MASKING_EXCEPTION")
    assert "Masked columns to unmask" in rick.modal_text()
    columns_block = rick.block_of("Masked columns to unmask")
    element = next(b for b in rick.modal()["blocks"] if b.get("block_id") == columns_block)["element"]
    owner_email = next(
        o["value"]
        for g in element["option_groups"]
        for o in g["options"]
        if o["text"]["text"] == "owner_email"
    )
    answers: dict[str, Any] = {"Masked columns to unmask": [owner_email]}
    for block in rick.modal()["blocks"]:
        if block.get("type") == "input" and not block.get("optional"):
            label, kind = block["label"]["text"], block["element"]["type"]
            if kind == "plain_text_input":
                answers[label] = "Audit of the export"
            elif kind == "number_input":
                answers[label] = "7"

    await rick.submit(answers)

    [filed] = [r for r in _requests_of(stage, "rick", "Sales Pipeline") if r.type == "MASKING_EXCEPTION"]
    assert [name for _, name in filed.columns] == ["owner_email"]


async def test_a_request_for_someone_else_is_theirs_and_both_hear_the_outcome(stage: Stage) -> None:
    await stage.link("rick")
    await stage.link("sara")
    rick = Consumer(stage, "rick")
    nora = Consumer(stage, "nora")
    await rick.command("request Customer 360")

    await rick.submit(
        {"Request for someone else": nora.user_id, "Purpose": "Customer support", "Regions needed": ["NA"]}
    )

    [filed] = _requests_of(stage, "nora", "Customer 360")
    assert filed.requesting_user.username == "rick"
    assert "Nora" in rick.modal_text()
    await stage.decide("sara", filed.id, "deny", reason="Use the masked view")
    print(
        "DMS",
        [m.text for m in nora.dms()],
        [m.text for m in rick.dms()],
        stage.sandbox.state.requests[filed.id].status,
    )
    [to_nora] = [m for m in nora.dms() if "Denied" in m.text]
    [to_rick] = [m for m in rick.dms() if "Denied" in m.text]
    assert "Requested for you by Rick" in str(to_nora.blocks)
    assert "The request you filed for Nora" in str(to_rick.blocks)


async def test_an_unlinked_consumer_links_in_the_modal_and_lands_back_in_the_request(stage: Stage) -> None:
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    assert rick.modal()["callback_id"] == ids.LINK_MODAL  # asked to link first, in the same modal

    await stage.submit("rick", rick.modal(), {ids.TOKEN_INPUT: stage.sandbox.token_for("rick")})

    assert rick.modal()["callback_id"] == ids.REQUEST_MODAL
    assert "Purpose" in rick.modal_text()  # the product named on the command, not a blank picker


async def test_the_product_picker_searches_with_the_consumers_token(stage: Stage) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.shortcut()
    assert rick.modal()["callback_id"] == ids.REQUEST_MODAL

    offered = await rick.options(ids.REQUEST_PRODUCT_INPUT, "sales")

    assert "Sales Pipeline" in [o["text"]["text"] for o in offered]
    await rick.pick_product("Finance Ledger")
    assert "Cost center" in rick.modal_text()


async def test_with_file_as_app_the_apps_account_files_for_an_unlinked_consumer(
    store_database: Any, clock: Any, tmp_path: Any
) -> None:
    config = tmp_path / "marketplace-slack.yml"
    config.write_text(yaml.safe_dump({"requests": {"file_as_app": True}}), encoding="utf-8")
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url, clock=clock, MPSLACK_CONFIG_FILE=str(config), **extra
    ) as stage:
        rick = Consumer(stage, "rick")  # never linked
        await rick.command("request Customer 360")
        assert rick.modal()["callback_id"] == ids.REQUEST_MODAL  # no link asked for

        await rick.submit({"Purpose": "Audit", "Regions needed": ["EU"]})

        [filed] = _requests_of(stage, "rick", "Customer 360")
        assert filed.requesting_user.username == "admin"  # the app's own account filed it
        assert "waiting for review" in rick.modal_text()
        [audited] = await _audit(stage, "request")
        assert audited.detail["through_app"] is True and audited.request_id == filed.id
        card = await stage.card(filed.id)
        summary = str(card.blocks[1])
        assert f"Filed through Slack for <@{stage.slack_user('rick')}>" in summary
        assert "admin" not in summary.casefold()
        assert stage.slack.violations == [] and stage.app.tasks.failures == 0
