"""Which unfinished decision claims nobody is working on: the reconciliation pass settles those."""

from __future__ import annotations

from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.owners import new_owner
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


async def _claim(store: Repository, record: str, owner: str, clock: FakeClock) -> None:
    claim = await store.decisions.claim(
        record,
        request_id="R1",
        slack_user_id="U1",
        verdict="APPROVE",
        now=clock.now(),
        lease=LEASE,
        owner=owner,
    )
    assert claim.won


async def test_an_earlier_life_s_claims_are_abandoned_at_once_others_only_after_the_lease(
    store: Repository, clock: FakeClock
) -> None:
    me, before_restart, other = new_owner("web-0"), new_owner("web-0"), new_owner("web-1")
    await _claim(store, "mine", me, clock)
    await _claim(store, "crashed", before_restart, clock)
    await _claim(store, "theirs", other, clock)
    await _claim(store, "done", before_restart, clock)
    assert await store.decisions.finish("done", outcome="ok")

    found = await store.decisions.abandoned(owner=me, now=clock.now(), lease=LEASE)
    assert [c.record_id for c in found] == ["crashed"]

    clock.advance(LEASE)
    later = await store.decisions.abandoned(owner=me, now=clock.now(), lease=LEASE)
    assert sorted(c.record_id for c in later) == ["crashed", "mine", "theirs"]
