"""The Slack-user cache: lookups by email, shared by replicas; a miss (nobody has that email) is kept too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from marketplace_slack.store.base import Area, check_time
from marketplace_slack.store.records import CachedSlackUser
from marketplace_slack.store.tables import slack_users


class SlackUsers(Area):
    async def save(
        self,
        email: str,
        *,
        slack_user_id: str | None,
        display_name: str | None = None,
        tz: str | None = None,
        now: datetime,
    ) -> None:
        """Remember a lookup by email; `slack_user_id=None` remembers that nobody has that email."""
        check_time(now)
        values = {"slack_user_id": slack_user_id, "display_name": display_name, "tz": tz, "fetched_at": now}
        stmt = (
            self._insert(slack_users)
            .values(email=_email(email), **values)
            .on_conflict_do_update(index_elements=[slack_users.c.email], set_=values)
        )
        async with self._writer.begin() as conn:
            await conn.execute(stmt)

    async def get(self, email: str, *, now: datetime, ttl: timedelta) -> CachedSlackUser | None:
        """The cached lookup if fetched less than `ttl` before `now`, found or not; else None."""
        check_time(now)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(slack_users).where(
                        slack_users.c.email == _email(email), slack_users.c.fetched_at > now - ttl
                    )
                )
            ).first()
        if row is None:
            return None
        return CachedSlackUser(
            email=row.email,
            slack_user_id=row.slack_user_id,
            display_name=row.display_name,
            tz=row.tz,
            fetched_at=row.fetched_at,
        )

    async def prune(self, older_than: datetime) -> int:
        check_time(older_than)
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(slack_users).where(slack_users.c.fetched_at < older_than))
            return result.rowcount


def _email(email: str) -> str:
    return email.strip().lower()
