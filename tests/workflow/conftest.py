"""The workflow at its ports: fakes for Slack, the directory and the Marketplace, over a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Approver,
    Decision,
    Person,
    RecordStatus,
    RequestKind,
    RequestStatus,
    Verdict,
)
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.database import open_store
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.service import Workflow

from .fakes import FakeDirectory, FakeGateway, FakeSlack

TEAM = "T0TEAM"
CHANNEL = "C0CARDS"
LEASE = timedelta(seconds=120)

STEWARDS = Approver("GROUP", "Data Stewards", "g-stewards")
PRIVACY = Approver("GROUP", "Privacy Office", "g-privacy")
NORA = Person("u-nora", "nquinn", "Nora Quinn", "nora.quinn@example.com")  # the requester
SARA = Person("u-sara", "ssmith", "Sara Smith", "sara.smith@example.com")  # a steward
OMAR = Person("u-omar", "ohassan", "Omar Hassan", "omar.hassan@example.com")  # another steward
SLACK_IDS = {NORA: "U0NORA", SARA: "U0SARA", OMAR: "U0OMAR"}


def request(
    request_id: str = "req-1",
    *,
    steps: tuple[ApprovalStep, ...] = (ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS,)),),
    status: RequestStatus = RequestStatus.PENDING,
) -> AccessRequest:
    return AccessRequest(
        id=request_id,
        kind=RequestKind.DATA_ACCESS,
        status=status,
        raw_status=status.value,
        product_id="dp-42",
        product_name="Customer 360",
        domain_id=None,
        requester=NORA,
        requested_by=NORA,
        created_at=datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
        expiration=None,
        steps=steps,
    )


class World:
    """The workflow wired to fakes, with the people above: Sara and Omar are stewards."""

    def __init__(
        self, store: Repository, clock: FakeClock, router: Router | None = None, *, owner: str = "replica-1/a"
    ) -> None:
        self.store = store
        self.clock = clock
        self.slack = FakeSlack()
        self.directory = FakeDirectory({SLACK_IDS[p]: p.email or "" for p in SLACK_IDS})
        self.gateway = FakeGateway(clock.now)
        self.seen: list[AccessRequest] = []
        self.channel_failures: list[tuple[str, str]] = []  # what the app's metric counted
        self.workflow = Workflow(
            store=store,
            gateway=self.gateway,
            messenger=self.slack,
            directory=self.directory,
            router=router or Router(CHANNEL),
            clock=clock,
            owner=owner,
            claim_lease=LEASE,
            observers=(self,),
            on_channel_failure=lambda channel, reason: self.channel_failures.append((channel, reason)),
        )

    async def request_seen(self, request: AccessRequest) -> None:
        self.seen.append(request)

    def token(self, person: Person) -> SecretStr:
        return SecretStr(f"token-{person.username}")

    async def link(self, person: Person, *, groups: frozenset[str] = frozenset({"g-stewards"})) -> None:
        """`person` has linked their Marketplace account; the Marketplace knows their token."""
        token = self.token(person)
        actor = Actor(person.marketplace_id, person.username, person.email, groups=groups)
        self.gateway.actors[token.get_secret_value()] = (actor, person)
        await self.store.links.save(
            team_id=TEAM,
            user_id=SLACK_IDS[person],
            marketplace_user_id=person.marketplace_id,
            marketplace_username=person.username,
            email=person.email,
            token=token,
            now=self.clock.now(),
        )

    async def posted(self, *requests: AccessRequest) -> None:
        """The requests exist in the Marketplace and their cards are in the channel."""
        for r in requests:
            self.gateway.requests[r.id] = r
            await self.workflow.cards.sync_request(r.id)
        self.slack.calls.clear()
        self.seen.clear()

    async def click(self, person: Person, verdict: Verdict, request_id: str = "req-1") -> bool:
        """`person` clicks Approve or Deny on the card; True when the form opened."""
        opened = len(self.slack.of("show_decision_form"))
        await self.workflow.decisions.start(
            team_id=TEAM,
            user_id=SLACK_IDS[person],
            request_id=request_id,
            verdict=verdict,
            trigger_id="trigger-1",
            channel=CHANNEL,
            message_ts="1700000000.000001",
            duration_choice="7:DAYS",
        )
        return len(self.slack.of("show_decision_form")) > opened

    async def submit(self, person: Person, decision: Decision, *, context: str | None = None) -> None:
        """`person` submits the decision form last opened (its context comes back, as from Slack)."""
        if context is None:
            forms = self.slack.of("show_decision_form")
            context = str(forms[-1]["context"]) if forms else ""
        await self.workflow.decisions.submit(
            team_id=TEAM, user_id=SLACK_IDS[person], decision=decision, context=context
        )


@pytest.fixture
async def store(tmp_path: Path, vault: TokenVault) -> AsyncIterator[Repository]:
    repo = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", vault)
    yield repo
    await repo.aclose()


@pytest.fixture
async def world(store: Repository, clock: FakeClock) -> World:
    return World(store, clock)
