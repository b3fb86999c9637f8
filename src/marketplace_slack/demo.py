"""`marketplace-slack demo`: the whole loop, offline, printed as readable Slack messages.

It starts the Marketplace sandbox, a stand-in for Slack's Web API and the app on loopback, then plays
a scenario: requests arrive, cards are posted, stewards link their accounts and decide in Slack, and
a request decided in the Marketplace itself is followed by its card.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from marketplace_slack.fakeslack import RecordedCall, describe_call
from marketplace_slack.marketplace import models as wire
from marketplace_slack.stage import Stage, open_stage

# What a person would have seen in Slack; the rest (lookups, auth) is plumbing.
_SHOWN = {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update"}


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
        async with open_stage(database_url=database_url) as stage:
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
