from __future__ import annotations

from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository

TTL = timedelta(hours=6)


async def test_found_and_not_found_entries_expire(store: Repository, clock: FakeClock) -> None:
    await store.slack_users.save(
        "Ann@Example.COM", slack_user_id="UANN", display_name="Ann", tz="Europe/Paris", now=clock.now()
    )
    await store.slack_users.save("ghost@example.com", slack_user_id=None, now=clock.now())

    ann = await store.slack_users.get(" ann@example.com", now=clock.now(), ttl=TTL)
    assert ann is not None and ann.found
    assert (ann.email, ann.slack_user_id, ann.display_name, ann.tz, ann.fetched_at) == (
        "ann@example.com",
        "UANN",
        "Ann",
        "Europe/Paris",
        clock.now(),
    )
    ghost = await store.slack_users.get("GHOST@example.com", now=clock.now(), ttl=TTL)
    assert ghost is not None and not ghost.found and ghost.slack_user_id is None
    assert await store.slack_users.get("never@example.com", now=clock.now(), ttl=TTL) is None

    clock.advance(TTL - timedelta(seconds=1))
    assert await store.slack_users.get("ann@example.com", now=clock.now(), ttl=TTL) is not None
    assert await store.slack_users.get("ghost@example.com", now=clock.now(), ttl=TTL) is not None
    # A shorter ttl (e.g. for negative entries) is the caller's choice per lookup.
    assert await store.slack_users.get("ghost@example.com", now=clock.now(), ttl=timedelta(hours=1)) is None
    clock.advance(timedelta(seconds=1))
    assert await store.slack_users.get("ann@example.com", now=clock.now(), ttl=TTL) is None
    assert await store.slack_users.get("ghost@example.com", now=clock.now(), ttl=TTL) is None


async def test_a_new_lookup_overwrites_the_old_one_and_pruning_drops_old_rows(
    store: Repository, clock: FakeClock
) -> None:
    await store.slack_users.save("bob@example.com", slack_user_id=None, now=clock.now())
    clock.advance(timedelta(hours=1))
    await store.slack_users.save("bob@example.com", slack_user_id="UBOB", display_name="Bob", now=clock.now())
    bob = await store.slack_users.get("bob@example.com", now=clock.now(), ttl=TTL)
    assert bob is not None and bob.slack_user_id == "UBOB" and bob.fetched_at == clock.now()

    await store.slack_users.save("old@example.com", slack_user_id="UOLD", now=clock.now() - timedelta(days=2))
    assert await store.slack_users.prune(clock.now() - timedelta(days=1)) == 1
    assert await store.slack_users.get("old@example.com", now=clock.now(), ttl=timedelta(days=30)) is None
    assert await store.slack_users.get("bob@example.com", now=clock.now(), ttl=TTL) is not None
