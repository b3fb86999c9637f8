"""Linked accounts: which Marketplace user a Slack user is, with their token kept encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.infra.vault import TokenVault, VaultError
from marketplace_slack.store.base import Area, check_time
from marketplace_slack.store.records import LinkedAccount
from marketplace_slack.store.tables import linked_accounts


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
    ) -> LinkedAccount:
        """Link (or re-link) a Slack user to a Marketplace user; the token is stored encrypted."""
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
        stmt = insert.on_conflict_do_update(
            index_elements=[linked_accounts.c.team_id, linked_accounts.c.slack_user_id],
            set_={
                name: insert.excluded[name]
                for name in (
                    "marketplace_user_id",
                    "marketplace_username",
                    "email",
                    "token_ciphertext",
                    "updated_at",
                )
            },
        ).returning(linked_accounts.c.linked_at, linked_accounts.c.updated_at)
        async with self._writer.begin() as conn:
            row = (await conn.execute(stmt)).one()
        return LinkedAccount(
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=marketplace_user_id,
            marketplace_username=marketplace_username,
            email=email,
            token=token,
            linked_at=row.linked_at,
            updated_at=row.updated_at,
        )

    async def get(self, team_id: str, user_id: str) -> LinkedAccount | None:
        """The link with its token decrypted; raises VaultError if no configured key opens it."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(linked_accounts).where(
                        linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id
                    )
                )
            ).first()
        return None if row is None else self._link(row)

    async def find_by_marketplace_user(
        self, marketplace_user_id: str, *, team_id: str | None = None
    ) -> LinkedAccount | None:
        """The most recently updated link to that Marketplace user (in `team_id`, if given)."""
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
    async def list(self, team_id: str | None = None) -> list[LinkedAccount]:
        """Every linked account (tokens decrypted); links no configured key opens are left out."""
        query = select(linked_accounts).order_by(linked_accounts.c.team_id, linked_accounts.c.slack_user_id)
        if team_id is not None:
            query = query.where(linked_accounts.c.team_id == team_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = []
        for row in rows:
            try:
                found.append(self._link(row))
            except VaultError:
                continue  # a token under a retired key: that steward must link again
        return found
