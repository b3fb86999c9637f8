"""Reminders, escalation, digests and expiry notices end to end, with time moved by a FakeClock.

The stage starts on Monday 23 November 2026 at 09:00 UTC: 10:00 in Berlin (Sara), 18:00 in Tokyo
(Omar, just past his working day) and 01:00 in Los Angeles (Gina). Sales Pipeline requests wait for
USER sara or USER omar; Finance Ledger first waits for GROUP Finance Stewards (Gina, once linked).
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from marketplace_slack.app import build
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import RecordedCall, block_action, slash_command
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ZONES = {"U0SARA": "Europe/Berlin", "U0OMAR": "Asia/Tokyo", "U0GINA": "America/Los_Angeles"}

StageFactory = Callable[..., AbstractAsyncContextManager[Stage]]


@pytest.fixture
def configured_stage(store_database: Any, clock: FakeClock, tmp_path: Path) -> StageFactory:
    """Open a stage whose configuration file holds `config`, optionally from another start time."""

    @asynccontextmanager
    async def open_configured(
        config: dict[str, Any] | None = None, *, start: datetime | None = None
    ) -> AsyncIterator[Stage]:
        if start is not None:
            clock.set(start)
        path = tmp_path / "marketplace-slack.yml"
        path.write_text(yaml.safe_dump(config or {}), encoding="utf-8")
        extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
        async with open_stage(
            database_url=store_database.url, clock=clock, MPSLACK_CONFIG_FILE=str(path), **extra
        ) as stage:
            yield stage
            assert stage.slack.violations == [], "the app sent something Slack would reject"
            assert stage.app.tasks.failures == 0, "a background task failed"

    return open_configured


def _reminders(stage: Stage) -> list[RecordedCall]:
    return [
        c for c in stage.slack.calls_to("chat.postMessage") if c.ok and "Reminder" in str(c.args.get("text"))
    ]


def _mentioned(call: RecordedCall) -> list[str]:
    return re.findall(r"<@(U[A-Z0-9]+)>", str(call.args.get("text")))


def _sent_to(stage: Stage, user: str) -> list[datetime]:
    """When `user` was reminded: mentioned in a thread reply, or sent a DM."""
    dm = stage.slack.dm_channel(user)
    return [c.at for c in _reminders(stage) if user in _mentioned(c) or c.response.get("channel") == dm]


async def _hours(stage: Stage, hours: int) -> None:
    for _ in range(hours):
        await stage.advance(HOUR)


async def _request(stage: Stage, who: str = "rick", product: str = "Sales Pipeline") -> str:
    request_id = await stage.request_access(who, product)
    await stage.settle()
    return request_id


def _working(at: datetime, user: str) -> bool:
    local = at.astimezone(ZoneInfo(ZONES[user]))
    return local.weekday() < 5 and time(9) <= local.time() < time(18)


# --- reminders ------------------------------------------------------------------------------------


async def test_first_reminder_after_four_working_hours_in_the_cards_thread(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        request_id = await _request(stage)
        await stage.advance(timedelta(hours=3, minutes=59))
        assert _reminders(stage) == []

        await stage.advance(timedelta(minutes=1))  # 14:00 in Berlin: four working hours for Sara

        [reminder] = _reminders(stage)
        card = await stage.app.store.cards.get(request_id)
        assert (
            card is not None
            and reminder.args["thread_ts"] == card.ts
            and reminder.args["channel"] == card.channel
        )
        assert _mentioned(reminder) == ["U0SARA"]  # 22:00 in Tokyo: Omar waits for his own morning
        assert ids.SNOOZE_1D in str(reminder.args["blocks"])


async def test_the_requester_is_never_reminded_about_their_own_request(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        request_id = await _request(stage, "sara", "Sales Pipeline")  # Sara is also one of its approvers
        await stage.advance(timedelta(hours=19))  # Tuesday 13:00 in Tokyo

        assert [r.recipient for r in await stage.app.store.reminders.list(request_id=request_id)] == [
            "U0OMAR"
        ]
        assert [_mentioned(c) for c in _reminders(stage)] == [["U0OMAR"]]


async def test_a_steward_who_filed_a_request_for_someone_else_is_not_reminded_about_it(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        request_id = await stage.request_access(
            "sara", "Sales Pipeline", for_user="rick"
        )  # Sara files for Rick
        await stage.settle()
        await stage.advance(timedelta(hours=19))  # Tuesday 13:00 in Tokyo

        assert [r.recipient for r in await stage.app.store.reminders.list(request_id=request_id)] == [
            "U0OMAR"
        ]


async def test_reminders_repeat_daily_and_only_in_each_approvers_working_hours(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        await stage.link("gina")  # found through her group, Finance Stewards, once linked
        await _request(stage, "rick", "Sales Pipeline")
        await _request(stage, "nora", "Finance Ledger")

        await _hours(stage, 24 * 3)  # Monday 09:00 to Thursday 09:00 UTC

        sent = {user: _sent_to(stage, user) for user in ZONES}
        assert all(sent.values()), sent
        for user, times in sent.items():
            assert all(_working(at, user) for at in times), (user, times)  # Tokyo, Berlin, Los Angeles
            # Once a working day: one working day apart, at the same local hour.
            gaps = {b - a for a, b in pairwise(times)}
            assert gaps == {timedelta(days=1)}, (user, times)
        assert [t.astimezone(ZoneInfo("Europe/Berlin")).hour for t in sent["U0SARA"]] == [14, 14, 14]
        assert sent["U0OMAR"][0] == datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # Tuesday 13:00 in Tokyo
        assert sent["U0GINA"][0] == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # Monday 13:00 in LA


async def test_no_reminders_over_the_weekend_when_berlin_leaves_summer_time(
    configured_stage: StageFactory,
) -> None:
    friday = datetime(2026, 10, 23, 7, 0, tzinfo=UTC)  # 09:00 in Berlin, summer time (UTC+2)
    async with configured_stage(start=friday) as stage:
        await _request(stage)
        await _hours(stage, 24 * 3 + 6)  # to Monday 13:00 UTC, over the change on Sunday 25 October

        # Friday 13:00 CEST, then Monday 13:00 CET: the same local hour, an hour later in UTC.
        berlin = _sent_to(stage, "U0SARA")
        assert berlin == [
            datetime(2026, 10, 23, 11, 0, tzinfo=UTC),
            datetime(2026, 10, 26, 12, 0, tzinfo=UTC),
        ]
        assert not any(c.at.weekday() >= 5 for c in _reminders(stage))


async def test_escalation_after_two_reminders_names_who_has_not_acted(configured_stage: StageFactory) -> None:
    config = {"reminders": {"escalation": {"after": 2, "channel": "C0GENERAL", "usergroup": "S0STEWARDS"}}}
    async with configured_stage(config) as stage:
        await _request(stage)
        await _hours(stage, 24 * 2 + 4)  # to Wednesday 13:00 UTC: Sara's third reminder would be due

        escalations = stage.slack.messages("C0GENERAL")
        assert len(escalations) == 1
        text = str(escalations[0].blocks)
        assert "Sara Stone" in text and "Omar Haddad" in text and "<!subteam^S0STEWARDS>" in text
        assert "after 2 reminders" in text and "2 days" in text
        assert len(_sent_to(stage, "U0SARA")) == 2 and len(_sent_to(stage, "U0OMAR")) == 2

        await _hours(stage, 24)  # and then: no more reminders, no second escalation
        assert len(_reminders(stage)) == 4 and len(stage.slack.messages("C0GENERAL")) == 1


async def test_escalation_to_a_user_group_alone_is_a_dm_to_each_member(
    configured_stage: StageFactory,
) -> None:
    config = {"reminders": {"escalation": {"after": 1, "usergroup": "S0STEWARDS"}}}  # Sara and Gina
    async with configured_stage(config) as stage:
        await _request(stage)
        await _hours(stage, 28)  # Sara's one reminder Monday, Omar's Tuesday; Tuesday 13:00 UTC escalates

        for member in ("sara", "gina"):
            dms = [
                m
                for m in stage.slack.messages(stage.slack.dm_channel(stage.slack_user(member)))
                if "Escalation" in m.text
            ]
            assert len(dms) == 1, member
        assert "Sara Stone" in str(dms[0].blocks) and "<!subteam" not in str(dms[0].blocks)


async def test_snoozing_a_dm_reminder_holds_only_that_stewards_reminders(
    configured_stage: StageFactory,
) -> None:
    config = {"routes": [{"product": "Sales Pipeline", "channel": STEWARDS_CHANNEL, "reminders": "dm"}]}
    async with configured_stage(config) as stage:
        await _request(stage)
        await stage.advance(timedelta(hours=4))
        sara = stage.slack_user("sara")
        [dm] = stage.slack.messages(stage.slack.dm_channel(sara))
        assert ids.VIEW_REQUEST in str(dm.blocks)  # a DM links to the card (chat.getPermalink)

        payload = block_action(
            user_id=sara,
            team_id=stage.slack.team_id,
            channel_id=dm.channel,
            message_ts=dm.ts,
            action_id=ids.SNOOZE_3D,
            message_blocks=dm.blocks,
        )
        assert (await stage.agent.send_interaction(payload)).status == 200
        await stage.settle()
        assert "Snoozed" in stage.slack.messages(dm.channel)[-1].text  # told, in the DM

        await _hours(stage, 24 * 3)  # to Thursday 13:00 UTC
        assert _sent_to(stage, sara) == [MONDAY + timedelta(hours=4), MONDAY + timedelta(days=3, hours=4)]
        assert len(_sent_to(stage, "U0OMAR")) == 3  # Tuesday, Wednesday, Thursday in Tokyo: not snoozed


async def test_reminders_stop_when_decided_in_slack(configured_stage: StageFactory) -> None:
    async with configured_stage() as stage:
        request_id = await _request(stage)
        await stage.advance(timedelta(hours=4))
        assert len(_reminders(stage)) == 1
        await stage.link("sara")
        await stage.decide("sara", request_id, "approve", duration="7:DAYS")

        await _hours(stage, 24)  # past Omar's first (Tuesday in Tokyo) and Sara's second

        assert len(_reminders(stage)) == 1
        assert not any(r.active for r in await stage.app.store.reminders.list(request_id=request_id))


@pytest.mark.parametrize(
    "webhook",
    [pytest.param(True, id="webhook"), pytest.param(False, id="webhook-lost")],
)
async def test_reminders_stop_when_decided_in_the_marketplace(
    configured_stage: StageFactory, webhook: bool
) -> None:
    async with configured_stage() as stage:
        request_id = await _request(stage)
        await stage.advance(timedelta(hours=4))  # Sara reminded; Omar's first is due Tuesday
        if not webhook:
            for hook in list(stage.sandbox.webhooks.webhooks):
                stage.sandbox.webhooks.remove(hook)
        omar = stage.marketplace_as("omar")
        record = (await omar.get_access_request_records(request_id)).approval_records[0]
        await omar.update_approval_record(
            record.id, wire.UpdateApprovalRecordRequest(status=wire.ApprovalRecordStatus.DENIED, reason="No")
        )
        await stage.settle()

        await _hours(stage, 24)  # past Omar's first (Tuesday in Tokyo) and Sara's second

        # Without the webhook the app still knew nothing, but each reminder reads fresh state first.
        assert len(_reminders(stage)) == 1
        assert not any(r.active for r in await stage.app.store.reminders.list(request_id=request_id))


async def test_a_restart_between_two_reminders_loses_nothing_and_doubles_nothing(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        await _request(stage)
        await stage.advance(timedelta(hours=4))
        assert _sent_to(stage, "U0SARA") == [MONDAY + timedelta(hours=4)]

        await stage.restart()  # a new process on the same database
        await _hours(stage, 24)

        assert _sent_to(stage, "U0SARA") == [MONDAY + timedelta(hours=4), MONDAY + timedelta(days=1, hours=4)]
        assert _sent_to(stage, "U0OMAR") == [MONDAY + timedelta(hours=19)]  # Tuesday 13:00 in Tokyo


async def test_two_instances_racing_send_each_reminder_and_digest_once(
    configured_stage: StageFactory,
) -> None:
    config = {"digests": [{"channel": STEWARDS_CHANNEL, "timezone": "Europe/Berlin"}]}
    async with configured_stage(config) as stage:
        for who in ("rick", "nora", "gina"):
            await _request(stage, who)
        other = await build(stage.app.settings, clock=stage.clock, owner="replica-2")
        try:
            for hours in (4, 19, 5):  # Sara's first, Omar's first + the Tuesday digest, Sara's second
                stage.clock.advance(timedelta(hours=hours))  # type: ignore[attr-defined]
                for _ in range(3):  # both at once, and again: whoever is second finds nothing left
                    await asyncio.gather(stage.app.timekeeper.due_work(), other.timekeeper.due_work())
                await stage.settle()
        finally:
            await other.stop()

        # Per request: Sara twice (Monday, Tuesday in Berlin), Omar once (Tuesday in Tokyo), never doubled.
        per_thread = Counter(
            (c.args.get("thread_ts"), who) for c in _reminders(stage) for who in _mentioned(c)
        )
        assert sorted(per_thread.values()) == [1, 1, 1, 2, 2, 2]
        assert Counter(who for _, who in per_thread) == {"U0SARA": 3, "U0OMAR": 3}
        # Monday's 09:00 slot (missed: the app "started" at 10:00, within the grace) and Tuesday's.
        digests = [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "waiting for a decision" in m.text]
        assert len(digests) == 2


# --- digests --------------------------------------------------------------------------------------


async def test_digest_at_nine_in_berlin_lists_whats_waiting_with_links(
    configured_stage: StageFactory,
) -> None:
    config = {
        "digests": [{"channel": STEWARDS_CHANNEL, "schedule": "0 9 * * 1-5", "timezone": "Europe/Berlin"}]
    }
    async with configured_stage(config) as stage:
        first = await _request(stage, "rick", "Sales Pipeline")
        stage.clock.advance(HOUR)  # type: ignore[attr-defined]
        await _request(stage, "nora", "Finance Ledger")
        await stage.link("sara")
        await stage.decide("sara", first, "deny", reason="Not now")  # decided: not in the digest
        await _request(stage, "gina", "Sales Pipeline")

        def digests() -> list[Any]:
            return [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "waiting for a decision" in m.text]

        await stage.advance(HOUR)  # Monday 12:00 in Berlin: the app "started" after the 09:00 slot
        assert len(digests()) == 1  # so it posts the digest it missed, being within the grace period
        await _hours(stage, 20)  # Tuesday 07:00 UTC: 08:00 in Berlin, nothing new yet
        assert len(digests()) == 1
        await stage.advance(HOUR)  # 09:00 in Berlin

        latest = digests()[-1]
        assert len(digests()) == 2 and latest.ts.startswith(
            str(int(datetime(2026, 11, 24, 8, tzinfo=UTC).timestamp()))
        )
        body = str(latest.blocks)
        assert "2 waiting* across 2 data products" in body
        assert body.index("Finance Ledger") < body.index("Sales Pipeline")  # the oldest wait first
        assert "Gina Rossi" in body and "Nora Quinn" in body and "Rick Moreno" not in body
        assert body.count("https://marketplace-demo.slack.com/archives/C0STEWARDS/") == 2
        assert len(stage.slack.calls_to("chat.getPermalink")) == 2  # fetched once, then remembered

        await _hours(stage, 23)  # nothing twice; Wednesday's comes at Wednesday's 09:00
        assert len(digests()) == 2
        await stage.advance(HOUR)
        assert len(digests()) == 3


async def test_no_digest_when_nothing_waits_and_the_command_posts_one_now(
    configured_stage: StageFactory,
) -> None:
    config = {"digests": [{"channel": STEWARDS_CHANNEL}]}
    async with configured_stage(config) as stage:
        await stage.advance(timedelta(days=1))  # Tuesday 09:00 UTC: the slot passes with nothing pending
        assert stage.slack.messages(STEWARDS_CHANNEL) == []

        await _request(stage)
        sara = stage.slack_user("sara")
        await stage.agent.send_slash_command(
            slash_command(
                user_id=sara,
                team_id=stage.slack.team_id,
                channel_id=STEWARDS_CHANNEL,
                command=ids.SLASH_COMMAND,
                text="digest",
            )
        )
        await stage.settle()
        [digest] = [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "waiting for a decision" in m.text]
        assert "Rick Moreno" in str(digest.blocks)

        await stage.agent.send_slash_command(
            slash_command(
                user_id=sara,
                team_id=stage.slack.team_id,
                channel_id="C0GENERAL",
                command=ids.SLASH_COMMAND,
                text="digest",
            )
        )
        await stage.settle()
        assert stage.slack.messages("C0GENERAL") == []  # no card goes there and no digest is configured
        assert (
            "this one has neither" in stage.slack.ephemeral_messages(channel="C0GENERAL", user=sara)[-1].text
        )


# --- expiry notices -------------------------------------------------------------------------------


async def test_expiry_notices_seven_days_and_one_day_before_in_the_members_hours(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage() as stage:
        request_id = await _request(stage)
        await stage.link("sara")
        await stage.decide("sara", request_id, "approve", duration="30:DAYS")
        ends = (await stage.app.marketplace.get_access_request_by_id(request_id)).expiration
        assert ends is not None
        rick = stage.slack_user("rick")
        dm = stage.slack.dm_channel(rick)
        approved_dm = len(stage.slack.messages(dm))  # "your request was approved"

        await stage.advance(ends - timedelta(days=7) - stage.clock.now())  # 03:00 in Chicago
        assert len(stage.slack.messages(dm)) == approved_dm  # held for Rick's morning
        await _hours(stage, 6)
        seven = stage.slack.messages(dm)[approved_dm:]
        assert len(seven) == 1 and "ends in 7 days" in seven[0].text
        assert ids.REQUEST_AGAIN_OPEN in str(seven[0].blocks)
        sent_at = datetime.fromtimestamp(int(seven[0].ts.split(".")[0]), UTC).astimezone(
            ZoneInfo("America/Chicago")
        )
        assert sent_at.hour == 9 and "CST" in str(seven[0].blocks)  # the expiry in Rick's zone

        await stage.advance(ends - timedelta(days=1) - stage.clock.now())
        await _hours(stage, 6)
        notices = stage.slack.messages(dm)[approved_dm:]
        assert len(notices) == 2 and "ends in 18 hours" in notices[1].text

        await stage.advance(timedelta(days=2))  # expired: the card says so, one DM says so, no more notices
        after = stage.slack.messages(dm)[approved_dm + 2 :]
        assert [m.text for m in after] == ["Your request for access to Sales Pipeline: ⌛ Expired"]
        assert "Expired" in str((await stage.card(request_id)).blocks)
        assert {r.outcome for r in await stage.app.store.expiry.list(request_id)} == {"sent"}


async def test_grants_the_app_never_saw_are_found_by_the_scan(configured_stage: StageFactory) -> None:
    async with configured_stage() as stage:
        for hook in list(stage.sandbox.webhooks.webhooks):
            stage.sandbox.webhooks.remove(hook)  # the auto-approval's webhook never arrives
        granted = await stage.request_access("rick", "Web Analytics")  # approved at once, for 30 days
        await stage.settle()
        assert await stage.app.store.expiry.list(granted) == []

        await stage.app.timekeeper.scan_grants()

        ends = (await stage.app.marketplace.get_access_request_by_id(granted)).expiration
        assert ends is not None
        planned = await stage.app.store.expiry.list(granted)
        assert [(r.days_before, r.due_at) for r in planned] == [
            (7, ends - timedelta(days=7)),
            (1, ends - timedelta(days=1)),
        ]


async def test_a_digest_of_500_pending_requests_fits_slack_and_links_only_what_it_shows(
    configured_stage: StageFactory,
) -> None:
    from dataclasses import replace

    from sqlalchemy import insert

    from marketplace_slack.store.tables import cards
    from marketplace_slack.workflow.digests import summary_json
    from slack.factories import pending_data_access

    async with configured_stage() as stage:
        now = stage.clock.now()
        template = pending_data_access().request
        rows = []
        for n in range(500):  # 30 products; request n waited n + 1 hours
            posted = stage.slack.workspace.chat_post_message(
                {"channel": STEWARDS_CHANNEL, "text": f"card {n}"}
            )
            request = replace(
                template,
                id=f"req-{n:03d}",
                product_id=f"dp-{n % 30:02d}",
                product_name=f"Product {n % 30:02d}",
                requester=replace(template.requester, name=f"Requester {n:03d}"),
                created_at=now - timedelta(hours=n + 1),
            )
            rows.append(
                {
                    "request_id": request.id,
                    "channel": STEWARDS_CHANNEL,
                    "ts": posted["ts"],
                    "status": "PENDING",
                    "summary": summary_json(request),
                    "posted_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with stage.app.store.engine.begin() as conn:
            await conn.execute(insert(cards), rows)

        await stage.agent.send_slash_command(
            slash_command(
                user_id=stage.slack_user("sara"),
                team_id=stage.slack.team_id,
                channel_id=STEWARDS_CHANNEL,
                command=ids.SLASH_COMMAND,
                text="digest",
            )
        )
        await stage.settle()

        [digest] = [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "waiting for a decision" in m.text]
        body = str(digest.blocks)
        assert "500 waiting* across 30 data products" in body and len(digest.blocks) <= 50
        # Product 19 holds the oldest request (499): its group comes first, its oldest line first.
        assert body.index("Product 19") < body.index("Product 18") and "Requester 499" in body
        assert body.index("Requester 499") < body.index("Requester 469")
        # Products 20 to 29 hold the youngest waits: 16 requests each, summarised in one line.
        assert "…and 12 more in Product 19" in body and "…and 160 more in 10 other data products" in body
        assert len(stage.slack.calls_to("chat.getPermalink")) == 100  # 20 products, 5 lines each
        assert body.count("https://marketplace-demo.slack.com/archives/C0STEWARDS/") == 100


async def test_a_failed_dm_loses_no_other_stewards_reminder(configured_stage: StageFactory) -> None:
    every_hour = {"start": "00:00", "end": "23:59", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    config = {
        "routes": [{"product": "Sales Pipeline", "channel": STEWARDS_CHANNEL, "reminders": "dm"}],
        "reminders": {"working_hours": every_hour},
    }
    async with configured_stage(config) as stage:
        await _request(stage)
        stage.slack.fail_next("chat.postMessage", error="fatal_error")  # the first DM of the tick fails

        await stage.advance(timedelta(hours=4))  # Sara and Omar are both due now
        await stage.advance(timedelta(minutes=1))  # the next tick tries again

        assert len(_sent_to(stage, "U0SARA")) == 1
        assert len(_sent_to(stage, "U0OMAR")) == 1
