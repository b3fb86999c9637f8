"""Channel digests: what is waiting for a decision, posted on each channel's own schedule.

A digest is built from the store alone, from what each card last showed (`summary_json`, written
whenever a card is shown), so it costs no Marketplace calls however long the queue; only the links
to the cards it shows are fetched from Slack.

Schedules are cron expressions in a time zone. A digest slot is the latest fire time at or before
now; it is claimed once per channel and slot (`digest:{channel}:{slot}`) before posting, so replicas
whose timers fire together post it once, and an app that was down at 09:00 still posts the 09:00
digest when it comes back, as long as that is within `grace` of the slot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from apscheduler.triggers.cron import CronTrigger

from marketplace_slack.config_file import DigestConfig
from marketplace_slack.domain import AccessRequest, Approver, RequestStatus, review_stages, stage_position
from marketplace_slack.infra.clock import Clock, utc
from marketplace_slack.store.records import CardRecord
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import Destination, Digest, DigestEntry, MessageRef, Notices, Replies

log = structlog.get_logger(__name__)

GRACE: Final = timedelta(hours=6)
_SUMMARY_VERSION: Final = 1


def summary_json(request: AccessRequest) -> str:
    """What a digest lists about a request, from the state its card shows."""
    waiting = next(((n, s) for n, s in enumerate(request.steps, start=1) if s.is_open), None)
    summary: dict[str, Any] = {
        "v": _SUMMARY_VERSION,
        "product_id": request.product_id,
        "product_name": request.product_name,
        "requester": request.requester.name or request.requester.username,
        "created_at": request.created_at.astimezone(UTC).isoformat(),
        "risk": str(request.risk.level) if request.risk is not None else None,
        "waiting_for": [[a.kind, a.label, a.ref] for a in waiting[1].approvers] if waiting else [],
        # The open record's stage of the review flow, so the digest says "stage 2 of 3" as the card does.
        "step": stage_position(request.steps, waiting[1].id)[0] if waiting else None,
        "steps": len(review_stages(request.steps)),
    }
    return json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_for(card: CardRecord) -> DigestEntry:
    """A card's digest line; a card from before summaries existed still appears, with less detail."""
    ref = MessageRef(card.channel, card.ts) if card.ts else None
    try:
        raw = json.loads(card.summary or "{}")
    except json.JSONDecodeError:
        raw = {}
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    try:
        created = utc(datetime.fromisoformat(str(data["created_at"])))
    except (KeyError, ValueError):
        created = card.created_at
    approvers = tuple(
        Approver(str(a[0]), str(a[1]), None if a[2] is None else str(a[2]))
        for a in data.get("waiting_for") or []
        if isinstance(a, list) and len(a) == 3
    )
    step = data.get("step")
    steps = data.get("steps")
    return DigestEntry(
        request_id=card.request_id,
        product_id=str(data.get("product_id") or ""),
        product_name=str(data.get("product_name") or "Unknown data product"),
        requester=str(data.get("requester") or "Someone"),
        created_at=created,
        risk=str(data["risk"]) if data.get("risk") else None,
        waiting_for=approvers,
        step_number=step if isinstance(step, int) else None,
        steps_total=steps if isinstance(steps, int) and steps > 0 else 1,
        card=ref,
    )


class Digests:
    def __init__(
        self,
        *,
        store: Repository,
        notices: Notices,
        replies: Replies,
        digests: list[DigestConfig],
        clock: Clock,
        grace: timedelta = GRACE,
        card_channels: Iterable[str] = (),
    ) -> None:
        self._store = store
        self._notices = notices
        self._replies = replies
        self._digests = digests
        self._clock = clock
        self._grace = grace
        # Where cards are routed (the default channel and every route's): `/marketplace digest` is
        # answered there and in configured digests' channels, and nowhere else.
        self._card_channels = frozenset(card_channels)
        self._triggers = {
            d.channel: CronTrigger.from_crontab(d.schedule, timezone=d.timezone) for d in digests
        }

    @property
    def configured(self) -> list[DigestConfig]:
        return list(self._digests)

    async def request_seen(self, request: AccessRequest) -> None:
        """Keep the card's digest line current (the card row exists once the card was shown)."""
        if request.status is RequestStatus.PENDING:
            await self._store.cards.set_summary(request.id, summary_json(request))

    def slot(self, digest: DigestConfig, now: datetime) -> datetime | None:
        """The schedule's latest fire time at or before `now`, if no older than the grace period."""
        trigger = self._triggers[digest.channel]
        fire = trigger.get_next_fire_time(None, now - self._grace)
        latest: datetime | None = None
        while fire is not None and fire <= now:
            latest = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        return latest.astimezone(UTC) if latest is not None else None

    async def run_due(self, now: datetime | None = None) -> int:
        """Post each digest whose slot has come and has not been posted. Returns how many were posted."""
        now = now or self._clock.now()
        results = await asyncio.gather(*(self._run(d, now) for d in self._digests), return_exceptions=True)
        posted = 0
        for digest, result in zip(self._digests, results, strict=True):
            if isinstance(result, BaseException):
                log.warning(
                    "digest_failed", channel=digest.channel, error=type(result).__name__, exc_info=result
                )
            elif result:
                posted += 1
        return posted

    async def _run(self, digest: DigestConfig, now: datetime) -> bool:
        slot = self.slot(digest, now)
        if slot is None:
            return False
        key = f"digest:{digest.channel}:{slot:%Y-%m-%dT%H:%MZ}"
        # A failed post forgets the slot's mark: a later tick within the grace period tries again.
        async with self._store.once(key, now=now) as won:
            if not won:
                return False
            built = await self.build(digest.channel, digest.scope)
            if not built.entries and not digest.post_when_empty:
                log.info("digest_empty", channel=digest.channel)
                return False
            await self._notices.send_digest(Destination.in_channel(digest.channel), built, key=key)
        log.info("digest_posted", channel=digest.channel, entries=len(built.entries))
        return True

    async def build(self, channel: str, scope: str) -> Digest:
        cards = await self._store.cards.list(statuses=[RequestStatus.PENDING.value])
        if scope == "channel":
            cards = [c for c in cards if c.channel == channel]
        return Digest(entries=tuple(entry_for(c) for c in cards), scope=scope)

    async def post_now(self, *, channel: str, user_id: str) -> None:
        """`/marketplace digest`: this channel's digest, here and now (scope as configured for it)."""
        configured = next((d for d in self._digests if d.channel == channel), None)
        built = await self.build(channel, configured.scope if configured else "channel")
        if configured is None and channel not in self._card_channels and not built.entries:
            # No card is routed here (waiting cards kept from an older route still count).
            await self._replies.tell(
                user_id=user_id, channel=channel, sentence=sentences.NOT_A_DIGEST_CHANNEL
            )
            return
        if not built.entries:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.NO_DIGEST_HERE)
            return
        try:
            await self._notices.send_digest(Destination.in_channel(channel), built)
        except Exception:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.DIGEST_NOT_POSTABLE)
            raise
