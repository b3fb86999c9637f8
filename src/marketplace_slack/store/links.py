"""Linked accounts: which Marketplace user a Slack user is, with their token kept encrypted.

A Marketplace user has at most one live link (a unique index): linking it from a second Slack account
ends the first link in the same transaction, and the caller is handed the link it ended so its
holder can be told. A link lives for a while from `linked_at` (workflow/link_expiry.py says how long);
reads for a decision pass `live_after`, so an expired link is never used even before the tick that
ends it, and the tick finds links due a warning or their end through indexed ranges of `linked_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import SecretStr
from sqlalchemy import ColumnElement, Row, Select, and_, delete, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.infra.vault import TokenVault, VaultError
from marketplace_slack.store.base import Area, check_lease, check_time
from marketplace_slack.store.records import LinkedAccount, LinkRef, SavedLink
from marketplace_slack.store.tables import linked_accounts

# Two links of one Marketplace user racing on PostgreSQL: the later commit meets the unique index and
# is tried again, then ending the link that won. More rounds than that means something else is wrong.
_SAVE_ROUNDS: Final = 3

_REF = (
    linked_accounts.c.team_id,
    linked_accounts.c.slack_user_id,
    linked_accounts.c.marketplace_user_id,
    linked_accounts.c.marketplace_username,
    linked_accounts.c.linked_at,
)


class Links(Area):
    def __init__(self, engine: AsyncEngine, vault: TokenVault) -> None:
        super().__init__(engine)
        self._vault = vault

    async def save(
        self,
        team_id: str,
        user_id: str,
        *,
        marketplace_user_id: str,
        marketplace_username: str,
        email: str | None,
        token: SecretStr,
        now: datetime,
    ) -> SavedLink:
        """Link (or re-link) a Slack user to a Marketplace user; the token is stored encrypted.

        A re-link renews the link (`linked_at` is now, its warning not sent). Any other Slack user's
        link to the same Marketplace user ends in the same transaction and is returned as displaced."""
        check_time(now)
        insert = self._insert(linked_accounts).values(
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=marketplace_user_id,
            marketplace_username=marketplace_username,
            email=email,
            token_ciphertext=self._vault.encrypt(token),
            linked_at=now,
            updated_at=now,
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[linked_accounts.c.team_id, linked_accounts.c.slack_user_id],
            set_={
                **{
                    name: insert.excluded[name]
                    for name in (
                        "marketplace_user_id",
                        "marketplace_username",
                        "email",
                        "token_ciphertext",
                        "linked_at",
                        "updated_at",
                    )
                },
                "warned_at": None,
                "claim_owner": None,
                "claimed_at": None,
            },
        ).returning(linked_accounts.c.linked_at, linked_accounts.c.updated_at)
        others = (
            delete(linked_accounts)
            .where(
                linked_accounts.c.marketplace_user_id == marketplace_user_id,
                not_(and_(linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id)),
            )
            .returning(*_REF)
        )
        for round_ in range(_SAVE_ROUNDS):
            try:
                async with self._writer.begin() as conn:
                    displaced = (await conn.execute(others)).all()
                    row = (await conn.execute(upsert)).one()
                break
            except IntegrityError:
                # A concurrent link of the same Marketplace user committed first; end it, next round.
                if round_ == _SAVE_ROUNDS - 1:
                    raise
        link = LinkedAccount(
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=marketplace_user_id,
            marketplace_username=marketplace_username,
            email=email,
            token=token,
            linked_at=row.linked_at,
            updated_at=row.updated_at,
        )
        return SavedLink(link=link, displaced=tuple(_ref(r) for r in displaced))

    async def get(
        self, team_id: str, user_id: str, *, live_after: datetime | None = None
    ) -> LinkedAccount | None:
        """The link with its token decrypted; raises VaultError if no configured key opens it.

        With `live_after`, a link made at or before it (expired) is not there, whether or not the
        tick has ended it yet."""
        query = select(linked_accounts).where(
            linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(_live(query, live_after))).first()
        return None if row is None else self._link(row)

    async def find_by_marketplace_user(
        self, marketplace_user_id: str, *, team_id: str | None = None
    ) -> LinkedAccount | None:
        """The link to that Marketplace user (in `team_id`, if given); there is at most one."""
        query = select(linked_accounts).where(linked_accounts.c.marketplace_user_id == marketplace_user_id)
        if team_id is not None:
            query = query.where(linked_accounts.c.team_id == team_id)
        query = query.order_by(linked_accounts.c.updated_at.desc()).limit(1)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._link(row)

    async def delete(self, team_id: str, user_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(linked_accounts).where(
                    linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id
                )
            )
            return result.rowcount > 0

    async def delete_team(self, team_id: str) -> int:
        """Forget every linked account of a workspace (the app was uninstalled); returns how many."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(linked_accounts).where(linked_accounts.c.team_id == team_id))
            return int(result.rowcount or 0)

    async def rotate_tokens(self, vault: TokenVault | None = None) -> int:
        """Re-encrypt every stored token under the vault's newest key; returns how many.

        Run it after putting a new key first (keeping the old ones); afterwards the old keys can
        go. Raises VaultError, changing nothing, if some token opens with none of the keys.
        """
        vault = vault or self._vault
        key = (linked_accounts.c.team_id, linked_accounts.c.slack_user_id)
        async with self._writer.begin() as conn:
            rows = (await conn.execute(select(*key, linked_accounts.c.token_ciphertext))).all()
            rotated = 0
            for row in rows:
                result = await conn.execute(
                    update(linked_accounts)
                    .where(
                        key[0] == row.team_id,
                        key[1] == row.slack_user_id,
                        # A concurrent re-link already wrote a fresh ciphertext: keep it.
                        linked_accounts.c.token_ciphertext == row.token_ciphertext,
                    )
                    .values(token_ciphertext=vault.rotate(row.token_ciphertext))
                )
                rotated += result.rowcount
            return rotated

    # --- the lifetime of a link: warned once before it ends, ended once it is over --------------

    async def claim_warnings(
        self,
        *,
        linked_by: datetime,
        expired_by: datetime,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int = 200,
    ) -> list[LinkRef]:
        """Claim links due their warning: made at or before `linked_by`, not warned yet, and not
        expired (made after `expired_by`; those are ended, not warned)."""
        due = and_(
            linked_accounts.c.warned_at.is_(None),
            linked_accounts.c.linked_at <= linked_by,
            linked_accounts.c.linked_at > expired_by,
            self._unclaimed(now, lease),
        )
        return await self._claim(due, now=now, owner=owner, limit=limit)

    async def claim_expired(
        self, *, expired_by: datetime, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[LinkRef]:
        """Claim links made at or before `expired_by`: their time is over."""
        due = and_(linked_accounts.c.linked_at <= expired_by, self._unclaimed(now, lease))
        return await self._claim(due, now=now, owner=owner, limit=limit)

    async def warned(self, link: LinkRef, *, owner: str, now: datetime) -> bool:
        """The claimed link's warning went; False if it was re-linked (renewed) or lost meanwhile."""
        check_time(now)
        return await self._settle_claim(linked_accounts, self._claimed(link, owner), {"warned_at": now})

    async def release(self, link: LinkRef, *, owner: str) -> bool:
        """Give a claimed link back untouched, for the next tick to try again."""
        return await self._settle_claim(linked_accounts, self._claimed(link, owner), {})

    async def end(self, link: LinkRef, *, owner: str) -> bool:
        """Delete the claimed, expired link; False if it was re-linked (renewed) or lost meanwhile."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(linked_accounts).where(*self._claimed(link, owner)))
            return result.rowcount > 0

    async def _claim(
        self, due: ColumnElement[bool], *, now: datetime, owner: str, limit: int
    ) -> list[LinkRef]:
        rows = await self._claim_due(
            linked_accounts,
            (linked_accounts.c.team_id, linked_accounts.c.slack_user_id),
            due,
            order_by=linked_accounts.c.linked_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [_ref(row) for row in rows]

    @staticmethod
    def _unclaimed(now: datetime, lease: timedelta) -> ColumnElement[bool]:
        check_time(now)
        check_lease(lease)
        return or_(linked_accounts.c.claim_owner.is_(None), linked_accounts.c.claimed_at <= now - lease)

    @staticmethod
    def _claimed(link: LinkRef, owner: str) -> list[ColumnElement[bool]]:
        return [
            linked_accounts.c.team_id == link.team_id,
            linked_accounts.c.slack_user_id == link.slack_user_id,
            linked_accounts.c.linked_at == link.linked_at,
            linked_accounts.c.claim_owner == owner,
        ]

    def _link(self, row: Row[Any]) -> LinkedAccount:
        return LinkedAccount(
            team_id=row.team_id,
            slack_user_id=row.slack_user_id,
            marketplace_user_id=row.marketplace_user_id,
            marketplace_username=row.marketplace_username,
            email=row.email,
            token=self._vault.decrypt(row.token_ciphertext),
            linked_at=row.linked_at,
            updated_at=row.updated_at,
        )

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(
        self, team_id: str | None = None, *, live_after: datetime | None = None
    ) -> list[LinkedAccount]:
        """Every linked account (tokens decrypted); links no configured key opens are left out, and
        with `live_after` those made at or before it (expired)."""
        query = select(linked_accounts).order_by(linked_accounts.c.team_id, linked_accounts.c.slack_user_id)
        if team_id is not None:
            query = query.where(linked_accounts.c.team_id == team_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_live(query, live_after))).all()
        found = []
        for row in rows:
            try:
                found.append(self._link(row))
            except VaultError:
                continue  # a token under a retired key: that steward must link again
        return found


def _live(query: Select[Any], live_after: datetime | None) -> Select[Any]:
    if live_after is None:
        return query
    check_time(live_after)
    return query.where(linked_accounts.c.linked_at > live_after)


def _ref(row: Row[Any] | Row[Any, Any, Any, Any, Any]) -> LinkRef:
    return LinkRef(
        team_id=row.team_id,
        slack_user_id=row.slack_user_id,
        marketplace_user_id=row.marketplace_user_id,
        marketplace_username=row.marketplace_username,
        linked_at=row.linked_at,
    )
