"""No secret reaches a log line, at DEBUG, in HTTP mode and in Socket Mode (issue 10 §4).

The whole flow runs with logging configured as `serve` configures it, at DEBUG: a card, a link with a
pasted token, a decision made with it, a Slack request whose signature is stale (Bolt logs its whole
body) carrying another token the app never accepted, a Marketplace webhook with a bad signature. Then
neither a record of any logger (Bolt's and slack_sdk's included: formatted, arguments, exception and
stack) nor what structlog printed holds any of the secrets. The same flow without the redaction shows
the pasted token in Bolt's record, so the capture is one that would see a leak.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from logcapture import Capture
from marketplace_slack.infra import logs
from marketplace_slack.infra.clock import FakeClock, SystemClock
from marketplace_slack.infra.redaction import WITHHELD
from marketplace_slack.marketplace.webhooks import SIGNATURE_HEADER, sign
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import slash_command, view_state, view_submission
from marketplace_slack_standins.fakeslack.agent import Delivery, SlackUserAgent
from marketplace_slack_standins.stage import (
    SIGNING_SECRET,
    STEWARDS_CHANNEL,
    WEBHOOK_KEY,
    Stage,
    open_stage,
)

PRODUCT = "Sales Pipeline"  # Sara is among its approvers


@contextmanager
def capturing() -> Iterator[Capture]:
    handler = Capture()
    # First of the root's handlers: it sees each record before any other handler's filter redacts it.
    logging.root.handlers.insert(0, handler)
    try:
        yield handler
    finally:
        logging.root.removeHandler(handler)


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> Iterator[Capture]:
    """Logging configured as `serve` does with MPSLACK_LOG_LEVEL=DEBUG, before the app is built, and
    then a handler added to the root. `configure` gives its filter to the handlers the root has by then
    (pytest's `caplog`, here; `basicConfig`'s in production); this one has to do without it."""
    logs.configure("DEBUG", "json")
    with capturing() as handler:
        yield handler


@pytest.fixture(params=["http", "socket"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def stage(
    store_database: object,
    clock: FakeClock,
    mode: str,
    capture: Capture,
    capsys: pytest.CaptureFixture[str],  # from the start, so what start-up prints is seen too
) -> AsyncIterator[Stage]:
    db = store_database
    extra = {"MPSLACK_DATABASE_SCHEMA": db.schema} if getattr(db, "schema", None) else {}
    async with open_stage(
        database_url=db.url,  # type: ignore[attr-defined]
        clock=clock,
        socket_mode=mode == "socket",
        **extra,
    ) as running:
        yield running


async def _stale_link_submission(stage: Stage, username: str) -> Delivery:
    """`username` opens the link form and pastes their token, and the submission reaches the app with
    a stale signature (over HTTP, as Slack would deliver it an hour late)."""
    user_id = stage.slack_user(username)
    opened = len(stage.slack.calls_to("views.open"))
    await stage.agent.send_slash_command(
        slash_command(
            user_id=user_id,
            team_id=stage.slack.team_id,
            channel_id=STEWARDS_CHANNEL,
            command=ids.SLASH_COMMAND,
            text="link",
        )
    )
    await stage.slack.wait_for("views.open", count=opened + 1)
    view = stage.slack.views(user_id)[-1]
    values = view_state(view, {ids.TOKEN_INPUT: stage.sandbox.token_for(username)})
    payload = view_submission(user_id=user_id, team_id=stage.slack.team_id, view=view, state_values=values)
    assert stage.app.url is not None
    # Signed as Slack signs, with the real time (which Bolt checks), but past the allowed skew.
    events = f"{stage.app.url}/slack/events"
    async with SlackUserAgent(events, SIGNING_SECRET, slack=stage.slack, clock=SystemClock()) as agent:
        return await agent.send_interaction(payload, forge="stale_timestamp")


async def _badly_signed_webhook(stage: Stage) -> int:
    body = json.dumps({"eventType": "marketplace.data_product.access_requests.created", "id": "x"}).encode()
    headers = {SIGNATURE_HEADER: sign(body, WEBHOOK_KEY + "-not"), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=str(stage.app.url)) as http:
        response = await http.post(stage.app.settings.webhook_path, content=body, headers=headers)
    return response.status_code


async def _run_the_flow(stage: Stage, mode: str) -> None:
    request_id = await stage.request_access("rick", PRODUCT)
    await stage.settle()
    await stage.link("sara")
    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")
    assert (await stage.app.store.links.get(stage.slack.team_id, stage.slack_user("sara"))) is not None
    if mode == "http":
        stale = await _stale_link_submission(stage, "omar")
        assert stale.status == 401
    assert await _badly_signed_webhook(stage) == 401
    await stage.settle()


def _secrets(stage: Stage) -> dict[str, str]:
    held = {f"setting {n}": s.get_secret_value() for n, s in enumerate(stage.app.settings.secret_values())}
    names = ("admin", "sara", "omar", "rick")
    return held | {f"token of {name}": stage.sandbox.token_for(name) for name in names}


async def test_no_secret_reaches_a_log_line_at_debug(
    stage: Stage,
    mode: str,
    capture: Capture,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _run_the_flow(stage, mode)
    secrets = _secrets(stage)
    await stage.app.stop()  # its shutdown logs too
    printed = capsys.readouterr()

    # The capture saw what it had to see, so the absences below mean something.
    assert any(r.levelno == logging.DEBUG for r in capture.records), "no DEBUG record was captured"
    events = [json.loads(line)["event"] for line in printed.out.splitlines() if line.startswith("{")]
    assert "started" in events and "webhook_rejected" in events, events
    if mode == "http":
        [invalid] = [line for line in capture.of("slack_bolt") if "Invalid request signature" in line]
        assert WITHHELD in invalid  # Bolt's record of the stale request is there, without its body
    else:
        assert capture.of("slack_bolt"), "nothing from Bolt's socket client was captured"
    libraries_debug = [
        line
        for line, r in zip(capture.lines, capture.records, strict=True)
        if r.levelno < logging.INFO and logs.is_library(r.name)
    ]
    assert libraries_debug == [], "a library's DEBUG got out"

    assert caplog.records, "pytest's handler, which has the filter, saw nothing"
    seen = capture.everything() + caplog.text + repr([r.__dict__ for r in caplog.records])
    seen += printed.out + printed.err
    leaked = [name for name, secret in secrets.items() if secret in seen]
    assert leaked == [], f"in the logs: {leaked}"


async def test_without_the_redaction_the_same_capture_sees_the_pasted_token(
    store_database: object, clock: FakeClock
) -> None:
    """The control: logging as it was before (the root at DEBUG, no redaction, no cap)."""
    logging.root.setLevel(logging.DEBUG)
    db: Any = store_database
    extra = {"MPSLACK_DATABASE_SCHEMA": db.schema} if getattr(db, "schema", None) else {}
    with capturing() as capture:
        async with open_stage(database_url=db.url, clock=clock, **extra) as stage:
            assert (await _stale_link_submission(stage, "omar")).status == 401
            token = stage.sandbox.token_for("omar")
    assert token in capture.everything()
