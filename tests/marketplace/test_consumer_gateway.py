"""The consumer's Marketplace (`ConsumerGateway`) against the sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from marketplace_slack.domain import Duration, DurationUnit, RequestKind, RequestStatus
from marketplace_slack.domain.forms import QuestionType, Submission, carry_over, problems
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.errors import BadRequestError, ConflictError
from marketplace_slack.marketplace.gateway import MarketplaceGateway

from .conftest import TopOfRange
from .loopback import SleepRecorder


@pytest.fixture
async def consumer(sandbox: Any, sleeps: SleepRecorder) -> AsyncIterator[ConsumerGateway]:
    async with MarketplaceClient(
        sandbox.base_url, sandbox.token_for("admin"), sleep=sleeps, rng=TopOfRange(), timeout=5.0
    ) as client:
        gateway = MarketplaceGateway(client, app_url="https://marketplace.example.com")
        yield ConsumerGateway(client, gateway)


def token(sandbox: Any, username: str) -> SecretStr:
    return SecretStr(sandbox.token_for(username))


async def test_products_are_found_by_name_as_the_consumer_sees_them(
    consumer: ConsumerGateway, sandbox: Any
) -> None:
    rick = token(sandbox, "rick")
    found = await consumer.search_products(rick, "customer")
    assert {"Customer 360"} <= {p.name for p in found}
    assert all("customer" in p.name.casefold() for p in found)
    exact = await consumer.find_product(rick, "customer 360")
    assert exact is not None and exact.name == "Customer 360"
    assert exact.url is not None and exact.id in exact.url
    assert await consumer.find_product(rick, "a") is None  # many products hold an "a": none is meant


async def test_a_form_keeps_every_field_type_and_its_agreements(
    consumer: ConsumerGateway, sandbox: Any
) -> None:
    rick = token(sandbox, "rick")
    product = await consumer.find_product(rick, "Customer 360")
    assert product is not None
    form = await consumer.form(rick, product.id, RequestKind.DATA_ACCESS)
    assert form is not None and form.kind is RequestKind.DATA_ACCESS
    types = [q.type for q in form.questions]
    assert types == [QuestionType.DROPDOWN, QuestionType.CHECKBOXES, QuestionType.SHORT_ANSWER]
    purpose, regions, justification = form.questions
    assert purpose.options == ("Analytics", "Customer support", "Marketing campaign", "Audit")
    assert regions.options == ("NA", "EU", "APAC") and justification.required is False
    assert [a.name for a in form.agreements] == ["PII Handling Agreement"] and form.agreements[0].body
    assert set(problems(form, {})) == {purpose.id, regions.id}  # the optional one may stay empty

    sales = await consumer.find_product(rick, "Sales Pipeline")
    assert sales is not None
    duration_form = await consumer.form(rick, sales.id, RequestKind.DATA_ACCESS)
    assert duration_form is not None
    assert QuestionType.ACCESS_DURATION in [q.type for q in duration_form.questions]


async def test_filing_as_the_consumer_records_them_and_a_second_request_is_refused(
    consumer: ConsumerGateway, sandbox: Any
) -> None:
    rick = token(sandbox, "rick")
    product = await consumer.find_product(rick, "Customer 360")
    assert product is not None
    form = await consumer.form(rick, product.id, RequestKind.DATA_ACCESS)
    assert form is not None
    purpose, regions, _ = form.questions
    answers = {purpose.id: "Analytics", regions.id: ("EU", "NA")}
    assert problems(form, answers) == {}
    me = await consumer.me(rick)
    submission = Submission(product.id, RequestKind.DATA_ACCESS, form.version, answers)

    request_id = await consumer.file(rick, submission, user=me)

    filed = await consumer.request(rick, request_id)
    assert filed.requester.marketplace_id == me and filed.requested_by.marketplace_id == me
    assert filed.status is RequestStatus.PENDING
    _, standing = await consumer.product(rick, product.id)
    assert standing.blocks_new_request and standing.request_id == request_id
    with pytest.raises(ConflictError):
        await consumer.file(rick, submission, user=me)
    waiting, _ = await consumer.mine(token(sandbox, "sara"))  # Customer 360 is reviewed by sara
    assert request_id in {r.id for r in waiting}
    assert request_id in {r.id for r in (await consumer.mine(rick))[1]}

    product_id, kind, previous, labels = await consumer.earlier_answers(rick, request_id)
    assert labels[purpose.id] == purpose.label
    assert (product_id, kind) == (product.id, RequestKind.DATA_ACCESS)
    assert carry_over(form, previous, labels) == (answers, ())

    await consumer.cancel(rick, request_id)
    assert (await consumer.request(rick, request_id)).status is RequestStatus.CANCELED


async def test_the_tenant_refuses_answers_the_form_does_not_take(
    consumer: ConsumerGateway, sandbox: Any
) -> None:
    rick = token(sandbox, "rick")
    product = await consumer.find_product(rick, "Sales Pipeline")
    assert product is not None
    form = await consumer.form(rick, product.id, RequestKind.DATA_ACCESS)
    assert form is not None
    me = await consumer.me(rick)
    with pytest.raises(BadRequestError) as refused:
        await consumer.file(
            rick, Submission(product.id, RequestKind.DATA_ACCESS, form.version, {"nope": "x"}), user=me
        )
    assert "nope" in refused.value.message
    duration = next(q for q in form.questions if q.type is QuestionType.ACCESS_DURATION)
    ok = {q.id: "Forecasting" for q in form.questions if q.type is QuestionType.SHORT_ANSWER}
    ok[duration.id] = Duration(30, DurationUnit.DAYS)
    assert await consumer.file(
        rick, Submission(product.id, RequestKind.DATA_ACCESS, form.version, ok), user=me
    )


async def test_masking_exceptions_offer_the_masked_columns(consumer: ConsumerGateway, sandbox: Any) -> None:
    rick = token(sandbox, "rick")
    product = await consumer.find_product(rick, "Sales Pipeline")
    assert product is not None
    columns, total = await consumer.masked_columns(rick, product.id)
    assert total == len(columns) >= 1
    assert ("Opportunities", "owner_email") in {(c.source_name, c.column) for c in columns}
    form = await consumer.form(rick, product.id, RequestKind.MASKING_EXCEPTION)
    assert form is not None and form.kind is RequestKind.MASKING_EXCEPTION
    picked = next(c for c in columns if c.column == "owner_email")
    answers = {
        q.id: (Duration(7, DurationUnit.DAYS) if q.type is QuestionType.ACCESS_DURATION else "Audit")
        for q in form.questions
        if q.required
    }
    submission = Submission(
        product.id,
        RequestKind.MASKING_EXCEPTION,
        form.version,
        answers,
        columns=((picked.source_id, picked.column),),
    )
    request_id = await consumer.file(rick, submission, user=await consumer.me(rick))
    assert (await consumer.request(rick, request_id)).kind is RequestKind.MASKING_EXCEPTION


async def test_an_unfurl_names_the_product_its_domain_and_its_reviewers(
    consumer: ConsumerGateway, sandbox: Any
) -> None:
    found = await consumer.find_product(token(sandbox, "rick"), "Customer 360")
    assert found is not None
    card = await consumer.product_card(found.id)  # with the app's own account
    assert card.name == "Customer 360" and card.domain == "Customer"
    assert card.description and "customer" in card.description.casefold()
    assert "Finance Stewards" in card.stewards and len(card.stewards) == 2  # sara, and the group
