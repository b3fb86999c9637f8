"""Fakes for the workflow's ports: Slack's surfaces, the Slack directory and the Marketplace gateway.

They are plain recorders with a few switches for failures, so a test reads as the conversation the
workflow had: what it asked the Marketplace, what it said to whom, and what it put on the card.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    CardState,
    Decision,
    Duration,
    Person,
    RecordStatus,
    RequestStatus,
    Verdict,
)
from marketplace_slack.marketplace.determinations import after_determination, with_slack_ids
from marketplace_slack.marketplace.errors import MarketplaceError, NotFoundError, UnauthorizedError
from marketplace_slack.workflow.ports import (
    ChannelUnavailable,
    Destination,
    Digest,
    EscalationNote,
    ExpiryNote,
    MessageGone,
    MessageRef,
    ModalRef,
    ReminderNote,
    SlackPerson,
    SlackProfile,
)
from marketplace_slack.workflow.sentences import Outcome, Sentence


@dataclass(frozen=True)
class Call:
    method: str
    args: Mapping[str, Any]


class FakeSlack:
    """Every Slack surface (`Cards`, `Replies`, `Notices`, `Modals`), recording each call.

    `fail[method]` is raised by the next call of that method; `during[method]` runs just before it
    answers, to let another replica act in the middle of a call. `refuse[channel]` is Slack's reason
    for refusing every post (and update) in that channel until it is removed; `gone` holds the ts of
    cards deleted behind the app's back, and `archived` channels refuse updates as gone.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail: dict[str, BaseException] = {}
        self.during: dict[str, Callable[[], Awaitable[None]]] = {}
        self.refuse: dict[str, str] = {}
        self.gone: set[str] = set()
        self.archived: set[str] = set()
        self._ts = 0

    async def _call(self, method: str, **args: Any) -> MessageRef:
        self.calls.append(Call(method, args))
        if method in self.during:
            await self.during.pop(method)()
        if method in self.fail:
            raise self.fail.pop(method)
        self._ts += 1
        return MessageRef(str(args.get("channel") or "D0DM"), f"1700000000.{self._ts:06d}")

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def of(self, method: str) -> list[Mapping[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def told(self, user_id: str | None = None) -> list[Sentence]:
        """The sentences said to `user_id` (or to anyone), ephemeral or with a link button."""
        return [
            c.args["sentence"]
            for c in self.calls
            if c.method in ("tell", "prompt_link") and user_id in (None, c.args["user_id"])
        ]

    def shown(self) -> list[Sentence]:
        """The sentences a click's modal was turned into (a refusal, or the link form's reason)."""
        return [c.args["sentence"] for c in self.calls if c.method in ("show_refusal", "show_link_form")]

    def outcomes(self) -> list[Outcome]:
        return [s.outcome for s in self.told()]

    def cards(self) -> list[CardState]:
        return [c.args["state"] for c in self.calls if c.method in ("post_request", "update_request")]

    # Cards
    async def post_request(
        self, channel: str, state: CardState, *, look_first: bool = False, replacing: MessageRef | None = None
    ) -> MessageRef:
        if channel in self.archived:
            self.calls.append(Call("post_request", {"channel": channel, "state": state}))
            raise ChannelUnavailable(channel, "is_archived")
        if channel in self.refuse:
            self.calls.append(Call("post_request", {"channel": channel, "state": state}))
            raise ChannelUnavailable(channel, self.refuse[channel])
        return await self._call("post_request", channel=channel, state=state, look_first=look_first)

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        if ref.ts in self.gone or ref.channel in self.archived:
            self.calls.append(Call("update_request", {"ref": ref, "state": state}))
            raise MessageGone(ref, "message_not_found" if ref.ts in self.gone else "is_archived")
        if ref.channel in self.refuse:
            self.calls.append(Call("update_request", {"ref": ref, "state": state}))
            raise ChannelUnavailable(ref.channel, self.refuse[ref.channel])
        await self._call("update_request", ref=ref, state=state)

    async def retire(self, ref: MessageRef, state: CardState, *, live: MessageRef | None = None) -> None:
        await self._call("retire", ref=ref, state=state, live=live)

    async def announce_step(
        self, ref: MessageRef, request: AccessRequest, step: ApprovalStep, *, look_first: bool = False
    ) -> None:
        if ref.ts in self.gone or ref.channel in self.archived or ref.channel in self.refuse:
            self.calls.append(Call("announce_step", {"ref": ref, "step": step, "look_first": look_first}))
            raise RuntimeError("thread_not_found")  # whatever Slack says, the DM must still go out
        await self._call("announce_step", ref=ref, step=step, look_first=look_first)

    async def permalink(self, ref: MessageRef) -> str | None:
        await self._call("permalink", ref=ref)
        return f"https://slack.example.com/archives/{ref.channel}/p{ref.ts.replace('.', '')}"

    # Replies
    async def tell(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._call("tell", user_id=user_id, channel=channel, sentence=sentence)

    async def prompt_link(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._call("prompt_link", user_id=user_id, channel=channel, sentence=sentence)

    # Notices
    async def notify_requester(
        self, slack_user_id: str, request: AccessRequest, *, look_first: bool = False, as_filer: bool = False
    ) -> None:
        await self._call(
            "notify_requester", user_id=slack_user_id, status=request.status, look_first=look_first
        )

    async def send_reminder(
        self, to: Destination, note: ReminderNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        return await self._call("send_reminder", to=to, note=note, key=key)

    async def send_escalation(
        self, to: Destination, note: EscalationNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        return await self._call("send_escalation", to=to, note=note, key=key)

    async def send_digest(
        self, to: Destination, digest: Digest, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        return await self._call("send_digest", to=to, digest=digest, key=key)

    async def send_expiry_notice(
        self, user_id: str, note: ExpiryNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        return await self._call("send_expiry_notice", user_id=user_id, note=note, key=key)

    async def notify_owner(self, user_id: str, sentence: Sentence) -> None:
        await self._call("notify_owner", user_id=user_id, sentence=sentence)

    async def send_link_notice(
        self, user_id: str, sentence: Sentence, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        return await self._call(
            "send_link_notice", user_id=user_id, sentence=sentence, key=key, look_first=look_first
        )

    # Modals
    async def open_pending(self, trigger_id: str, verdict: Verdict) -> ModalRef | None:
        """A "Checking…" modal; `fail["open_pending"]` stands for a trigger that expired (None)."""
        self.calls.append(Call("open_pending", {"trigger_id": trigger_id, "verdict": verdict}))
        if self.fail.pop("open_pending", None) is not None:
            return None
        self._ts += 1
        return ModalRef(f"V{self._ts:04d}", f"hash-{self._ts}")

    async def show_decision_form(
        self,
        modal: ModalRef,
        request: AccessRequest,
        verdict: Verdict,
        *,
        initial_duration: str,
        context: str,
    ) -> None:
        await self._call(
            "show_decision_form",
            modal=modal,
            request_id=request.id,
            verdict=verdict,
            initial_duration=initial_duration,
            context=context,
        )

    async def show_refusal(self, modal: ModalRef, verdict: Verdict, sentence: Sentence) -> None:
        await self._call("show_refusal", modal=modal, verdict=verdict, sentence=sentence)

    async def show_link_form(self, modal: ModalRef, sentence: Sentence, *, context: str) -> None:
        await self._call("show_link_form", modal=modal, sentence=sentence, context=context)

    async def open_link_form(self, trigger_id: str, *, context: str) -> None:
        await self._call("open_link_form", trigger_id=trigger_id, context=context)


@dataclass
class FakeDirectory:
    """Slack users by email."""

    emails: dict[str, str] = field(default_factory=dict)  # Slack user id -> email on their profile
    profiles: dict[str, SlackProfile] = field(default_factory=dict)  # whole profiles, over `emails`
    unreadable: set[str] = field(default_factory=set)  # users.info fails for these
    reads: int = 0

    async def slack_id_for_email(self, email: str) -> str | None:
        return next((u for u, e in self.emails.items() if e.casefold() == email.casefold()), None)

    async def person_for_email(self, email: str) -> SlackPerson | None:
        user_id = await self.slack_id_for_email(email)
        return SlackPerson(user_id) if user_id else None

    async def email_of(self, slack_user_id: str) -> str | None:
        return self.emails.get(slack_user_id)

    async def profile_of(self, slack_user_id: str) -> SlackProfile | None:
        self.reads += 1
        if slack_user_id in self.unreadable:
            return None
        found = self.profiles.get(slack_user_id)
        return found or SlackProfile(slack_user_id, self.emails.get(slack_user_id))

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        return []


class FakeGateway:
    """The Marketplace: requests by id, actors by token, and a decide that settles steps like it does.

    `fail[(operation, key)]` is raised by the next `load` (key: request id), `whoami` (key: token) or
    `decide` (key: step id), or `("changes", "")` by the next `request_changes`; `before_fail` runs
    first, e.g. to let someone else decide the step. A `("load", request id)` failure is raised by
    any read of that request (`steps` and the reads of `after_decision` too), as it is the request
    that cannot be read.
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.requests: dict[str, AccessRequest] = {}
        self.actors: dict[str, tuple[Actor, Person]] = {}
        self.fail: dict[tuple[str, str], MarketplaceError] = {}
        self.before_fail: dict[tuple[str, str], Callable[[], None]] = {}
        self.decided: list[tuple[str, str, Decision]] = []  # (token, step id, decision)
        self.listings = 0  # walks of `request_changes` begun
        self.loaded: list[str] = []  # request ids, each time one is read whole
        self.stepped: list[str] = []  # request ids, each time only their records are read
        self._now = now

    def _maybe_fail(self, operation: str, key: str) -> None:
        if (operation, key) in self.before_fail:
            self.before_fail.pop((operation, key))()
        if (operation, key) in self.fail:
            raise self.fail.pop((operation, key))

    async def load(
        self,
        request_id: str,
        *,
        enrich: bool = True,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> AccessRequest:
        self.loaded.append(request_id)
        self._maybe_fail("load", request_id)
        if request_id not in self.requests:
            raise NotFoundError(404, "no such request")
        request = self.requests[request_id]
        if request.updated_at is None:  # never changed: its version is its creation, as listed
            request = replace(request, updated_at=request.created_at)
        if find_people is not None and request.requester.email:
            found = await find_people([request.requester.email])
            requester = replace(
                request.requester, slack_user_id=found.get(request.requester.email.casefold())
            )
            request = replace(request, requester=requester)
        return request

    async def whoami(self, token: SecretStr) -> Actor:
        self._maybe_fail("whoami", token.get_secret_value())
        if token.get_secret_value() not in self.actors:
            raise UnauthorizedError(401, "token not accepted")
        return self.actors[token.get_secret_value()][0]

    async def decide(self, token: SecretStr, step_id: str, decision: Decision) -> ApprovalStep:
        self.decided.append((token.get_secret_value(), step_id, decision))
        self._maybe_fail("decide", step_id)
        _, person = self.actors[token.get_secret_value()]
        status = RecordStatus.APPROVED if decision.verdict is Verdict.APPROVE else RecordStatus.DENIED
        self.settle(step_id, status, person, reason=decision.reason, duration=decision.duration)
        request = next(r for r in self.requests.values() if any(s.id == step_id for s in r.steps))
        return next(s for s in request.steps if s.id == step_id)

    async def steps(
        self,
        request_id: str,
        *,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> tuple[ApprovalStep, ...]:
        self.stepped.append(request_id)
        self._maybe_fail("load", request_id)
        if request_id not in self.requests:
            raise NotFoundError(404, "no such request")
        return self.requests[request_id].steps

    async def after_decision(
        self,
        request: AccessRequest,
        answers: Sequence[ApprovalStep],
        *,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> AccessRequest:
        """The product's own rules (`determinations`); where they cannot tell, the request is read."""
        if find_people is not None:
            emails = [s.decided_by.email for s in answers if s.decided_by and s.decided_by.email]
            answers = with_slack_ids(answers, dict(await find_people(emails)) if emails else {})
        known = after_determination(request, answers)
        if known is not None:
            return known
        fresh = await self.load(request.id)
        return replace(
            request,
            steps=fresh.steps,
            status=fresh.status,
            raw_status=fresh.raw_status,
            expiration=fresh.expiration,
            updated_at=fresh.updated_at,
        )

    async def record(self, request_id: str, record_id: str) -> ApprovalStep | None:
        """`fail[("record", record id)]` stands for a look-up that fails too."""
        self._maybe_fail("record", record_id)
        if request_id not in self.requests:
            raise NotFoundError(404, "no such request")
        return next((s for s in self.requests[request_id].steps if s.id == record_id), None)

    async def pending_request_ids(self) -> AsyncIterator[str]:
        self._maybe_fail("pending", "")
        for request in list(self.requests.values()):
            if request.status is RequestStatus.PENDING:
                yield request.id

    async def request_changes(
        self, *, since: datetime | None = None
    ) -> AsyncIterator[tuple[str, RequestStatus, datetime]]:
        """The Marketplace's listing by updatedAt, newest first (a request never changed: its creation)."""
        self.listings += 1
        self._maybe_fail("changes", "")
        versions = [(r.id, r.status, r.updated_at or r.created_at) for r in self.requests.values()]
        for request_id, status, updated_at in sorted(versions, key=lambda v: (v[2], v[0]), reverse=True):
            if since is not None and updated_at < since:
                return
            yield request_id, status, updated_at

    def change(self, request_id: str, **changes: Any) -> AccessRequest:
        """Change a request in the Marketplace (a revoke, an expiry, ...); its updatedAt moves to now."""
        self.requests[request_id] = replace(self.requests[request_id], **changes, updated_at=self._now())
        return self.requests[request_id]

    def settle(
        self,
        step_id: str,
        status: RecordStatus,
        by: Person,
        *,
        reason: str | None = None,
        duration: Duration | None = None,
    ) -> None:
        """Record a determination the way the Marketplace does: the step, then the request's status."""
        request = next(r for r in self.requests.values() if any(s.id == step_id for s in r.steps))
        kept = duration if status is RecordStatus.APPROVED else None
        steps = tuple(
            replace(s, status=status, decided_by=by, reason=reason, duration=kept, updated_at=self._now())
            if s.id == step_id
            else s
            for s in request.steps
        )
        if status is RecordStatus.DENIED:
            overall = RequestStatus.DENIED
        elif all(s.status is RecordStatus.APPROVED for s in steps):
            overall = RequestStatus.APPROVED
        else:
            overall = RequestStatus.PENDING
            # The next step waits no longer once the ones before it are approved.
            steps = tuple(
                replace(s, status=RecordStatus.PENDING) if s.status is RecordStatus.BLOCKED else s
                for s in steps
            )
        self.requests[request.id] = replace(
            request, steps=steps, status=overall, raw_status=overall.value, updated_at=self._now()
        )
