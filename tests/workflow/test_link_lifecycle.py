"""A link's end: another Slack account links the same Marketplace user, or the link's time is up.

The clock is a FakeClock, and the tick is `LinkExpiry.run_due`, called the way the scheduler would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace_slack.domain import Actor, Verdict
from marketplace_slack.store.audit import AuditEntry, AuditKind
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.link_expiry import LinkExpiry, LinkExpiryReport, LinkLifetime
from marketplace_slack.workflow.ports import DeliveryUnknown
from marketplace_slack.workflow.sentences import Outcome, Sentence

from .conftest import SARA, SLACK_IDS, TEAM, World, request

LIFETIME = LinkLifetime()  # what the workflow's accounts use unless told otherwise: 90 days, warned 3 before
SARA_AGAIN = "U0SARA2"  # a second Slack account carrying Sara's email (another workspace of hers)


@pytest.fixture
def expiry(world: World) -> LinkExpiry:
    return LinkExpiry(
        store=world.store, notices=world.slack, lifetime=LIFETIME, clock=world.clock, owner="replica-1/a"
    )


def link_notices(world: World, user_id: str | None = None) -> list[Sentence]:
    return [c["sentence"] for c in world.slack.of("send_link_notice") if user_id in (None, c["user_id"])]


async def ended_links(world: World) -> list[AuditEntry]:
    return [e async for e in world.store.audit.entries() if e.kind == AuditKind.LINK_ENDED]


async def paste_saras_token(world: World, user_id: str) -> None:
    token = world.token(SARA)
    actor = Actor(SARA.marketplace_id, SARA.username, SARA.email, groups=frozenset({"g-stewards"}))
    world.gateway.actors[token.get_secret_value()] = (actor, SARA)
    await world.workflow.accounts.complete_link(team_id=TEAM, user_id=user_id, token=token, channel=None)


# --- one live link per Marketplace user ----------------------------------------------------------


async def test_a_second_slack_account_linking_the_same_user_ends_the_first_and_tells_its_holder(
    world: World,
) -> None:
    world.directory.emails[SARA_AGAIN] = SARA.email or ""
    await world.posted(request())
    await paste_saras_token(world, SLACK_IDS[SARA])
    assert await world.click(SARA, Verdict.APPROVE)  # the first holder decides, and the actor is cached

    await paste_saras_token(world, SARA_AGAIN)

    assert link_notices(world) == [sentences.LINK_DISPLACED]
    assert world.slack.of("send_link_notice")[0]["user_id"] == SLACK_IDS[SARA]
    assert world.slack.outcomes()[-1] is Outcome.LINKED  # the new holder is told as usual
    (ended,) = await ended_links(world)
    assert (ended.slack_user_id, ended.outcome, ended.marketplace_user_id) == (
        SLACK_IDS[SARA],
        "displaced",
        SARA.marketplace_id,
    )
    assert ended.detail == {"by_team_id": TEAM, "by_slack_user_id": SARA_AGAIN}
    # The first holder can no longer decide: their next click asks them to link.
    assert not await world.click(SARA, Verdict.APPROVE)
    assert world.slack.shown()[-1] == sentences.LINK_FIRST


async def test_the_new_link_is_kept_when_the_old_holder_cannot_be_told(world: World) -> None:
    world.directory.emails[SARA_AGAIN] = SARA.email or ""
    await paste_saras_token(world, SLACK_IDS[SARA])
    world.slack.fail["send_link_notice"] = RuntimeError("Slack is down")

    await paste_saras_token(world, SARA_AGAIN)

    assert world.slack.outcomes()[-1] is Outcome.LINKED
    assert [k.slack_user_id for k in await world.store.links.list()] == [SARA_AGAIN]


# --- expiry --------------------------------------------------------------------------------------


async def test_the_holder_is_warned_once_then_the_link_ends_at_expiry_and_they_are_told_once(
    world: World, expiry: LinkExpiry
) -> None:
    await world.link(SARA)
    linked_at = world.clock.now()
    world.clock.advance(LIFETIME.expire_after - LIFETIME.warn_before - timedelta(minutes=1))
    assert (await expiry.run_due()).warned == 0

    world.clock.advance(timedelta(minutes=1))
    assert (await expiry.run_due()).warned == 1
    assert (await expiry.run_due()).warned == 0
    world.clock.advance(timedelta(days=1))
    assert (await expiry.run_due()).warned == 0
    (warning,) = world.slack.of("send_link_notice")
    assert warning["sentence"] == sentences.link_expires_soon(linked_at + LIFETIME.expire_after)
    assert warning["user_id"] == SLACK_IDS[SARA] and warning["key"].startswith("link:warn:")

    report = await expiry.run_due(linked_at + LIFETIME.expire_after)
    world.clock.set(linked_at + LIFETIME.expire_after)
    assert (await expiry.run_due()).ended == 0  # once
    assert report.ended == 1
    assert link_notices(world) == [warning["sentence"], sentences.LINK_EXPIRED]
    assert await world.store.links.list() == []
    (ended,) = await ended_links(world)
    assert (ended.slack_user_id, ended.outcome) == (SLACK_IDS[SARA], "expired")


async def test_an_expired_link_decides_nothing_even_before_the_tick_ends_it(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    world.clock.advance(LIFETIME.expire_after - timedelta(seconds=1))
    assert await world.click(SARA, Verdict.APPROVE)
    world.clock.advance(timedelta(seconds=1))

    assert not await world.click(SARA, Verdict.APPROVE)  # no tick has run: the read itself refuses

    assert world.slack.shown()[-1] == sentences.LINK_FIRST
    assert world.gateway.decided == []
    assert await world.store.links.get(TEAM, SLACK_IDS[SARA]) is not None  # the tick's to end


async def test_relinking_renews_the_link_and_its_warning(world: World, expiry: LinkExpiry) -> None:
    await world.link(SARA)
    world.clock.advance(LIFETIME.expire_after - LIFETIME.warn_before)
    assert (await expiry.run_due()).warned == 1
    await world.link(SARA)  # renewed after the warning: a new link with a new lifetime
    relinked_at = world.clock.now()

    world.clock.advance(LIFETIME.warn_before)
    assert await expiry.run_due() == LinkExpiryReport()  # nothing: neither warned nor ended
    assert await world.workflow.accounts.linked(TEAM, SLACK_IDS[SARA]) is not None

    world.clock.set(relinked_at + LIFETIME.expire_after - LIFETIME.warn_before)
    assert (await expiry.run_due()).warned == 1
    first, second = world.slack.of("send_link_notice")
    assert first["key"] != second["key"]  # each link is warned once, under its own mark
    assert second["sentence"] == sentences.link_expires_soon(relinked_at + LIFETIME.expire_after)


async def test_a_warning_slack_refused_is_sent_at_the_next_tick(world: World, expiry: LinkExpiry) -> None:
    await world.link(SARA)
    world.clock.advance(LIFETIME.expire_after - LIFETIME.warn_before)
    world.slack.fail["send_link_notice"] = RuntimeError("channel_not_found")
    assert (await expiry.run_due()).failed == 1
    world.clock.advance(timedelta(minutes=1))
    assert (await expiry.run_due()).warned == 1
    assert len(world.slack.of("send_link_notice")) == 2


async def test_a_warning_whose_answer_was_lost_is_looked_for_after_the_lease_not_sent_blindly(
    world: World, expiry: LinkExpiry
) -> None:
    await world.link(SARA)
    world.clock.advance(LIFETIME.expire_after - LIFETIME.warn_before)
    world.slack.fail["send_link_notice"] = DeliveryUnknown("link:warn:x", "answer lost")
    await expiry.run_due()
    world.clock.advance(timedelta(minutes=1))
    assert (await expiry.run_due()).warned == 0  # still within the lease: nothing is sent again
    world.clock.advance(timedelta(minutes=2))

    assert (await expiry.run_due()).warned == 1

    first, second = world.slack.of("send_link_notice")
    assert (first["look_first"], second["look_first"]) == (False, True)
    assert first["key"] == second["key"]


async def test_an_expired_link_whose_holder_cannot_be_told_ends_untold_after_a_day(
    world: World, expiry: LinkExpiry
) -> None:
    await world.link(SARA)
    world.clock.advance(LIFETIME.expire_after)
    for _ in range(2):
        world.slack.fail["send_link_notice"] = RuntimeError("user_not_found")
        assert (await expiry.run_due()).failed == 1
        assert len(await world.store.links.list()) == 1  # kept a while to tell them, never used
        world.clock.advance(timedelta(hours=12))
    world.slack.fail["send_link_notice"] = RuntimeError("user_not_found")
    report = await expiry.run_due()
    assert (report.failed, report.ended) == (1, 1)
    assert await world.store.links.list() == []


async def test_a_lifetime_warns_within_itself() -> None:
    with pytest.raises(ValueError, match="warned about within it"):
        LinkLifetime(expire_after=timedelta(days=3), warn_before=timedelta(days=3))
