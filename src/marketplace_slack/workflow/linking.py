"""Stewards' Marketplace accounts: linking a personal access token, unlinking, and who a steward is.

A token is accepted only when the Marketplace user it belongs to has the email on the steward's Slack
profile, and it is kept encrypted in the store. Decisions are made with it, so the Marketplace checks
every permission and records every decision under the steward's own name.

A Marketplace user has one live link: linking it from a second Slack account ends the first (in the
store's one transaction) and its holder is told by DM. A link expires (`link_expiry.py`); `linked`
never hands out an expired one, whether or not the tick has ended it yet.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import Actor
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.vault import VaultError
from marketplace_slack.marketplace.errors import MarketplaceError, UnauthorizedError
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.records import LinkedAccount, LinkRef
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.identity import Identity, Standing
from marketplace_slack.workflow.link_expiry import LinkLifetime, LinkNotices
from marketplace_slack.workflow.ports import Directory, Gateway, Modals, Replies

log = structlog.get_logger(__name__)


class Accounts:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        replies: Replies,
        modals: Modals,
        directory: Directory,
        clock: Clock,
        notices: LinkNotices,
        actor_ttl: timedelta = timedelta(minutes=5),
        identity: Identity | None = None,
        lifetime: LinkLifetime | None = None,
    ) -> None:
        self._store = store
        self._notices = notices
        self.lifetime = lifetime or LinkLifetime()
        self._gateway = gateway
        self._replies = replies
        self._modals = modals
        self._directory = directory
        self._clock = clock
        self._actor_ttl = actor_ttl
        self._actors: dict[str, tuple[Actor, float]] = {}
        self._identity = identity or Identity(directory=directory, clock=clock)

    async def start_link(self, *, trigger_id: str, channel: str | None) -> None:
        await self._modals.open_link_form(trigger_id, context=json.dumps({"c": channel}))

    async def complete_link(
        self, *, team_id: str, user_id: str, token: SecretStr, channel: str | None
    ) -> None:
        """Check a pasted token against the Marketplace and the Slack user's email, then keep it encrypted."""
        try:
            actor = await self._gateway.whoami(token)
        except UnauthorizedError:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.TOKEN_NOT_ACCEPTED)
            return
        except MarketplaceError:
            await self._replies.tell(
                user_id=user_id, channel=channel, sentence=sentences.MARKETPLACE_UNREACHABLE
            )
            return
        # A fresh read of the Slack profile: its email (ASCII-lowercased, see identity.py) proves the
        # token is this person's, and a guest or an outsider is refused before anything is kept.
        standing = await self._identity.standing(team_id, user_id, actor.email, fresh=True)
        if standing is not Standing.OK:
            refusal = sentences.EMAIL_MISMATCH if standing is Standing.EMAIL_CHANGED else standing.sentence
            await self._replies.tell(
                user_id=user_id, channel=channel, sentence=refusal or sentences.EMAIL_MISMATCH
            )
            return
        saved = await self._store.links.save(
            team_id=team_id,
            user_id=user_id,
            marketplace_user_id=actor.marketplace_id,
            marketplace_username=actor.username,
            email=actor.email,
            token=token,
            now=self._clock.now(),
        )
        self._actors.pop(user_id, None)
        for ended in saved.displaced:
            await self._displaced(ended, by_team=team_id, by_user=user_id)
        await self._store.audit.record(
            kind=AuditKind.LINK,
            at=self._clock.now(),
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=actor.marketplace_id,
            detail={"username": actor.username},
        )
        await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.linked(actor.username))

    async def _displaced(self, ended: LinkRef, *, by_team: str, by_user: str) -> None:
        """`ended` was the Marketplace user's link until `by_user` linked it: audit it and tell its holder."""
        self._actors.pop(ended.slack_user_id, None)
        log.info("link_displaced", user_id=ended.slack_user_id, by=by_user)
        await self._store.audit.record(
            kind=AuditKind.LINK_ENDED,
            at=self._clock.now(),
            team_id=ended.team_id,
            slack_user_id=ended.slack_user_id,
            marketplace_user_id=ended.marketplace_user_id,
            outcome="displaced",
            detail={"by_team_id": by_team, "by_slack_user_id": by_user},
        )
        try:
            await self._notices.send_link_notice(ended.slack_user_id, sentences.LINK_DISPLACED)
        except Exception as exc:
            # The link is over either way; a DM Slack refused must not undo the new holder's link.
            log.warning(
                "link_displaced_untold", user_id=ended.slack_user_id, error=type(exc).__name__, exc_info=exc
            )

    async def unlink(self, *, team_id: str, user_id: str, channel: str | None) -> None:
        removed = await self._store.links.delete(team_id, user_id)
        self._actors.pop(user_id, None)
        if removed:
            await self._store.audit.record(
                kind=AuditKind.UNLINK, at=self._clock.now(), team_id=team_id, slack_user_id=user_id
            )
        sentence = sentences.UNLINKED if removed else sentences.NOTHING_TO_UNLINK
        await self._replies.tell(user_id=user_id, channel=channel, sentence=sentence)

    async def forget_workspace(self, team_id: str) -> None:
        """The app was uninstalled (or its tokens revoked): delete the stewards' Marketplace tokens."""
        removed = await self._store.links.delete_team(team_id)
        self._actors.clear()
        log.info("workspace_forgotten", team_id=team_id, links_deleted=removed)

    async def linked(self, team_id: str, user_id: str) -> LinkedAccount | None:
        """The steward's live link, or None: an expired link (ended by the tick or not yet) and a token
        no configured key can decrypt count as unlinked."""
        live_after = self.lifetime.live_after(self._clock.now())
        try:
            return await self._store.links.get(team_id, user_id, live_after=live_after)
        except VaultError:
            log.warning("linked_token_undecryptable", user_id=user_id)
            await self._store.links.delete(team_id, user_id)
            return None

    async def relink(self, team_id: str, user_id: str, channel: str | None) -> None:
        """The Marketplace refused the steward's token: forget it and ask for a new one."""
        await self.forget(team_id, user_id)
        await self._replies.prompt_link(user_id=user_id, channel=channel, sentence=sentences.RELINK_NEEDED)

    async def forget(self, team_id: str, user_id: str, why: str = "unauthorized") -> None:
        """Delete a link that can no longer be right: by default one the Marketplace no longer accepts
        (the caller asks for a new one); `why` names another reason (email_changed, deactivated)."""
        if await self._store.links.delete(team_id, user_id):
            await self._store.audit.record(
                kind=AuditKind.LINK_ENDED,
                at=self._clock.now(),
                team_id=team_id,
                slack_user_id=user_id,
                outcome=why,
            )
        self._actors.pop(user_id, None)

    async def actor(self, user_id: str, token: SecretStr) -> Actor:
        """The steward's Marketplace identity, cached briefly: the Marketplace re-checks every PUT anyway."""
        loop_now = asyncio.get_running_loop().time()
        cached = self._actors.get(user_id)
        if cached and cached[1] > loop_now:
            return cached[0]
        actor = await self._gateway.whoami(token)
        self._actors[user_id] = (actor, loop_now + self._actor_ttl.total_seconds())
        return actor
