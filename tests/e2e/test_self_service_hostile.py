"""Hostile catalogues through the whole self-service loop: every view the app sends passes the stand-in
Slack's Block Kit checks (the stage fails a test on any violation) and shows user text inert.

The products are created through the sandbox's own API as an administrator would, with the names,
labels and texts a careless or hostile catalogue holds: mrkdwn and mentions in every name, 10,000
characters of agreement, 150 questions, 300 options, 500 masked columns.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from marketplace_slack.slack import ids
from marketplace_slack_standins.consumer import Consumer
from marketplace_slack_standins.sandbox.model import Column
from marketplace_slack_standins.stage import Stage
from slack.hostile import FORGERIES, HOSTILE, assert_inert, forged_formatting, rogue_tokens

NAME = "_APPROVED IN MARKETPLACE_ Hostile Ledger (a/b) \\\\"  # all a product name may hold: _ ( ) / \\
AGREEMENT = (HOSTILE + "\n\n") * 40 + "x" * 2000 + " THE END OF THE AGREEMENT"
assert len(AGREEMENT) >= 10_000


async def _admin(stage: Stage, method: str, path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=stage.sandbox.base_url) as http:
        answer = await http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {stage.sandbox.token_for('admin')}"}
        )
        assert answer.status_code < 300, answer.text
        return answer.json()


async def _product(stage: Stage, name: str, fields: list[dict[str, Any]], *, agreement: bool = True) -> str:
    agreements = []
    if agreement:
        created = await _admin(
            stage, "POST", "/api/data-use-agreement", {"name": f"{HOSTILE[:60]} agreement", "body": AGREEMENT}
        )
        agreements = [created["id"]]
    review = {"type": "review", "params": {"stages": [{"any": [{"type": "USER", "id": "sara"}]}]}}
    form = await _admin(
        stage,
        "POST",
        "/api/request-form",
        {
            "name": f"{name} form",
            "fields": fields,
            "policy": {"rules": [], "defaultEvent": review},
            "dataUseAgreementIds": agreements,
        },
    )
    sales = next(d.id for d in stage.sandbox.state.domains.values() if d.name == "Sales")
    source = next(s.source_id for s in stage.sandbox.state.sources.values() if s.name == "Opportunities")
    product = await _admin(
        stage,
        "POST",
        "/api/data-product",
        {
            "name": name,
            "description": HOSTILE,
            "metadata": None,
            "domains": [sales],
            "dataSources": [{"sourceId": str(source)}],
            "dataAccessRequestFormId": form["id"],
        },
    )
    return str(product["id"])


def inert(stage: Stage, payload: Any) -> None:
    """`assert_inert`, where the app may mention the people of the stage's workspace (a card names
    its requester)."""
    people = {f"<@{u.id}>" for u in stage.slack.users}
    assert [t for t in rogue_tokens(payload) if t not in people] == []
    assert forged_formatting(payload) == []
    assert "<!channel" not in json.dumps(payload) and "<!here" not in json.dumps(payload)


def _options(count: int) -> list[dict[str, str]]:
    return [{"value": f"{FORGERIES[i % len(FORGERIES)]} option {i}"} for i in range(count)]


@pytest.fixture
async def rick(stage: Stage) -> Consumer:
    await stage.link("rick")
    return Consumer(stage, "rick")


async def test_a_hostile_form_is_shown_whole_and_inert_and_files(stage: Stage, rick: Consumer) -> None:
    fields = [
        {"type": "DROPDOWN", "label": f"{HOSTILE} pick one", "options": _options(300)},
        {"type": "CHECKBOXES", "label": "*Regions* <!here>", "options": _options(12)},
        {"type": "SHORT_ANSWER", "label": "> Approved by Ada Admin: why?"},
        {"type": "ACCESS_DURATION"},
    ]
    await _product(stage, NAME, fields)
    await rick.shortcut()
    await rick.pick_product("Hostile Ledger")

    modal = rick.modal()
    assert_inert(modal)
    assert "THE END OF THE AGREEMENT" in rick.modal_text()  # 10,000 characters, split, never cut
    kinds = {b["element"]["type"] for b in modal["blocks"] if b.get("type") == "input"}
    assert {"external_select", "multi_static_select", "plain_text_input", "number_input"} <= kinds
    pick = next(
        b
        for b in modal["blocks"]
        if (b.get("element") or {}).get("type") == "external_select" and b is not modal["blocks"][0]
    )
    offered = await rick.options(ids.QUESTION_OPTIONS_INPUT, "option 25", block_id=pick["block_id"])
    assert 1 <= len(offered) <= 100 and all("option 25" in o["text"]["text"] for o in offered)
    assert_inert({"options": offered})
    checks = next(b for b in modal["blocks"] if (b.get("element") or {}).get("type") == "multi_static_select")
    amount = next(b for b in modal["blocks"] if (b.get("element") or {}).get("type") == "number_input")
    text = next(b for b in modal["blocks"] if (b.get("element") or {}).get("type") == "plain_text_input")
    assert text["label"]["text"] != "> Approved by Ada Admin: why?"  # a label cannot open a quote either
    answers = {
        pick["label"]["text"]: offered[0],
        checks["label"]["text"]: [checks["element"]["options"][1]["value"]],
        text["label"]["text"]: "*because* <!channel>",
        amount["label"]["text"]: "3",
    }

    await rick.submit(answers)

    filed = next(
        r
        for r in stage.sandbox.state.requests.values()
        if stage.sandbox.state.products[r.product_id].name == NAME
    )
    assert "*because* <!channel>" in filed.form.values()  # sent as typed; shown escaped wherever shown
    assert any(str(v).endswith("option 25") or "option 25" in str(v) for v in filed.form.values())
    card = await stage.card(filed.id)
    inert(stage, card.blocks)  # the stewards' card shows every answer literally
    assert_inert(rick.modal())


async def test_a_form_of_150_questions_links_to_the_marketplace_instead(stage: Stage, rick: Consumer) -> None:
    fields = [{"type": "SHORT_ANSWER", "label": f"{HOSTILE[:40]} question {i}"} for i in range(150)]
    await _product(stage, "Hundred and Fifty", fields, agreement=False)
    await rick.command("request Hundred and Fifty")

    modal = rick.modal()

    assert len(modal["blocks"]) <= 100 and not modal.get("submit")  # no Request that could only fail
    assert "request-access" in json.dumps(modal)  # the product's own request page, one click away
    assert_inert(modal)


async def test_five_hundred_masked_columns_are_searched_not_listed(stage: Stage, rick: Consumer) -> None:
    source = next(s for s in stage.sandbox.state.sources.values() if s.name == "Opportunities")
    source.columns += [Column(f"*secret*_{i}", "TEXT", [], "Hashing") for i in range(500)]
    await rick.command("request Sales Pipeline")
    await rick.pick_kind("MASKING_EXCEPTION")

    modal = rick.modal()
    columns = next(
        b for b in modal["blocks"] if (b.get("element") or {}).get("action_id") == ids.COLUMNS_INPUT
    )
    assert columns["element"]["type"] == "multi_external_select"
    offered = await rick.options(ids.COLUMNS_INPUT, "secret*_49", block_id=columns["block_id"])
    names = [o["text"]["text"] for o in offered]
    assert "*secret*_49" in names and len(names) == 11  # _49 and _490 … _499
    assert "501" in rick.modal_text() or "500" in rick.modal_text()  # how many there are, said
    assert_inert(modal)


async def test_homes_and_unfurls_of_hostile_products_are_inert(stage: Stage, rick: Consumer) -> None:
    await stage.link("sara")
    fields = [{"type": "SHORT_ANSWER", "label": "Why?"}]
    product_id = await _product(stage, NAME, fields, agreement=False)
    await rick.command(f"request {NAME}")
    await rick.submit({"Why?": HOSTILE})
    sara = Consumer(stage, "sara")

    inert(stage, await sara.open_home())
    inert(stage, await rick.open_home())
    url = stage.app.workflow.cards._gateway.product_url(product_id)  # type: ignore[attr-defined]
    shared = stage.slack.share_links(rick.user_id, "C0STEWARDS", [url])
    assert shared is not None
    await stage.agent.send_event(shared)
    await stage.settle()
    previews = stage.slack.unfurls("C0STEWARDS", shared["event"]["message_ts"])
    assert previews and all(assert_inert(p) is None for p in previews.values())
