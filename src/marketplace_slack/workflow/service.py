"""The workflow's request-facing parts put together: cards, decisions and stewards' accounts.

Each part asks only for the Slack surfaces it uses (`ports.py`); the composition root hands all of
them one `Messenger`. The listeners call `decisions` and `accounts` (an Events API delivery through
`events`, once per event id); the webhook route calls `cards`, the scheduler `reconcile`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from pydantic import SecretStr

from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.cards import CardKeeper, RequestObserver
from marketplace_slack.workflow.consumer_ports import ConsumerSlack
from marketplace_slack.workflow.context import ContextSeal
from marketplace_slack.workflow.decisions import Decisions
from marketplace_slack.workflow.events import Events
from marketplace_slack.workflow.home import HomeService
from marketplace_slack.workflow.identity import Identity, IdentityGuard, IdentityPolicy
from marketplace_slack.workflow.link_expiry import LinkLifetime
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import Directory, Gateway, Messenger
from marketplace_slack.workflow.reconciliation import Reconciler, ReconcileReport, SeenVersions
from marketplace_slack.workflow.recovery import AbandonedDecisions
from marketplace_slack.workflow.renewals import RenewalReminders
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.self_service import SelfService
from marketplace_slack.workflow.unfurls import Unfurls


class Workflow:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        messenger: Messenger,
        directory: Directory,
        router: Router,
        clock: Clock,
        owner: str,
        claim_lease: timedelta = timedelta(seconds=120),
        actor_ttl: timedelta = timedelta(minutes=5),
        reconcile_concurrency: int = 8,
        observers: Sequence[RequestObserver] = (),
        on_channel_failure: Callable[[str, str], None] | None = None,
        form_keys: Sequence[SecretStr] = (),
        allow_self_approval: bool = False,
        identity_policy: IdentityPolicy | None = None,
        link_lifetime: LinkLifetime | None = None,
        consumer: ConsumerGateway | None = None,
        consumer_slack: ConsumerSlack | None = None,
        marketplace_app_url: str | None = None,
        file_as_app: bool = False,
        allow_for_others: bool = True,
    ) -> None:
        """`form_keys` sign the decision forms' context (the app's encryption keys, newest first);
        without them a random key does, which only a single process can check."""
        self._store = store
        self.owner = owner  # this process's name in the claims it holds (infra/owners.py)
        locks = KeyedLocks()  # one per request: a card is never shown by two tasks at once
        identity = Identity(directory=directory, clock=clock, policy=identity_policy)
        self.accounts = Accounts(
            store=store,
            gateway=gateway,
            replies=messenger,
            modals=messenger,
            directory=directory,
            clock=clock,
            notices=messenger,
            actor_ttl=actor_ttl,
            identity=identity,
            lifetime=link_lifetime,
        )
        # Every click and submit asks it; `user_change` events go to it too (slack/listeners.py).
        self.identity = IdentityGuard(
            identity=identity, linked=self.accounts.linked, forget=self.accounts.forget, replies=messenger
        )
        seal = ContextSeal(form_keys) if form_keys else ContextSeal.ephemeral()
        # Self-service (consumers requesting from Slack, App Home) when a consumer gateway is given.
        self.home: HomeService | None = None
        self.self_service: SelfService | None = None
        self.unfurls: Unfurls | None = None
        if consumer is not None and consumer_slack is not None:
            if marketplace_app_url:
                self.unfurls = Unfurls(consumer=consumer, slack=consumer_slack, app_url=marketplace_app_url)
            self.home = HomeService(
                accounts=self.accounts,
                consumer=consumer,
                home=consumer_slack,
                replies=messenger,
                clock=clock,
                store=store,
                identity=self.identity,
            )
            self.self_service = SelfService(
                accounts=self.accounts,
                consumer=consumer,
                gateway=gateway,
                modals=consumer_slack,
                replies=messenger,
                directory=directory,
                seal=seal,
                store=store,
                clock=clock,
                identity=self.identity,
                file_as_app=file_as_app,
                allow_for_others=allow_for_others,
                on_filed=lambda request_id: self.cards.sync_request(request_id),
                card_url=lambda request_id: self.cards.card_url(request_id),
            )
            observers = (*observers, self.home)
        # Whatever path shows a card records the version it showed, so reconciling skips it.
        versions = SeenVersions(store, clock)
        self.cards = CardKeeper(
            store=store,
            gateway=gateway,
            cards=messenger,
            notices=messenger,
            directory=directory,
            router=router,
            clock=clock,
            owner=owner,
            locks=locks,
            claim_lease=claim_lease,
            observers=(*observers, versions),
            on_channel_failure=on_channel_failure,
        )
        self.reconciler = Reconciler(
            keeper=self.cards,
            store=store,
            gateway=gateway,
            clock=clock,
            concurrency=reconcile_concurrency,
            claim_lease=claim_lease,
        )
        self.decisions = Decisions(
            store=store,
            gateway=gateway,
            replies=messenger,
            modals=messenger,
            cards=self.cards,
            accounts=self.accounts,
            clock=clock,
            locks=locks,
            claim_lease=claim_lease,
            owner=owner,
            seal=seal,
            allow_self_approval=allow_self_approval,
            identity=self.identity,
        )
        self.abandoned = AbandonedDecisions(
            store=store, cards=self.cards, clock=clock, locks=locks, owner=owner, claim_lease=claim_lease
        )
        self.events = Events(store=store, clock=clock)
        self.renewals = RenewalReminders(
            store=store, gateway=gateway, notices=messenger, clock=clock, owner=owner, lease=claim_lease
        )

    async def reconcile(self) -> ReconcileReport:
        """One reconciliation pass (the scheduler's job, and the app's first act at start-up): first the
        decisions a dead process left half-done, then the cards against what changed."""
        await self.abandoned.resolve()
        return await self.reconciler.run()

    async def give_back(self) -> int:
        """On stopping: release the claims this process still holds, so nobody waits out their lease."""
        return await self._store.give_back(self.owner)
