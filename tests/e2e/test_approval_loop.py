"""The approval loop end to end, over real loopback HTTP: sandbox Marketplace → app → fake Slack and back.

Every test runs on SQLite and on PostgreSQL (see `store_database`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from pydantic import SecretStr
from structlog.testing import capture_logs

from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.marketplace.webhooks import SIGNATURE_HEADER, sign
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import event_callback, slash_command
from marketplace_slack_standins.stage import WEBHOOK_KEY, Stage, plausible_answers


def _text(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def _actions(blocks: list[dict]) -> set[str]:
    found = set()
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found.add(element.get("action_id"))
    return found


async def _records(stage: Stage, request_id: str) -> list[wire.ApprovalRecord]:
    return (await stage.app.marketplace.get_access_request_records(request_id)).approval_records


async def test_webhook_brings_a_card_with_everything_needed(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()

    card = await stage.card(request_id)
    body = _text(card.blocks)
    assert "Sales Pipeline" in body
    assert f"<@{stage.slack_user('rick')}>" in body  # the requester, found in Slack by email
    assert {ids.APPROVE, ids.DENY, ids.DURATION, ids.OPEN_IN_MARKETPLACE} <= _actions(card.blocks)
    assert "Quarterly pipeline review" in body  # a form answer
    assert "risk" in body.lower()
    assert len(stage.slack.calls_to("chat.postMessage")) == 1


async def test_approve_for_seven_days_updates_card_thread_and_dm(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")

    records = await _records(stage, request_id)
    decided = [r for r in records if str(r.status) == "APPROVED"]
    assert len(decided) == 1
    assert decided[0].action_by is not None and decided[0].action_by.username == "sara"  # her own token
    assert (decided[0].duration, str(decided[0].duration_unit)) == (7, "DAYS")
    request = await stage.app.marketplace.get_access_request_by_id(request_id)
    assert str(request.status) == "APPROVED" and request.expiration is not None

    card = await stage.card(request_id)
    assert ids.APPROVE not in _actions(card.blocks) and ids.DENY not in _actions(card.blocks)
    assert "Approved by" in _text(card.blocks) and "7 days" in _text(card.blocks)
    record = await stage.app.store.cards.get(request_id)
    assert record is not None
    replies = [
        m for m in stage.slack.messages(record.channel) if m.thread_ts == record.ts and m.ts != record.ts
    ]
    assert len(replies) == 1 and "Q4 review" in replies[0].text + _text(replies[0].blocks)
    dms = stage.slack.messages(stage.slack.dm_channel(stage.slack_user("rick")))
    assert len(dms) == 1 and "Sales Pipeline" in dms[0].text + _text(dms[0].blocks)
    audit = await stage.app.store.audit.list(request_id)
    assert [(a.verdict.value, a.ok) for a in audit] == [("APPROVE", True)]


async def test_deny_requires_a_reason_and_records_it(stage: Stage) -> None:
    request_id = await stage.request_access("nora", "Sales Pipeline")
    await stage.settle()
    await stage.link("omar")
    user = stage.slack_user("omar")

    await stage.click("omar", request_id, ids.DENY)
    modal = stage.slack.views(user)[-1]
    empty = await stage.submit("omar", modal, {}, past_the_client=True)  # Slack's client would not
    assert empty.json()["response_action"] == "errors"  # a reason is required; nothing was sent
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))

    await stage.submit(
        "omar", stage.slack.views(user)[-1], {ids.REASON_INPUT: "Use the <!channel> aggregate instead"}
    )
    request = await stage.app.marketplace.get_access_request_by_id(request_id)
    assert str(request.status) == "DENIED"
    card = await stage.card(request_id)
    assert "Denied by" in _text(card.blocks)
    assert "<!channel>" not in _text(card.blocks)  # the reason is escaped, not a ping


async def test_all_stewards_flow_keeps_buttons_until_the_last_step(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Customer 360")
    await stage.settle()
    await stage.link("sara")
    await stage.link("gina")

    await stage.decide("sara", request_id, "approve", duration="30:DAYS")
    card = await stage.card(request_id)
    assert ids.APPROVE in _actions(card.blocks), "one step is still open"
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "PENDING"

    # The seed's review is "all" of two sources (sara, Finance Stewards): parallel, not "step 1 of 2".
    assert "1 of 2 stewards has approved; waiting for group Finance Stewards" in _text(card.blocks)

    await stage.decide("gina", request_id, "approve", duration="7:DAYS")
    request = await stage.app.marketplace.get_access_request_by_id(request_id)
    assert str(request.status) == "APPROVED"
    card = await stage.card(request_id)
    assert ids.APPROVE not in _actions(card.blocks)
    assert "2 of 2 stewards have approved" in _text(card.blocks)
    record = await stage.app.store.cards.get(request_id)
    assert record is not None
    replies = [
        m.text for m in stage.slack.messages(record.channel) if m.thread_ts == record.ts and m.ts != record.ts
    ]
    assert [r.split(" — ")[-1] for r in replies] == [
        "1 of 2 stewards has approved",
        "2 of 2 stewards have approved",
    ]


async def test_non_approver_is_told_in_one_sentence_and_nothing_changes(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("nora")
    user = stage.slack_user("nora")

    await stage.click("nora", request_id, ids.APPROVE)

    [modal] = stage.slack.views(user)  # the click's modal, turned into the reason
    assert modal["callback_id"] == ids.REFUSAL_MODAL and "not an approver" in _text(modal["blocks"])
    assert len(stage.slack.ephemeral_messages(user=user)) == 1  # only "Linked to the Marketplace…"
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))


async def test_a_steward_cannot_decide_their_own_request(stage: Stage) -> None:
    """Separation of duties: Sara is an approver of Sales Pipeline, and asked for access to it herself."""
    request_id = await stage.request_access("sara", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    user = stage.slack_user("sara")

    await stage.click("sara", request_id, ids.APPROVE)

    [modal] = stage.slack.views(user)
    assert modal["callback_id"] == ids.REFUSAL_MODAL
    assert "This request is yours, so another steward has to decide it." in _text(modal["blocks"])
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))
    await stage.link("omar")
    await stage.decide("omar", request_id, "approve", reason="ok")  # another steward can
    assert any(str(r.status) == "APPROVED" for r in await _records(stage, request_id))


async def test_unlinked_steward_gets_the_link_form_in_the_clicks_modal(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    user = stage.slack_user("sara")

    await stage.click("sara", request_id, ids.APPROVE)

    [modal] = stage.slack.views(user)
    assert modal["callback_id"] == ids.LINK_MODAL and "Link your Marketplace account first" in _text(
        modal["blocks"]
    )
    assert stage.slack.ephemeral_messages(user=user) == []
    await stage.submit("sara", modal, {ids.TOKEN_INPUT: stage.sandbox.token_for("sara")})
    assert await stage.app.store.links.get(stage.slack.team_id, user) is not None
    await stage.decide("sara", request_id, "approve", duration="7:DAYS")
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "APPROVED"


async def test_double_submit_makes_one_decision(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    user = stage.slack_user("sara")
    await stage.click("sara", request_id, ids.APPROVE, duration="7:DAYS")
    modal = stage.slack.views(user)[-1]
    from marketplace_slack_standins.fakeslack import view_state, view_submission

    payload = view_submission(
        user_id=user, team_id=stage.slack.team_id, view=modal, state_values=view_state(modal)
    )
    first, second = await asyncio.gather(
        stage.agent.send_interaction(payload), stage.agent.send_interaction(payload)
    )
    await stage.settle()

    assert (first.status, second.status) == (200, 200)
    audit = await stage.app.store.audit.list(request_id)
    assert sum(1 for a in audit if a.ok) == 1
    assert len([r for r in await _records(stage, request_id) if str(r.status) == "APPROVED"]) == 1


async def test_two_stewards_at_once_end_in_one_decision_and_a_true_card(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    await stage.link("omar")
    await stage.click("sara", request_id, ids.APPROVE)
    await stage.click("omar", request_id, ids.DENY)
    sara_modal = stage.slack.views(stage.slack_user("sara"))[-1]
    omar_modal = stage.slack.views(stage.slack_user("omar"))[-1]
    from marketplace_slack_standins.fakeslack import view_state, view_submission

    payloads = [
        view_submission(
            user_id=stage.slack_user("sara"),
            team_id=stage.slack.team_id,
            view=sara_modal,
            state_values=view_state(sara_modal),
        ),
        view_submission(
            user_id=stage.slack_user("omar"),
            team_id=stage.slack.team_id,
            view=omar_modal,
            state_values=view_state(omar_modal, {ids.REASON_INPUT: "no"}),
        ),
    ]
    await asyncio.gather(*(stage.agent.send_interaction(p) for p in payloads))
    await stage.settle()

    request = await stage.app.marketplace.get_access_request_by_id(request_id)
    assert str(request.status) in ("APPROVED", "DENIED")
    decided = [r for r in await _records(stage, request_id) if str(r.status) in ("APPROVED", "DENIED")]
    assert len(decided) == 1
    card = await stage.card(request_id)
    expected = "Approved by" if str(request.status) == "APPROVED" else "Denied by"
    assert expected in _text(card.blocks) and ids.APPROVE not in _actions(card.blocks)
    told = stage.slack.ephemeral_messages()
    assert any("already" in m.text or "deciding" in m.text for m in told), "the loser is told who won"


async def test_decision_made_in_the_marketplace_is_followed_by_the_card(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    omar = stage.marketplace_as("omar")
    record = (await _records(stage, request_id))[0]

    await omar.update_approval_record(
        record.id,
        wire.UpdateApprovalRecordRequest(status=wire.ApprovalRecordStatus.DENIED, reason="Not this quarter"),
    )
    await stage.settle()

    card = await stage.card(request_id)
    assert "Denied by" in _text(card.blocks) and "Not this quarter" in _text(card.blocks)
    assert ids.APPROVE not in _actions(card.blocks)


async def test_canceled_request_card_says_so(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.marketplace_as("rick").cancel_access_request(request_id)
    await stage.settle()
    card = await stage.card(request_id)
    assert "Cancel" in _text(card.blocks) and ids.APPROVE not in _actions(card.blocks)


async def test_lost_webhook_is_recovered_by_reconciliation(stage: Stage) -> None:
    for hook in list(stage.sandbox.webhooks.webhooks):
        stage.sandbox.webhooks.remove(hook)  # the Marketplace stops telling us anything
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    assert await stage.app.store.cards.get(request_id) is None

    report = await stage.app.workflow.reconcile()
    await stage.settle()

    assert report.failed == 0
    assert (await stage.card(request_id)).blocks
    cards = len(stage.slack.calls_to("chat.postMessage"))
    assert cards == report.checked  # every pending request the app can manage got exactly one card
    again = await stage.app.workflow.reconcile()
    await stage.settle()
    assert again.failed == 0 and len(stage.slack.calls_to("chat.postMessage")) == cards  # nothing doubled


async def test_duplicate_delivery_is_ignored(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    posts = len(stage.slack.calls_to("chat.postMessage"))
    body = json.dumps(
        {
            "deliveryId": "11111111-2222-3333-4444-555555555555",
            "eventType": "marketplace.data_product.access_requests.consumer.updated",
            "accessRequestId": request_id,
        }
    ).encode()
    headers = {SIGNATURE_HEADER: sign(body, WEBHOOK_KEY), "content-type": "application/json"}
    url = f"{stage.app.url}{stage.app.settings.webhook_path}"
    async with httpx.AsyncClient() as http:
        answers = [await http.post(url, content=body, headers=headers) for _ in range(3)]
    await stage.settle()
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len(stage.slack.calls_to("chat.postMessage")) == posts


async def test_forged_and_stale_slack_requests_are_rejected(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    card = await stage.card(request_id)
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None
    from marketplace_slack_standins.fakeslack import block_action

    payload = block_action(
        user_id=stage.slack_user("sara"),
        team_id=stage.slack.team_id,
        channel_id=record.channel,
        message_ts=record.ts,
        action_id=ids.APPROVE,
        message_blocks=card.blocks,
    )
    for forgery in ("wrong_secret", "stale_timestamp", "missing_signature"):
        answer = await stage.agent.send_interaction(payload, forge=forgery)
        assert answer.status == 401, forgery
    await stage.settle()
    assert stage.slack.ephemeral_messages() == [] and stage.slack.views() == []


async def test_forged_or_malformed_webhooks_are_rejected(stage: Stage) -> None:
    url = f"{stage.app.url}{stage.app.settings.webhook_path}"
    body = b'{"eventType": "marketplace.data_product.access_requests.created", "accessRequestId": "x"}'
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(url, content=body)
        forged = await http.post(url, content=body, headers={SIGNATURE_HEADER: sign(body, "not-the-key")})
        bad_json = await http.post(
            url, content=b"{nope", headers={SIGNATURE_HEADER: sign(b"{nope", WEBHOOK_KEY)}
        )
        unknown = b'{"eventType": "marketplace.something.new", "novel": [1, 2]}'
        accepted = await http.post(
            url, content=unknown, headers={SIGNATURE_HEADER: sign(unknown, WEBHOOK_KEY)}
        )
    assert (unsigned.status_code, forged.status_code) == (401, 401)
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    assert accepted.status_code == 202


async def test_slack_rate_limit_is_waited_out(stage: Stage) -> None:
    stage.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    posts = stage.slack.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert (await stage.card(request_id)).blocks


async def test_marketplace_503_is_retried_and_the_card_still_posted(stage: Stage) -> None:
    stage.sandbox.faults.set(failNext=2, failStatus=503, pathPrefix="/marketplace/api/access-request")
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    assert (await stage.card(request_id)).blocks


async def test_marketplace_down_at_decision_time_leaves_state_true(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    user = stage.slack_user("sara")
    stage.sandbox.faults.set(failNext=1, failStatus=500, pathPrefix="/marketplace/api/approval-record")

    await stage.decide("sara", request_id, "approve", duration="7:DAYS")

    told = stage.slack.ephemeral_messages(user=user)
    assert "try again" in told[-1].text
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))
    card = await stage.card(request_id)
    assert ids.APPROVE in _actions(card.blocks), "the buttons are back: nothing was decided"
    assert [a.outcome for a in await stage.app.store.audit.list(request_id)] == ["unavailable"]

    await stage.decide("sara", request_id, "approve", duration="7:DAYS")  # the claim was released
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "APPROVED"


async def test_revoked_and_expired_access_show_on_the_card(stage: Stage) -> None:
    await stage.link("sara")
    revoked = await stage.request_access("rick", "Sales Pipeline")
    expiring = await stage.request_access("nora", "Sales Pipeline")
    await stage.settle()
    await stage.decide("sara", revoked, "approve", duration="indefinite")
    await stage.decide("sara", expiring, "approve", duration="1:DAYS")

    await stage.app.marketplace.revoke_access(await stage.product_id("Sales Pipeline"), revoked)
    stage.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    await stage.sandbox.tick()
    await stage.settle()

    assert "Revoked" in _text((await stage.card(revoked)).blocks)
    assert "Expired" in _text((await stage.card(expiring)).blocks)


async def test_linking_someone_elses_token_is_refused(stage: Stage) -> None:
    user = stage.slack_user("sara")
    await stage.link("sara", token=stage.sandbox.token_for("omar"))

    assert await stage.app.store.links.get(stage.slack.team_id, user) is None
    assert "not linked" in stage.slack.ephemeral_messages(user=user)[-1].text


async def test_tokens_never_reach_logs_or_slack(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    with capture_logs() as logs:
        await stage.settle()
        await stage.link("sara")
        await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="ok")
    assert logs, "nothing was logged, so the check below would prove nothing"
    everything = repr(logs) + json.dumps([c.args for c in stage.slack.calls], default=str)
    assert "sbx_" not in everything
    assert stage.app.settings.marketplace_token.get_secret_value() not in everything


async def test_answer_arrives_by_dm_where_the_bot_cannot_whisper(stage: Stage) -> None:
    user = stage.slack_user("sara")
    await stage.agent.send_slash_command(
        slash_command(
            user_id=user,
            team_id=stage.slack.team_id,
            channel_id="C0NOWHERE",
            command=ids.SLASH_COMMAND,
            text="unlink",
        )
    )
    await stage.settle()

    assert [c.error for c in stage.slack.calls_to("chat.postEphemeral")] == ["channel_not_found"]
    dms = stage.slack.messages(stage.slack.dm_channel(user))
    assert len(dms) == 1 and "No Marketplace account was linked" in dms[0].text


async def test_uninstalling_the_app_deletes_stored_tokens(stage: Stage) -> None:
    await stage.link("sara")
    team = stage.slack.team_id
    assert await stage.app.store.links.get(team, stage.slack_user("sara")) is not None

    answer = await stage.agent.send_event(event_callback({"type": "app_uninstalled"}, team_id=team))
    await stage.settle()

    assert answer.status == 200
    assert await stage.app.store.links.get(team, stage.slack_user("sara")) is None


async def test_masking_exception_card_lists_the_columns(stage: Stage) -> None:
    product_id = await stage.product_id("Customer 360")
    rick = stage.marketplace_as("rick")
    masked = (
        await stage.app.marketplace.search_data_product_columns(product_id, masked_only=True, limit=50)
    ).data
    assert masked, "the seeded product has masked columns"
    forms = await rick.get_request_forms(product_id)
    form = next((f for f in forms if str(f.request_type) == "MASKING_EXCEPTION"), None)
    answers = plausible_answers([form]) if form else None
    created = await rick.request_masking_exception(
        product_id,
        wire.CreateMaskingExceptionRequest(
            user=stage.sandbox.state.users["rick"].global_user_id,
            form=answers,
            columns=[wire.ColumnRef(column_name=c.name, source_id=c.source_id) for c in masked],
        ),
    )
    await stage.settle()

    body = _text((await stage.card(created.id)).blocks)
    assert "Masking exception" in body
    assert all(c.name in body for c in masked[:5])


async def test_registering_the_webhook_twice_keeps_one(stage: Stage) -> None:
    url = f"{stage.app.url}{stage.app.settings.webhook_path}"
    again = await register_webhook(stage.app.marketplace, url, SecretStr(WEBHOOK_KEY))

    hooks = [w for w in await stage.app.marketplace.get_webhooks() if w.url == url]
    assert len(hooks) == 1 and hooks[0].signing_key is True
    assert not again.created and again.test_passed
