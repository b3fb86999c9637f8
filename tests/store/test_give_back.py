"""A stopping process gives back the claims it still holds: the next one need not wait out the lease."""

from __future__ import annotations

from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.owners import new_owner
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


async def test_unposted_card_claims_of_the_stopping_owner_are_given_back(
    store: Repository, clock: FakeClock
) -> None:
    me, other = new_owner("web-0"), new_owner("web-1")
    now = clock.now()
    assert await store.cards.claim("mine", "C1", owner=me, now=now, lease=LEASE)
    assert await store.cards.claim("posted", "C1", owner=me, now=now, lease=LEASE)
    assert await store.cards.posted("posted", "C1", "111.1", fingerprint="f", status="PENDING", now=now)
    assert await store.cards.claim("theirs", "C1", owner=other, now=now, lease=LEASE)

    assert await store.give_back(me) == 1
    assert await store.give_back(me) == 0  # nothing more to give: repeating it is harmless

    # Taken up at once by the next process, well within the lease; the row still says who held it.
    given = await store.cards.get("mine")
    assert given is not None and not given.posted and given.claim_owner == me
    successor = new_owner("web-1")  # another replica, not merely this one's next life
    taken = await store.cards.claim("mine", "C1", owner=successor, now=now, lease=LEASE)
    assert taken and taken.taken_over, "the card may be in the channel already: look first"
    # Another replica's claim and a posted card are untouched.
    assert not await store.cards.claim("theirs", "C1", owner=new_owner("web-2"), now=now, lease=LEASE)
    posted = await store.cards.get("posted")
    assert posted is not None and posted.ts == "111.1"
    assert not await store.cards.claim("posted", "C1", owner=successor, now=now, lease=LEASE)


async def test_held_marks_and_unfinished_decisions_are_given_back_to_be_looked_at_first(
    store: Repository, clock: FakeClock
) -> None:
    me, other = new_owner("web-0"), new_owner("web-1")
    now = clock.now()
    assert await store.marks.hold("dm:R1:APPROVED", now=now, owner=me, lease=LEASE)
    assert await store.marks.hold("dm:R2:APPROVED", now=now, owner=other, lease=LEASE)
    claim = await store.decisions.claim(
        "rec-1", request_id="R1", slack_user_id="U1", verdict="APPROVE", now=now, lease=LEASE, owner=me
    )
    assert claim.won

    assert await store.give_back(me) == 2
    # The next replica takes both up at once, as it would a dead owner's, and so looks first.
    taken = await store.marks.hold("dm:R1:APPROVED", now=now, owner=other, lease=LEASE)
    assert taken and taken.taken_over
    assert not await store.marks.hold("dm:R2:APPROVED", now=now, owner=new_owner("web-2"), lease=LEASE)
    again = await store.decisions.claim(
        "rec-1", request_id="R1", slack_user_id="U2", verdict="DENY", now=now, lease=LEASE, owner=other
    )
    assert again.won
