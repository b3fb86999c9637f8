"""The identity rule on its own: ASCII-only case-insensitive emails, standings, and the minute-long cache."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.workflow.identity import (
    Identity,
    IdentityPolicy,
    Standing,
    ascii_lower,
    assess,
    same_email,
)
from marketplace_slack.workflow.ports import SlackProfile

from .fakes import FakeDirectory

TEAM = "T0MARKET"


@pytest.mark.parametrize(
    ("slack", "linked"),
    [
        ("ADA@EXAMPLE.COM", "ada@example.com"),
        ("Ada@Example.com", "ada@example.COM"),
        (" ada@example.com ", "ada@example.com"),
    ],
)
def test_emails_match_whatever_their_ascii_case(slack: str, linked: str) -> None:
    assert same_email(slack, linked)


@pytest.mark.parametrize(
    ("slack", "linked"),
    [
        ("STRASSE@example.com", "straße@example.com"),  # casefold() makes these equal
        ("\u212aate@example.com", "kate@example.com"),  # KELVIN SIGN lowercases to k
        ("\u0130van@example.com", "ivan@example.com"),  # LATIN CAPITAL I WITH DOT ABOVE
        ("ﬁona@example.com", "fiona@example.com"),  # the fi ligature casefolds to "fi"
        ("ada@example.com", "ada@example.co"),
        ("", ""),
        (None, "ada@example.com"),
    ],
)
def test_look_alikes_do_not_match(slack: str | None, linked: str | None) -> None:
    assert not same_email(slack, linked)


def test_ascii_lower_leaves_everything_but_a_to_z_alone() -> None:
    assert ascii_lower("ÄDA-\u212a@EXAMPLE.COM") == "Äda-\u212a@example.com"


def _profile(**changes: object) -> SlackProfile:
    values: dict[str, object] = {"user_id": "U0SARA", "email": "sara@example.com", "team_id": TEAM}
    values.update(changes)
    return SlackProfile(**values)  # type: ignore[arg-type]


STANDINGS = {
    "a member with the linked email": (_profile(), Standing.OK),
    "email changed": (_profile(email="sara@elsewhere.example"), Standing.EMAIL_CHANGED),
    "no email": (_profile(email=None), Standing.EMAIL_CHANGED),
    "deactivated, whatever else": (_profile(deleted=True, email="x@y.z"), Standing.DEACTIVATED),
    "guest": (_profile(restricted=True), Standing.GUEST),
    "single-channel guest": (_profile(restricted=True, ultra_restricted=True), Standing.GUEST),
    "stranger": (_profile(stranger=True, team_id="T0OTHER"), Standing.EXTERNAL),
    "another team": (_profile(team_id="T0OTHER"), Standing.EXTERNAL),
    "unconfirmed email": (_profile(email_confirmed=False), Standing.EMAIL_UNCONFIRMED),
    "unreadable": (None, Standing.UNREADABLE),
}


@pytest.mark.parametrize(("profile", "standing"), STANDINGS.values(), ids=STANDINGS.keys())
def test_standings(profile: SlackProfile | None, standing: Standing) -> None:
    assert assess(profile, email="Sara@Example.com", team_id=TEAM, policy=IdentityPolicy()) is standing


def test_only_a_changed_email_or_a_deactivation_ends_a_link() -> None:
    assert {s for s in Standing if s.ends_link} == {Standing.EMAIL_CHANGED, Standing.DEACTIVATED}
    assert all(s.sentence is not None for s in Standing if s is not Standing.OK)


def test_settings_let_guests_and_outsiders_in_but_never_another_email() -> None:
    policy = IdentityPolicy(allow_guests=True, allow_external=True)
    guest_outsider = _profile(restricted=True, stranger=True, team_id="T0OTHER")
    assert assess(guest_outsider, email="sara@example.com", team_id=TEAM, policy=policy) is Standing.OK
    moved = _profile(restricted=True, email="sara@elsewhere.example")
    assert assess(moved, email="sara@example.com", team_id=TEAM, policy=policy) is Standing.EMAIL_CHANGED


async def test_a_profile_is_served_from_the_cache_for_under_a_minute() -> None:
    clock = FakeClock()
    directory = FakeDirectory(emails={"U0SARA": "sara@example.com"})
    identity = Identity(directory=directory, clock=clock, ttl=timedelta(hours=1))  # capped at 60 s

    assert await identity.standing(TEAM, "U0SARA", "sara@example.com") is Standing.OK
    directory.emails["U0SARA"] = "sara@elsewhere.example"
    clock.advance(timedelta(seconds=59))
    assert await identity.standing(TEAM, "U0SARA", "sara@example.com") is Standing.OK
    assert directory.reads == 1
    clock.advance(timedelta(seconds=1))
    assert await identity.standing(TEAM, "U0SARA", "sara@example.com") is Standing.EMAIL_CHANGED
    assert directory.reads == 2


async def test_fresh_reads_and_failed_reads() -> None:
    clock = FakeClock()
    directory = FakeDirectory(emails={"U0SARA": "sara@example.com"})
    identity = Identity(directory=directory, clock=clock)
    await identity.standing(TEAM, "U0SARA", "sara@example.com")

    directory.unreadable.add("U0SARA")
    assert await identity.standing(TEAM, "U0SARA", "sara@example.com", fresh=True) is Standing.UNREADABLE
    directory.unreadable.clear()
    assert await identity.standing(TEAM, "U0SARA", "sara@example.com") is Standing.OK  # asked again
    assert directory.reads == 3


async def test_a_pushed_profile_replaces_the_cached_one() -> None:
    clock = FakeClock()
    directory = FakeDirectory(emails={"U0SARA": "sara@example.com"})
    identity = Identity(directory=directory, clock=clock)
    await identity.standing(TEAM, "U0SARA", "sara@example.com")

    identity.observe(_profile(restricted=True))

    assert await identity.standing(TEAM, "U0SARA", "sara@example.com") is Standing.GUEST
    assert directory.reads == 1
