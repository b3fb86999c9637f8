"""Linking a steward's Marketplace account: every outcome of a pasted token, unlinking, uninstalling."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from marketplace_slack.domain import Actor, Verdict
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.marketplace.errors import ServerError
from marketplace_slack.store.database import open_store
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.sentences import Outcome
from marketplace_slack.workflow.service import Workflow

from .conftest import CHANNEL, OMAR, SARA, SLACK_IDS, TEAM, World, request

TOKEN = SecretStr("token-ssmith")


async def known_token(world: World) -> None:
    actor = Actor(SARA.marketplace_id, SARA.username, SARA.email, groups=frozenset({"g-stewards"}))
    world.gateway.actors[TOKEN.get_secret_value()] = (actor, SARA)


async def unknown_token(world: World) -> None:
    return None


async def marketplace_down(world: World) -> None:
    await known_token(world)
    world.gateway.fail["whoami", TOKEN.get_secret_value()] = ServerError(502, "bad gateway")


async def someone_elses_token(world: World) -> None:
    world.gateway.actors[TOKEN.get_secret_value()] = (
        Actor(OMAR.marketplace_id, OMAR.username, OMAR.email),
        OMAR,
    )


async def no_email_in_slack(world: World) -> None:
    await known_token(world)
    del world.directory.emails[SLACK_IDS[SARA]]


async def email_in_another_case(world: World) -> None:
    await known_token(world)
    world.directory.emails[SLACK_IDS[SARA]] = (SARA.email or "").upper()


PASTES = {
    "linked": (known_token, Outcome.LINKED, True),
    "email matched whatever its case": (email_in_another_case, Outcome.LINKED, True),
    "token not accepted": (unknown_token, Outcome.TOKEN_NOT_ACCEPTED, False),
    "Marketplace unreachable": (marketplace_down, Outcome.MARKETPLACE_UNREACHABLE, False),
    "email mismatch": (someone_elses_token, Outcome.EMAIL_MISMATCH, False),
    "no email on the Slack profile": (no_email_in_slack, Outcome.EMAIL_MISMATCH, False),
}


@pytest.mark.parametrize(("arrange", "outcome", "kept"), PASTES.values(), ids=PASTES.keys())
async def test_every_outcome_of_a_pasted_token(
    world: World, arrange: Callable[[World], Awaitable[None]], outcome: Outcome, kept: bool
) -> None:
    await arrange(world)
    await world.workflow.accounts.complete_link(
        team_id=TEAM, user_id=SLACK_IDS[SARA], token=TOKEN, channel="C1"
    )
    assert world.slack.outcomes() == [outcome]
    link = await world.store.links.get(TEAM, SLACK_IDS[SARA])
    assert (link is not None) is kept
    if kept:
        assert link is not None and link.token.get_secret_value() == TOKEN.get_secret_value()
        assert world.slack.told()[0].text == (
            "Linked to the Marketplace as ssmith. Decisions you make here are in your name."
        )


async def test_link_opens_the_form_that_remembers_the_channel(world: World) -> None:
    await world.workflow.accounts.start_link(trigger_id="trigger-9", channel="C0CARDS")
    [form] = world.slack.of("open_link_form")
    assert form["trigger_id"] == "trigger-9" and json.loads(form["context"]) == {"c": "C0CARDS"}


async def test_unlink_says_whether_there_was_anything_to_unlink(world: World) -> None:
    await world.link(SARA)
    for _ in range(2):
        await world.workflow.accounts.unlink(team_id=TEAM, user_id=SLACK_IDS[SARA], channel=None)
    assert world.slack.told() == [sentences.UNLINKED, sentences.NOTHING_TO_UNLINK]
    assert await world.store.links.get(TEAM, SLACK_IDS[SARA]) is None


async def test_relinking_forgets_the_cached_identity(world: World) -> None:
    await world.link(SARA, groups=frozenset())
    await world.posted(request())
    assert not await world.click(SARA, Verdict.APPROVE)  # not a steward (yet), and that is cached
    await world.link(SARA)
    await known_token(world)
    await world.workflow.accounts.complete_link(
        team_id=TEAM, user_id=SLACK_IDS[SARA], token=TOKEN, channel="C1"
    )
    assert await world.click(SARA, Verdict.APPROVE)


async def test_uninstalling_forgets_every_token_of_the_workspace(world: World) -> None:
    await world.link(SARA)
    await world.link(OMAR)
    await world.workflow.accounts.forget_workspace(TEAM)
    assert await world.store.links.list(TEAM) == []


async def test_a_token_no_key_can_open_counts_as_unlinked(world: World, tmp_path: Path) -> None:
    await world.link(SARA)
    other_keys = TokenVault([SecretStr(TokenVault.generate_key())])
    rotated = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", other_keys)
    try:
        world.workflow = Workflow(
            store=rotated,
            gateway=world.gateway,
            messenger=world.slack,
            directory=world.directory,
            router=Router(CHANNEL),
            clock=world.clock,
            owner="replica-2",
        )
        await world.posted(request())
        assert not await world.click(SARA, Verdict.APPROVE)
        assert world.slack.shown() == [sentences.LINK_FIRST]  # the click's modal asks for a link
        assert await world.store.links.list(TEAM) == []  # the unreadable link is gone
    finally:
        await rotated.aclose()
