"""One live link per Marketplace user, and a link's lifetime: due warnings and ends, claimed once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError

from backends import StoreDatabase
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.records import SavedLink
from marketplace_slack.store.repository import Repository
from marketplace_slack.store.tables import linked_accounts

LEASE = timedelta(minutes=2)
EXPIRE = timedelta(days=90)


async def _link(
    store: Repository, clock: FakeClock, user: str, *, marketplace_user: str = "mp-sara", team: str = "T1"
) -> SavedLink:
    return await store.links.save(
        team,
        user,
        marketplace_user_id=marketplace_user,
        marketplace_username=f"name-{marketplace_user}",
        email="sara@example.com",
        token=SecretStr(f"token-{user}"),
        now=clock.now(),
    )


async def test_linking_a_marketplace_user_from_a_second_slack_user_ends_the_first_link(
    store: Repository, clock: FakeClock
) -> None:
    first = await _link(store, clock, "U1")
    assert first.displaced == ()
    clock.advance(timedelta(minutes=5))

    second = await _link(store, clock, "U2", team="T2")

    (ended,) = second.displaced
    assert (ended.team_id, ended.slack_user_id, ended.marketplace_user_id) == ("T1", "U1", "mp-sara")
    assert ended.linked_at == first.link.linked_at
    assert await store.links.get("T1", "U1") is None
    assert [(k.team_id, k.slack_user_id) for k in await store.links.list()] == [("T2", "U2")]
    # The same Slack user linking again displaces nobody, and another Marketplace user is left alone.
    await _link(store, clock, "U3", marketplace_user="mp-omar")
    assert (await _link(store, clock, "U2", team="T2")).displaced == ()
    assert {k.slack_user_id for k in await store.links.list()} == {"U2", "U3"}


async def test_the_database_itself_refuses_two_links_of_one_marketplace_user(
    store: Repository, store_database: StoreDatabase, clock: FakeClock
) -> None:
    await _link(store, clock, "U1")
    engine = store_database.engine()
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    insert(linked_accounts).values(
                        team_id="T1",
                        slack_user_id="U2",
                        marketplace_user_id="mp-sara",
                        marketplace_username="sara",
                        token_ciphertext=b"x",
                        linked_at=clock.now(),
                        updated_at=clock.now(),
                    )
                )
    finally:
        await engine.dispose()


async def test_two_replicas_linking_one_marketplace_user_at_once_leave_one_live_link(
    store: Repository, open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    other = await open_repository()
    for round_ in range(5):
        a, b = f"A{round_}", f"B{round_}"
        saved = await asyncio.gather(_link(store, clock, a), _link(other, clock, b))
        live = [k.slack_user_id for k in await store.links.list()]
        assert len(live) == 1 and live[0] in (a, b)
        # Exactly one of the two was ended, and the save that ended it says so (its holder is told).
        loser = b if live[0] == a else a
        displaced = [ref.slack_user_id for s in saved for ref in s.displaced]
        assert loser in displaced and live[0] not in displaced


async def test_an_expired_link_is_not_read_for_a_decision_before_anything_ended_it(
    store: Repository, clock: FakeClock
) -> None:
    saved = await _link(store, clock, "U1")
    clock.advance(EXPIRE - timedelta(seconds=1))
    assert await store.links.get("T1", "U1", live_after=clock.now() - EXPIRE) is not None
    clock.advance(timedelta(seconds=1))
    assert await store.links.get("T1", "U1", live_after=clock.now() - EXPIRE) is None
    assert await store.links.list(live_after=clock.now() - EXPIRE) == []
    assert await store.links.get("T1", "U1") == saved.link  # still there: the tick ends it


async def _due_warnings(store: Repository, now: datetime, owner: str = "r1/a") -> list[str]:
    refs = await store.links.claim_warnings(
        linked_by=now - (EXPIRE - timedelta(days=3)),
        expired_by=now - EXPIRE,
        now=now,
        owner=owner,
        lease=LEASE,
    )
    return [ref.slack_user_id for ref in refs]


async def _due_ends(store: Repository, now: datetime, owner: str = "r1/a") -> list[str]:
    refs = await store.links.claim_expired(expired_by=now - EXPIRE, now=now, owner=owner, lease=LEASE)
    return [ref.slack_user_id for ref in refs]


async def test_a_warning_is_due_once_per_link_and_again_after_a_relink(
    store: Repository, clock: FakeClock
) -> None:
    await _link(store, clock, "U1")
    await _link(store, clock, "U2", marketplace_user="mp-omar")
    clock.advance(EXPIRE - timedelta(days=3, seconds=1))
    assert await _due_warnings(store, clock.now()) == []
    clock.advance(timedelta(seconds=1))
    now = clock.now()

    assert sorted(await _due_warnings(store, now)) == ["U1", "U2"]
    assert await _due_warnings(store, now, owner="r2/a") == []  # claimed: another replica waits

    taken = await store.links.claim_warnings(
        linked_by=now, expired_by=now - EXPIRE, now=now + LEASE, owner="r2/a", lease=LEASE
    )
    refs = {ref.slack_user_id: ref for ref in taken}
    assert sorted(refs) == ["U1", "U2"]  # r1 died: after the lease r2 takes them over
    assert not await store.links.warned(refs["U1"], owner="r1/a", now=now)  # r1's claim was lost
    assert await store.links.warned(refs["U1"], owner="r2/a", now=now + LEASE)
    assert await store.links.release(refs["U2"], owner="r2/a")

    later = now + 2 * LEASE
    assert await _due_warnings(store, later) == ["U2"]  # U1 was warned; U2 given back, due again
    # U1 links again: a new link, warned again in its own time.
    clock.advance(2 * LEASE)
    await _link(store, clock, "U1")
    assert await _due_warnings(store, clock.now()) == []
    assert await _due_warnings(store, clock.now() + EXPIRE - timedelta(days=3)) == ["U1"]


async def test_an_expired_link_is_due_its_end_and_a_relink_in_between_saves_it(
    store: Repository, clock: FakeClock
) -> None:
    await _link(store, clock, "U1")
    await _link(store, clock, "U2", marketplace_user="mp-omar")
    clock.advance(EXPIRE)
    now = clock.now()
    assert await _due_warnings(store, now) == []  # past warning: it ends instead
    claimed = await store.links.claim_expired(expired_by=now - EXPIRE, now=now, owner="r1/a", lease=LEASE)
    refs = {ref.slack_user_id: ref for ref in claimed}
    assert sorted(refs) == ["U1", "U2"]
    assert await _due_ends(store, now, owner="r2/a") == []

    assert await store.links.end(refs["U1"], owner="r1/a")
    assert not await store.links.end(refs["U1"], owner="r1/a")  # once
    await _link(store, clock, "U2", marketplace_user="mp-omar")  # renewed while its end was under way
    assert not await store.links.end(refs["U2"], owner="r1/a")
    assert [k.slack_user_id for k in await store.links.list()] == ["U2"]
    assert await _due_ends(store, now + LEASE) == []


async def test_the_due_queries_do_not_decrypt_tokens(
    store: Repository, open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    """A token under a retired key still gets its link warned about and ended (nothing to decrypt)."""
    await _link(store, clock, "U1")
    stranger = await open_repository(TokenVault([SecretStr(TokenVault.generate_key())]))
    clock.advance(EXPIRE)
    (ref,) = await stranger.links.claim_expired(
        expired_by=clock.now() - EXPIRE, now=clock.now(), owner="r1/a", lease=LEASE
    )
    assert await stranger.links.end(ref, owner="r1/a")


async def test_what_is_due_is_found_through_an_index_not_a_scan_of_every_link(
    store: Repository, store_database: StoreDatabase, clock: FakeClock
) -> None:
    if store_database.backend != "sqlite":
        pytest.skip("PostgreSQL's planner scans a table this small whatever its indexes")
    await _link(store, clock, "U1")
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sync = store.engine.sync_engine
    event.listen(sync, "before_cursor_execute", capture)
    try:
        await _due_warnings(store, clock.now())
        await _due_ends(store, clock.now())
    finally:
        event.remove(sync, "before_cursor_execute", capture)
    assert len(seen) == 2  # one look each, and nothing due
    async with store.engine.connect() as conn:
        for statement, parameters in seen:
            plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "SEARCH linked_accounts USING INDEX ix_linked_accounts_" in details, details
