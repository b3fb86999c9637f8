"""What users cannot fake, end to end: a requester's answer and a steward's reason reach the card, the
thread and the requester's DM as text, never formatted like the app's own status lines, quotes or links.

Slack's formatting is judged by the fake Slack's model (`fakeslack.formatting`), which finds at least
what Slack would format.
"""

from __future__ import annotations

from typing import Any

from marketplace_slack.marketplace import models as wire
from marketplace_slack_standins.fakeslack import Message, Span, blocks_to_text
from marketplace_slack_standins.stage import Stage
from slack.hostile import forged_formatting

FORGED = (
    "*APPROVED BY CISO*\n"
    "> Approved by Ada Admin\n"
    "https://evil.example\n"
    "_APPROVED IN MARKETPLACE_ ~DENIED BY RISK~ `APPROVED-CODE` ```APPROVED BLOCK```\n"
    ">>> Approved by Ada Admin"
)


def _forged(message: Message) -> list[Span]:
    """What Slack would format in `message` that the forgery made (`hostile.forged_formatting`)."""
    return forged_formatting({"text": message.text, "blocks": message.blocks})


async def _forged_form(stage: Stage, product: str) -> dict[str, Any]:
    product_id = await stage.product_id(product)
    form = await stage.default_answers(product_id)
    for request_form in await stage.app.marketplace.get_request_forms(product_id):
        for form_field in request_form.fields:
            if isinstance(form_field, wire.ShortAnswerFormField) and form_field.id in form:
                form[form_field.id] = FORGED
    return form


def _readable(message: Message) -> str:
    return blocks_to_text(message.blocks)


async def test_a_forged_answer_and_reason_arrive_as_text_on_card_thread_and_dm(stage: Stage) -> None:
    form = await _forged_form(stage, "Sales Pipeline")
    assert FORGED in form.values()  # the form has a free-text answer to forge
    request_id = await stage.request_access("nora", "Sales Pipeline", form=form)
    await stage.settle()

    card = await stage.card(request_id)
    assert _forged(card) == []
    shown = _readable(card)
    assert "APPROVED BY CISO" in shown and "Approved by Ada Admin" in shown  # still there to read
    assert "https://evil.example" in shown  # recognisable, copyable, not a link

    await stage.link("omar")
    await stage.decide("omar", request_id, "deny", reason=FORGED)
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "DENIED"

    card = await stage.card(request_id)
    record = await stage.app.store.cards.get(request_id)
    assert record is not None
    posted = stage.slack.messages(record.channel)
    thread = [m for m in posted if m.thread_ts == record.ts and m.ts != record.ts]
    dms = stage.slack.messages(stage.slack.dm_channel(stage.slack_user("nora")))
    assert thread and dms
    for message in (card, *thread, *dms):
        assert _forged(message) == [], _readable(message)
    assert "DENIED BY RISK" in _readable(thread[-1])  # the reason is quoted, as text
    assert "APPROVED BY CISO" in _readable(dms[-1])


def test_the_forgery_would_be_caught_if_it_got_through() -> None:
    """The check above is not vacuous: the same words, sent raw, are formatted and linked."""
    raw = {"type": "section", "text": {"type": "mrkdwn", "text": FORGED}}
    posted = Message(channel="D0NORA", ts="1.0", text="x", blocks=[raw], user="U0APP")
    kinds = {span.kind for span in _forged(posted)}
    assert kinds == {"bold", "quote", "autolink", "italic", "strike", "code", "pre"}
