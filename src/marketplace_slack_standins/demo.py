"""`marketplace-slack demo`: the whole loop, offline, printed as readable Slack messages.

It starts the Marketplace sandbox, a stand-in for Slack's Web API and the app on loopback, then plays
a scenario: requests arrive, cards are posted, stewards link their accounts and decide in Slack, and
a request decided in the Marketplace itself is followed by its card. A consumer requests from Slack
(linking first, every field type, an agreement, a masking exception), and App Homes are shown. Then
time is fast-forwarded (a fake clock, from Monday 08:00 in Berlin) through a channel digest and
reminders that wait for each steward's working hours.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import yaml

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.slack import ids
from marketplace_slack_standins.consumer import Consumer
from marketplace_slack_standins.fakeslack import RecordedCall, describe_call
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

# Monday 08:00 in Berlin (Sara), 16:00 in Tokyo (Omar); the demo's clock only moves when told to.
START = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
CONFIG = {
    "digests": [{"channel": STEWARDS_CHANNEL, "schedule": "0 9 * * mon-fri", "timezone": "Europe/Berlin"}]
}

# What a person would have seen in Slack; the rest (lookups, auth) is plumbing.
_SHOWN = {
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.update",
    "views.publish",
}


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0

    def __call__(self, call: RecordedCall) -> None:
        if call.method not in _SHOWN or not call.ok:
            return
        self.count += 1
        self.out.write(_indent(describe_call(call)) + "\n\n")

    def say(self, text: str) -> None:
        self.out.write(f"\n▶ {text}\n\n")


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


async def run_demo(out: TextIO = sys.stdout) -> int:
    started = time.perf_counter()
    printer = _Printer(out)
    with tempfile.TemporaryDirectory(prefix="marketplace-slack-demo-") as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        config = Path(tmp) / "marketplace-slack.yml"
        config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
        async with open_stage(
            database_url=database_url, clock=FakeClock(START), MPSLACK_CONFIG_FILE=str(config)
        ) as stage:
            stage.slack.subscribe(printer)
            out.write(
                "marketplace-slack demo: Marketplace sandbox, a stand-in Slack and the app, on loopback.\n"
                f"  sandbox  {stage.sandbox.base_url}\n  app      {stage.app.url}\n"
            )
            await _scenario(stage, printer)
    out.write(f"\nDone: {printer.count} Slack messages in {time.perf_counter() - started:.1f} s.\n")
    return 0


async def _scenario(stage: Stage, p: _Printer) -> None:
    p.say("Rick asks the Marketplace for 30 days of access to Sales Pipeline; the webhook brings the card.")
    first = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()

    p.say("Sara links her Marketplace account with /marketplace link (the token she pastes is never shown).")
    await stage.link("sara")

    p.say("Sara picks 7 days and approves.")
    await stage.decide("sara", first, "approve", duration="7:DAYS", reason="Pipeline review, Q4")

    p.say("Nora asks for Customer 360 (two stewards must agree); Sara denies it with a reason.")
    second = await stage.request_access("nora", "Customer 360")
    await stage.settle()
    await stage.decide(
        "sara", second, "deny", reason="Customer 360 holds PII; please request the masked view."
    )

    p.say("Gina asks for Sales Pipeline; Omar approves it in the Marketplace itself, and the card follows.")
    third = await stage.request_access("gina", "Sales Pipeline")
    await stage.settle()
    omar = stage.marketplace_as("omar")
    records = await omar.get_access_request_records(third)
    pending = next(r for r in records.approval_records if str(r.status) == "PENDING")
    await omar.update_approval_record(
        pending.id,
        wire.UpdateApprovalRecordRequest(
            status=wire.ApprovalRecordStatus.APPROVED,
            reason="Approved in the Marketplace",
            duration=30,
            duration_unit=wire.DurationUnit.DAYS,
        ),
    )
    await stage.settle()

    p.say("Nora asks for Sales Pipeline too, and Rick for Finance Ledger; then nobody looks at them.")
    await stage.request_access("nora", "Sales Pipeline")
    await stage.request_access("rick", "Finance Ledger")
    await stage.settle()

    await _consumer_scene(stage, p)

    p.say("⏩ 09:00 in Berlin: the channel's morning digest of what is waiting, oldest first.")
    await stage.advance(timedelta(hours=1))

    p.say(
        "⏩ 13:00 in Berlin, four working hours on: Sara is reminded in the card's thread. Omar, in "
        "Tokyo where it is 21:00, is left alone until his own morning."
    )
    await stage.advance(timedelta(hours=4))

    p.say("⏩ Tuesday 11:00 in Tokyo: Omar's reminder, four of his working hours after the request.")
    await stage.advance(timedelta(hours=14))


async def _consumer_scene(stage: Stage, p: _Printer) -> None:
    """Self-service: a consumer requests from Slack, with every field type, an agreement and a masking
    exception; then the App Home of a steward and of the consumer."""
    nora = Consumer(stage, "nora")
    p.say("Nora runs /marketplace request Customer 360. She has not linked yet: the modal asks first.")
    await nora.command("request Customer 360")
    await stage.submit("nora", nora.modal(), {ids.TOKEN_INPUT: stage.sandbox.token_for("nora")})

    p.say("Linked, she lands back in the form: a menu, checkboxes, a short answer, the agreement in full.")
    await nora.submit(
        {"Purpose": "Analytics", "Regions needed": ["EU", "NA"], "Justification": "Churn model refresh"}
    )
    p.say("Her request is filed with her own token; the modal confirms it and the card reaches the stewards.")

    p.say("Asked again, the modal says she already did; she switches to a masking exception instead.")
    await nora.command("request Customer 360")
    await nora.pick_kind("MASKING_EXCEPTION")
    columns = next(
        b["element"]
        for b in nora.modal()["blocks"]
        if (b.get("element") or {}).get("action_id") == ids.COLUMNS_INPUT
    )
    email = next(
        o["value"] for g in columns["option_groups"] for o in g["options"] if o["text"]["text"] == "email"
    )
    await nora.submit(
        {
            "Purpose": "Customer support",
            "Regions needed": ["EU"],
            "Justification": "Reply to a data subject request",
            "Masked columns to unmask": [email],
        }
    )

    p.say("Sara opens the app's Home: what waits on her, with Approve and Deny. Then Nora opens hers.")
    await Consumer(stage, "sara").open_home()
    await nora.open_home()
