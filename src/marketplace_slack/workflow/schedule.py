"""Time-driven work: reminders, expiry notices, digests, cards waiting for a failing channel, links
warned about and ended, pruning, and the APScheduler jobs that wake it.

APScheduler is only the clock. What is due, what was sent and when all live in the store, so the
jobs carry no state: `due_work(now)` asks the store what is due at `now` and does it, exactly once
across replicas (see `reminders.py`, `expiry.py`, `digests.py`). A restart, a missed tick or two
replicas firing together change nothing but the moment work is noticed. Tests call `due_work`
directly after moving a `FakeClock`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from marketplace_slack.config_file import ConfigFile
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.approvers import ApproverFinder
from marketplace_slack.workflow.digests import Digests
from marketplace_slack.workflow.expiry import ExpiryNotices, ExpiryReport
from marketplace_slack.workflow.link_expiry import LinkExpiry, LinkExpiryReport
from marketplace_slack.workflow.ports import Directory, Messenger
from marketplace_slack.workflow.pruning import Pruner
from marketplace_slack.workflow.reminders import ReminderReport, Reminders
from marketplace_slack.workflow.renewals import RenewalReminders, RenewalReport
from marketplace_slack.workflow.routing import Router

if TYPE_CHECKING:
    from marketplace_slack.workflow.cards import CardKeeper
    from marketplace_slack.workflow.home import HomeService

log = structlog.get_logger(__name__)

FIRST_SCAN_AFTER: Final = timedelta(minutes=5)
PRUNE_EVERY: Final = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class DueReport:
    reminders: ReminderReport
    expiry: ExpiryReport
    digests: int
    cards: int = 0  # cards that had waited for their channel and are shown now
    links: LinkExpiryReport | None = None  # links warned about and ended
    homes: int = 0  # App Homes that had gone stale and are published now
    renewals: RenewalReport | None = None  # "you can request again" reminders


class Timekeeper:
    def __init__(
        self,
        *,
        reminders: Reminders,
        digests: Digests,
        expiry: ExpiryNotices,
        pruner: Pruner,
        clock: Clock,
        links: LinkExpiry | None = None,
    ) -> None:
        self.reminders = reminders
        self.digests = digests
        self.expiry = expiry
        self.pruner = pruner
        self.links = links
        self._clock = clock
        # Set by the composition root once the workflow exists (its observers are the parts above).
        self.cards: CardKeeper | None = None
        self.homes: HomeService | None = None
        self.renewals: RenewalReminders | None = None

    async def due_work(self, now: datetime | None = None) -> DueReport:
        """Everything due at `now` (default: the clock's now)."""
        now = now or self._clock.now()
        # Cards first: a reminder or digest due now may link to a card that only now gets posted.
        shown = await self.cards.retry_waiting(now) if self.cards is not None else 0
        return DueReport(
            cards=shown,
            reminders=await self.reminders.run_due(now),
            expiry=await self.expiry.run_due(now),
            digests=await self.digests.run_due(now),
            links=await self.links.run_due(now) if self.links is not None else None,
            homes=await self.homes.refresh_due() if self.homes is not None else 0,
            renewals=await self.renewals.run_due(now) if self.renewals is not None else None,
        )

    async def scan_grants(self) -> None:
        seen = await self.expiry.scan()
        log.info("temporary_grants_scanned", seen=seen)

    def attach(self, scheduler: AsyncIOScheduler, *, tick: timedelta, scan: timedelta) -> None:
        """Wake `due_work` every `tick`, each digest at its cron times, the grant scan every `scan` and
        the pruner every few hours (these two first a few minutes after start, so a restart does not
        add to its own busiest moment)."""
        scheduler.add_job(
            self.due_work,
            "interval",
            seconds=tick.total_seconds(),
            max_instances=1,
            coalesce=True,
            id="due-work",
        )
        for digest in self.digests.configured:
            # Fires on time, where the tick could be up to a tick late; the slot claim makes it once.
            scheduler.add_job(
                self.digests.run_due,
                CronTrigger.from_crontab(digest.schedule, timezone=digest.timezone),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(tick.total_seconds()),
                id=f"digest:{digest.channel}",
            )
        scheduler.add_job(
            self.scan_grants,
            "interval",
            seconds=scan.total_seconds(),
            next_run_time=datetime.now(UTC) + FIRST_SCAN_AFTER,  # APScheduler runs on real time
            max_instances=1,
            coalesce=True,
            id="grants",
        )
        scheduler.add_job(
            self.pruner.run,
            "interval",
            seconds=PRUNE_EVERY.total_seconds(),
            next_run_time=datetime.now(UTC) + FIRST_SCAN_AFTER,
            max_instances=1,
            coalesce=True,
            id="prune",
        )


def build_timekeeper(
    config: ConfigFile,
    *,
    store: Repository,
    gateway: MarketplaceGateway,
    messenger: Messenger,
    directory: Directory,
    router: Router,
    clock: Clock,
    owner: str,
    slack_users_kept: timedelta,
) -> Timekeeper:
    """Reminders, digests and expiry notices as the configuration file describes them, and pruning
    (`slack_users_kept`: the directory's cache TTL)."""
    finder = ApproverFinder(
        store=store,
        gateway=gateway,
        directory=directory,
        clock=clock,
        allow_self_approval=config.decisions.allow_self_approval,
        link_lifetime=config.links.lifetime,
    )
    reminders = Reminders(
        store=store,
        gateway=gateway,
        finder=finder,
        notices=messenger,
        cards=messenger,
        replies=messenger,
        directory=directory,
        router=router,
        config=config.reminders,
        clock=clock,
        owner=owner,
    )
    digests = Digests(
        store=store,
        notices=messenger,
        replies=messenger,
        digests=config.digests,
        clock=clock,
        card_channels={router.default_channel, *(route.channel for route in config.routes)},
    )
    expiry = ExpiryNotices(
        store=store,
        gateway=gateway,
        directory=directory,
        notices=messenger,
        config=config.expiry,
        hours=config.reminders.hours,
        timezone=config.reminders.timezone,
        clock=clock,
        owner=owner,
    )
    pruner = Pruner(store, clock, slack_users_kept=slack_users_kept)
    links = LinkExpiry(
        store=store, notices=messenger, lifetime=config.links.lifetime, clock=clock, owner=owner
    )
    return Timekeeper(
        reminders=reminders, digests=digests, expiry=expiry, pruner=pruner, clock=clock, links=links
    )
