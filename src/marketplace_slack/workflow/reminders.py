"""Reminders for pending approval steps: who is reminded, when, how often, and when it escalates.

The store holds the whole schedule, so a restart loses nothing and replicas share it:

1. Whenever a card is shown (`request_seen`), the request's open steps are recorded and those no
   longer open are stopped with their reminders: a decision in Slack or the Marketplace, a
   cancellation or any settling ends them, whichever path brought the news.
2. On the tick, new steps are planned: their approvers are found in Slack (`approvers.py`), and each
   gets a schedule whose first reminder is `first_after` of *their* working time after the step
   opened. Steps are planned again every few hours, to pick up stewards who linked since. Planning
   reads the request as its card last showed it (`reminder_snapshots.py`, kept by `request_seen`),
   not the Marketplace: webhooks and reconciliation keep that current, so a tick costs Marketplace
   calls only for the reminders due now.
3. Due reminders are claimed (one replica each), checked against the Marketplace's fresh state,
   held back until the recipient's working hours, then sent: one thread reply per step mentioning
   everyone due, or a DM each, as the route says. Each send is guarded by a once-key
   `reminder:{record}:{recipient}:{n}`, claimed before sending and released if Slack fails, so a
   reminder is never sent twice even if a replica dies mid-send (it may then be lost: at most once).
4. After `escalation.after` reminders, when the next would be due, the step is escalated once
   (`escalation:{record}`) and its reminders end.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from marketplace_slack.config_file import RemindersConfig
from marketplace_slack.domain import AccessRequest, ApprovalStep, RequestStatus, stage_position
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.errors import NotFoundError
from marketplace_slack.store.records import NewReminder, ReminderRecord
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.approvers import ApproverFinder
from marketplace_slack.workflow.ports import (
    Cards,
    DeliveryUnknown,
    Destination,
    Directory,
    EscalationNote,
    MessageRef,
    Notices,
    ReminderNote,
    Replies,
)
from marketplace_slack.workflow.reminder_snapshots import from_snapshot, snapshot_json
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.workhours import add_working_time, is_working, next_working_instant

log = structlog.get_logger(__name__)

REPLAN_EVERY: Final = timedelta(hours=6)
PLAN_RETRY: Final = timedelta(minutes=5)
BATCH: Final = 500

T = TypeVar("T")


class RequestGateway(Protocol):
    async def load(self, request_id: str, *, enrich: bool = True) -> AccessRequest: ...


@dataclass
class ReminderReport:
    planned: int = 0
    sent: int = 0
    escalated: int = 0
    postponed: int = 0
    stopped: int = 0
    failed: int = 0


class Reminders:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: RequestGateway,
        finder: ApproverFinder,
        notices: Notices,
        cards: Cards,
        replies: Replies,
        directory: Directory,
        router: Router,
        config: RemindersConfig,
        clock: Clock,
        owner: str,
        lease: timedelta = timedelta(minutes=2),
        concurrency: int = 8,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._finder = finder
        self._notices = notices
        self._cards = cards  # only for links to a card, in reminders and escalations outside its thread
        self._replies = replies
        self._directory = directory
        self._router = router
        self._config = config
        self._hours = config.hours
        self._default_zone = ZoneInfo(config.timezone)
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._concurrency = concurrency

    # --- what the workflow tells us ----------------------------------------------------------------

    async def request_seen(self, request: AccessRequest) -> None:
        """Track the request's open steps; stop reminders for everything else. Makes no remote calls."""
        if not self._config.enabled:
            return
        await self._track(request, self._clock.now())

    async def _track(self, request: AccessRequest, now: datetime, *, snapshot: bool = True) -> None:
        open_steps = self._open_steps(request, now)
        text = snapshot_json(request) if open_steps and snapshot else None
        await self._store.reminders.track_steps(request.id, open_steps, now=now, snapshot=text)

    def _open_steps(self, request: AccessRequest, now: datetime) -> dict[str, datetime]:
        if request.status is not RequestStatus.PENDING or self._mode(request) == "off":
            return {}
        return {s.id: s.updated_at or request.created_at or now for s in request.open_steps}

    def _notify_only(self, request: AccessRequest) -> bool:
        return self._router.notify_only(
            product_id=request.product_id, product_name=request.product_name, domain_id=request.domain_id
        )

    def _mode(self, request: AccessRequest) -> str:
        route = self._router.route_for(
            product_id=request.product_id, product_name=request.product_name, domain_id=request.domain_id
        )
        return (route.reminders if route is not None else None) or self._config.mode

    # --- the tick ------------------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> ReminderReport:
        """Plan new steps, then send (or escalate) what is due at `now`."""
        report = ReminderReport()
        if not self._config.enabled:
            return report
        now = now or self._clock.now()
        await self._plan(now, report)
        await self._send_due(now, report)
        if report.sent or report.escalated or report.failed:
            log.info("reminders", **vars(report))
        return report

    async def _plan(self, now: datetime, report: ReminderReport) -> None:
        steps = await self._store.reminders.claim_steps_to_plan(
            now=now, retry_at=now + PLAN_RETRY, limit=BATCH
        )
        by_request: dict[str, dict[str, datetime]] = defaultdict(dict)
        shown: dict[str, AccessRequest | None] = {}
        for step in steps:
            by_request[step.request_id][step.record_id] = step.opened_at
            if shown.get(step.request_id) is None:
                shown[step.request_id] = from_snapshot(step.snapshot)

        async def plan(request_id: str, opened: dict[str, datetime]) -> None:
            request = shown.get(request_id)
            if request is None or not opened.keys() <= self._open_steps(request, now).keys():
                # Tracked before snapshots were kept, or the snapshot disagrees with the tracking:
                # the Marketplace settles it, once (its answer is tracked, snapshot included).
                request = await self._fresh(request_id, now, snapshot=True)
            if request is None:
                return
            mode = self._mode(request)
            open_steps = {s.id: s for s in request.open_steps} if self._open_steps(request, now) else {}
            for record_id, opened_at in opened.items():
                step = open_steps.get(record_id)
                if step is None:
                    continue
                recipients = await self._finder.recipients(request, step)
                added = await self._store.reminders.add(
                    [
                        NewReminder(
                            record_id=record_id,
                            recipient=r.slack_user_id,
                            request_id=request_id,
                            mode=mode,
                            next_due_at=add_working_time(
                                opened_at, self._config.first_delay, self._zone(r.tz), self._hours
                            ),
                            tz=r.tz,
                            recipient_name=r.name,
                        )
                        for r in recipients
                    ],
                    now=now,
                )
                report.planned += added  # not `+= await`: that reads the count before the await
                await self._store.reminders.step_planned(record_id, next_plan_at=now + REPLAN_EVERY, now=now)

        await self._each(by_request.items(), plan, report, what="plan")

    async def _send_due(self, now: datetime, report: ReminderReport) -> None:
        rows = await self._store.reminders.claim_due(
            now=now, owner=self._owner, lease=self._lease, limit=BATCH
        )
        by_request: dict[str, list[ReminderRecord]] = defaultdict(list)
        for row in rows:
            by_request[row.request_id].append(row)

        async def remind(request_id: str, claimed: list[ReminderRecord]) -> None:
            try:
                await self._remind(request_id, claimed, now, report)
            except BaseException:
                # Whatever was not finished goes back, to be tried on a later tick.
                for row in claimed:
                    await self._store.reminders.release(row.record_id, row.recipient, owner=self._owner)
                raise

        await self._each(by_request.items(), remind, report, what="remind")

    async def _remind(
        self, request_id: str, rows: list[ReminderRecord], now: datetime, report: ReminderReport
    ) -> None:
        # Fresh state first: a step decided a second ago must not be reminded about.
        request = await self._fresh(request_id, now)
        open_steps = (
            {s.id: s for s in request.open_steps} if request and self._open_steps(request, now) else {}
        )
        card = await self._store.cards.get(request_id)
        ref = MessageRef(card.channel, card.ts) if card is not None and card.ts else None
        by_record: dict[str, list[ReminderRecord]] = defaultdict(list)
        for row in rows:
            by_record[row.record_id].append(row)
        for record_id, group in by_record.items():
            step = open_steps.get(record_id)
            if request is None or step is None:
                report.stopped += len(group)  # request_seen has stopped them
                continue
            escalation = self._config.escalation
            due: list[ReminderRecord] = []
            if escalation is not None and any(r.sent >= escalation.after for r in group):
                await self._escalate(request, step, ref, group, now, report)
                continue
            for row in group:
                zone = self._zone(row.tz)
                if is_working(now, zone, self._hours):
                    due.append(row)
                    continue
                # Nobody is pinged outside their working hours: wait for their next morning.
                await self._store.reminders.release(
                    row.record_id,
                    row.recipient,
                    owner=self._owner,
                    postpone_to=next_working_instant(now, zone, self._hours),
                )
                report.postponed += 1
            if due:
                await self._deliver(request, step, ref, due, now, report)

    async def _deliver(
        self,
        request: AccessRequest,
        step: ApprovalStep,
        ref: MessageRef | None,
        rows: list[ReminderRecord],
        now: datetime,
        report: ReminderReport,
    ) -> None:
        # Not `store.once`: one thread message settles several marks, and when a send fails only the
        # marks of reminders not sent yet are forgotten.
        won: list[tuple[ReminderRecord, str]] = []
        for row in rows:
            key = f"reminder:{row.record_id}:{row.recipient}:{row.sent + 1}"
            if await self._store.marks.claim(key, now=now):
                won.append((row, key))
            else:
                # A replica whose claim lapsed sent (or was sending) this one: count it, never resend.
                await self._sent(row, now)
        # Thread mode needs the card; without one (never posted) a DM is the only way to reach them.
        in_thread = [(r, k) for r, k in won if r.mode == "thread" and ref is not None]
        direct = [(r, k) for r, k in won if not (r.mode == "thread" and ref is not None)]
        unsent = {k for _, k in won}
        try:
            if in_thread and ref is not None:
                note = self._note(
                    request,
                    step,
                    recipients=tuple(r.recipient for r, _ in in_thread),
                    number=max(r.sent for r, _ in in_thread) + 1,
                )
                thread_key = in_thread[0][1]  # the message's tag: one mark names it
                await self._notices.send_reminder(Destination.thread(ref), note, key=thread_key)
                for row, key in in_thread:
                    unsent.discard(key)
                    await self._sent(row, now)
                    report.sent += 1
            card_url = await self._cards.permalink(ref) if direct and ref is not None else None
            for row, key in direct:
                note = self._note(
                    request, step, recipients=(row.recipient,), number=row.sent + 1, card_url=card_url
                )
                await self._notices.send_reminder(Destination.dm(row.recipient), note, key=key)
                unsent.discard(key)
                await self._sent(row, now)
                report.sent += 1
        except BaseException as exc:
            # Every reminder not sent yet, not only the one that failed, goes back for the next tick;
            # except those whose message may be in Slack already: their marks stay, late beats doubled.
            kept = set(_unknown_keys(exc, in_thread, direct))
            for key in unsent - kept:
                await self._store.marks.forget(key)
            raise

    async def _sent(self, row: ReminderRecord, now: datetime) -> None:
        next_due = add_working_time(now, self._config.interval, self._zone(row.tz), self._hours)
        await self._store.reminders.sent(
            row.record_id,
            row.recipient,
            owner=self._owner,
            sent_before=row.sent,
            next_due_at=next_due,
            now=now,
        )

    async def _escalate(
        self,
        request: AccessRequest,
        step: ApprovalStep,
        ref: MessageRef | None,
        rows: list[ReminderRecord],
        now: datetime,
        report: ReminderReport,
    ) -> None:
        escalation = self._config.escalation
        assert escalation is not None
        zone = ZoneInfo(escalation.timezone) if escalation.timezone else self._default_zone
        if not is_working(now, zone, self._hours):
            for row in rows:
                await self._store.reminders.release(
                    row.record_id,
                    row.recipient,
                    owner=self._owner,
                    postpone_to=next_working_instant(now, zone, self._hours),
                )
            report.postponed += len(rows)
            return
        everyone = await self._store.reminders.list(record_id=step.id)
        number, total = _position(request, step)
        note = EscalationNote(
            request_id=request.id,
            record_id=step.id,
            product_name=request.product_name,
            kind=request.kind,
            requester=request.requester,
            waiting_since=_opened(request, step),
            reminders=max((r.sent for r in everyone), default=0),
            not_acted=tuple(r.recipient_name or r.recipient for r in everyone),
            approvers=step.approvers,
            usergroup=escalation.usergroup,
            step_number=number,
            steps_total=total,
            card_url=await self._cards.permalink(ref) if ref is not None else None,
            marketplace_url=request.marketplace_url,
            notify_only=self._notify_only(request),
        )
        targets: list[tuple[Destination, str, EscalationNote]] = []
        if escalation.channel:
            targets.append((Destination.in_channel(escalation.channel), f"escalation:{step.id}", note))
        elif escalation.usergroup:
            # A DM to each member: the group is who they are, not someone to mention to them.
            members = await self._directory.usergroup_members(escalation.usergroup)
            personal = replace(note, usergroup=None)
            targets += [(Destination.dm(m), f"escalation:{step.id}:{m}", personal) for m in members]
        for to, key, message in targets:
            async with self._store.once(key, now=now) as won:
                if won:
                    await self._notices.send_escalation(to, message, key=key)
                    report.escalated += 1
        await self._store.reminders.stop_step(step.id, now=now)

    # --- snooze --------------------------------------------------------------------------------------

    async def snooze(self, *, user_id: str, record_id: str, days: int, channel: str | None) -> None:
        """A click on "Snooze": hold the clicker's own reminders about this step for `days` days."""
        row = await self._store.reminders.get(record_id, user_id)
        if row is None:
            sentence = sentences.NO_REMINDERS_TO_SNOOZE
        elif not row.active or row.next_due_at is None:
            sentence = sentences.NOTHING_TO_SNOOZE
        else:
            now = self._clock.now()
            until = now + timedelta(days=days)
            resume = max(row.next_due_at, next_working_instant(until, self._zone(row.tz), self._hours))
            snoozed = await self._store.reminders.snooze(
                record_id, user_id, until=until, next_due_at=resume, now=now
            )
            sentence = sentences.snoozed(days) if snoozed is not None else sentences.NOTHING_TO_SNOOZE
        await self._replies.tell(user_id=user_id, channel=channel, sentence=sentence)

    # --- helpers -------------------------------------------------------------------------------------

    async def _fresh(self, request_id: str, now: datetime, *, snapshot: bool = False) -> AccessRequest | None:
        """The request as the Marketplace has it now (and tracking brought up to date), or None if gone.

        Its snapshot is kept only where asked (planning a step that has none): this load is not the
        card's (no people, maybe no domains), and writing it would only be undone when the card is
        next shown."""
        try:
            request = await self._gateway.load(request_id, enrich=False)
        except NotFoundError:
            await self._store.reminders.track_steps(request_id, {}, now=now)
            return None
        await self._track(request, now, snapshot=snapshot)
        return request

    def _note(
        self,
        request: AccessRequest,
        step: ApprovalStep,
        *,
        recipients: tuple[str, ...],
        number: int,
        card_url: str | None = None,
    ) -> ReminderNote:
        position, total = _position(request, step)
        return ReminderNote(
            request_id=request.id,
            record_id=step.id,
            product_name=request.product_name,
            kind=request.kind,
            requester=request.requester,
            waiting_since=_opened(request, step),
            recipients=recipients,
            number=number,
            step_number=position,
            steps_total=total,
            card_url=card_url,
            marketplace_url=request.marketplace_url,
            notify_only=self._notify_only(request),
        )

    def _zone(self, name: str | None) -> ZoneInfo:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.info("unknown_time_zone", tz=name)
        return self._default_zone

    async def _each(
        self,
        items: Iterable[tuple[str, T]],
        work: Callable[[str, T], Awaitable[None]],
        report: ReminderReport,
        *,
        what: str,
    ) -> None:
        """Run `work` per request, a few at a time; one request's failure does not stop the others."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(key: str, value: T) -> None:
            async with gate:
                await work(key, value)

        results = await asyncio.gather(*(one(k, v) for k, v in items), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                report.failed += 1
                log.warning("reminder_work_failed", stage=what, error=type(result).__name__, exc_info=result)


def _position(request: AccessRequest, step: ApprovalStep) -> tuple[int | None, int]:
    # The record's stage, not its place in the list: an "all stewards" stage's records run side by side.
    return stage_position(request.steps, step.id)


def _opened(request: AccessRequest, step: ApprovalStep) -> datetime:
    return step.updated_at or request.created_at


def _unknown_keys(
    exc: BaseException, in_thread: list[tuple[ReminderRecord, str]], direct: list[tuple[ReminderRecord, str]]
) -> list[str]:
    """The marks of the reminder message whose delivery `exc` says is unknown (all of a thread's)."""
    if not isinstance(exc, DeliveryUnknown):
        return []
    if in_thread and in_thread[0][1] == exc.key:
        return [k for _, k in in_thread]
    return [k for _, k in direct if k == exc.key]
