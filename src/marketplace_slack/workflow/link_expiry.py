"""Links do not last for ever: a DM a few days before a link ends, and at its end the link is deleted.

A token pasted once would otherwise act for its steward for years after anyone last checked it, so
a link lives `links.expire_after_days` (default 90) from when it was made; linking again renews it.
Both messages go once per link: the store hands each due link to one replica (a leased claim on its
row), and a once-mark named after the link (`link:warn:` / `link:end:`, with its `linked_at`) guards
the DM, so a take-over after a lost answer looks for the message before posting it again.

The tick is only the moment someone is told. Whether a link may still be used is decided where it
is read for a decision (`Accounts.linked`, with `LinkLifetime.live_after`): an expired link is
refused even if no tick has run since it expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

import structlog

from marketplace_slack.infra.clock import Clock
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.marks import OutcomeUnknown
from marketplace_slack.store.records import LinkRef
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import MessageRef
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

WARN_PREFIX: Final = "link:warn:"
END_PREFIX: Final = "link:end:"
# An expired link whose holder cannot be told (Slack refuses the DM) is deleted untold after this:
# the link is refused from the moment it expired, so waiting harms nothing, but not for ever.
TELL_FOR: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LinkLifetime:
    """How long a link lives from `linked_at`, and how long before its end its holder is warned."""

    expire_after: timedelta = timedelta(days=90)
    warn_before: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        if self.expire_after <= timedelta(0) or not timedelta(0) <= self.warn_before < self.expire_after:
            raise ValueError("a link lives a positive time, and is warned about within it")

    def live_after(self, now: datetime) -> datetime:
        """Links made at or before this moment have expired at `now`."""
        return now - self.expire_after

    def expires_at(self, linked_at: datetime) -> datetime:
        return linked_at + self.expire_after


class LinkNotices(Protocol):
    async def send_link_notice(
        self, user_id: str, sentence: Sentence, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef: ...


@dataclass
class LinkExpiryReport:
    warned: int = 0
    ended: int = 0
    failed: int = 0


class LinkExpiry:
    def __init__(
        self,
        *,
        store: Repository,
        notices: LinkNotices,
        lifetime: LinkLifetime,
        clock: Clock,
        owner: str,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._store = store
        self._notices = notices
        self.lifetime = lifetime
        self._clock = clock
        self._owner = owner
        self._lease = lease

    async def run_due(self, now: datetime | None = None) -> LinkExpiryReport:
        """End the links whose time is over, then warn those whose end is near (each query a range
        of an index, so a quiet tick reads nothing but the index)."""
        now = now or self._clock.now()
        report = LinkExpiryReport()
        expired_by = self.lifetime.live_after(now)
        links, owner, lease = self._store.links, self._owner, self._lease
        for link in await links.claim_expired(expired_by=expired_by, now=now, owner=owner, lease=lease):
            await self._end(link, now, report)
        if self.lifetime.warn_before > timedelta(0):
            linked_by = now - (self.lifetime.expire_after - self.lifetime.warn_before)
            for link in await links.claim_warnings(
                linked_by=linked_by, expired_by=expired_by, now=now, owner=owner, lease=lease
            ):
                await self._warn(link, now, report)
        if report.warned or report.ended or report.failed:
            log.info("link_expiry", **vars(report))
        return report

    async def _warn(self, link: LinkRef, now: datetime, report: LinkExpiryReport) -> None:
        expires_at = self.lifetime.expires_at(link.linked_at)
        told = await self._tell(link, WARN_PREFIX, sentences.link_expires_soon(expires_at), now)
        if told is None:
            return  # its fate unknown: the claim lapses, and whoever takes it over looks first
        if not told:
            report.failed += 1
            await self._store.links.release(link, owner=self._owner)
            return
        if await self._store.links.warned(link, owner=self._owner, now=now):
            report.warned += 1

    async def _end(self, link: LinkRef, now: datetime, report: LinkExpiryReport) -> None:
        told = await self._tell(link, END_PREFIX, sentences.LINK_EXPIRED, now)
        if told is None:
            return
        if not told:
            report.failed += 1
            if now < self.lifetime.expires_at(link.linked_at) + TELL_FOR:
                await self._store.links.release(link, owner=self._owner)
                return
            log.warning("link_ended_untold", user_id=link.slack_user_id)
        if not await self._store.links.end(link, owner=self._owner):
            return  # re-linked (renewed) meanwhile, or the claim was lost to another replica
        report.ended += 1
        log.info("link_expired", user_id=link.slack_user_id)
        await self._store.audit.record(
            kind=AuditKind.LINK_ENDED,
            at=now,
            team_id=link.team_id,
            slack_user_id=link.slack_user_id,
            marketplace_user_id=link.marketplace_user_id,
            outcome="expired",
            detail={"linked_at": link.linked_at.isoformat()},
        )

    async def _tell(self, link: LinkRef, prefix: str, sentence: Sentence, now: datetime) -> bool | None:
        """DM the link's holder once: True when told (now or before), False when Slack refused,
        None when nobody can tell whether the message landed."""
        key = link_key(prefix, link)
        try:
            async with self._store.once(key, now=now, owner=self._owner, lease=self._lease) as mark:
                if mark:
                    await self._notices.send_link_notice(
                        link.slack_user_id, sentence, key=key, look_first=mark.taken_over
                    )
        except OutcomeUnknown:
            return None
        except Exception as exc:
            log.warning(
                "link_notice_failed", user_id=link.slack_user_id, error=type(exc).__name__, exc_info=exc
            )
            return False
        return True


def link_key(prefix: str, link: LinkRef) -> str:
    """The once-mark of a message about one link: a re-link (a new `linked_at`) earns its own."""
    stamp = round(link.linked_at.timestamp() * 1_000_000)
    return f"{prefix}{link.team_id}:{link.slack_user_id}:{stamp}"
