"""A link's life over loopback (issue 10 §3): one live link per Marketplace user, an end in time, and
link and unlink keyed by the same workspace whatever fields Slack's payloads carry it in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.slack import ids
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import Grid, SlackUser, slash_command, view_state, view_submission
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, link_account, open_stage

PRODUCT = "Sales Pipeline"  # Sara and Omar are among its approvers


def _dms(stage: Stage, user_id: str) -> list[str]:
    return [m.text for m in stage.slack.messages(stage.slack.dm_channel(user_id))]


async def _records(stage: Stage, request_id: str) -> list[wire.ApprovalRecord]:
    return (await stage.app.marketplace.get_access_request_records(request_id)).approval_records


async def test_a_second_slack_account_linking_the_same_user_ends_the_first_link(stage: Stage) -> None:
    request_id = await stage.request_access("rick", PRODUCT)
    await stage.settle()
    await stage.link("sara")
    first = stage.slack_user("sara")
    # A second Slack account with Sara's address (a new account of hers, the old one not yet
    # changed), into which her Marketplace token is pasted.
    second = "U0SARANEW"
    old = stage.slack.workspace.users[first]
    stage.slack.workspace.users[second] = SlackUser(
        id=second, name="sara.new", real_name=old.real_name, email=old.email, tz=old.tz
    )

    await link_account(stage.agent, stage.slack, second, stage.sandbox.token_for("sara"))
    await stage.settle()

    assert _dms(stage, first) == [sentences.LINK_DISPLACED.text]
    assert await stage.app.store.links.get(stage.slack.team_id, first) is None
    assert await stage.app.store.links.get(stage.slack.team_id, second) is not None
    # The first account can no longer decide: its click opens the link form, and nothing is recorded.
    await stage.click("sara", request_id, ids.APPROVE)
    assert stage.slack.views(first)[-1]["callback_id"] == ids.LINK_MODAL
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))


@pytest.fixture
async def short_links(store_database: Any, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Stage]:
    """A stage whose config file lets links live 10 days, warned 2 days before."""
    path = tmp_path / "marketplace-slack.yml"
    path.write_text(yaml.safe_dump({"links": {"expire_after_days": 10, "warn_days_before": 2}}))
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url, clock=clock, MPSLACK_CONFIG_FILE=str(path), **extra
    ) as running:
        yield running


async def test_the_holder_is_warned_once_and_the_link_ends_at_expiry(short_links: Stage) -> None:
    stage = short_links
    await stage.link("sara")
    user = stage.slack_user("sara")
    linked_at = stage.clock.now()

    await stage.advance(timedelta(days=8) - timedelta(minutes=1))
    assert _dms(stage, user) == []
    await stage.advance(timedelta(minutes=1))
    warning = sentences.link_expires_soon(linked_at + timedelta(days=10)).text
    assert _dms(stage, user) == [warning]
    assert "run /marketplace link to renew it" in warning
    for _ in range(3):
        await stage.advance(timedelta(hours=12))
    assert _dms(stage, user) == [warning]  # once
    assert await stage.app.store.links.get(stage.slack.team_id, user) is not None

    await stage.advance(timedelta(hours=12))  # 10 days after linking

    assert _dms(stage, user) == [warning, sentences.LINK_EXPIRED.text]
    assert await stage.app.store.links.get(stage.slack.team_id, user) is None
    await stage.advance(timedelta(days=1))
    assert _dms(stage, user) == [warning, sentences.LINK_EXPIRED.text]  # told once

    request_id = await stage.request_access("rick", PRODUCT)
    await stage.settle()
    await stage.click("sara", request_id, ids.APPROVE)
    assert stage.slack.views(user)[-1]["callback_id"] == ids.LINK_MODAL


async def test_unlink_deletes_the_link_whatever_team_field_each_payload_carries(stage: Stage) -> None:
    """In an Enterprise Grid organisation the link modal's submission names the organisation in
    `view.app_installed_team_id` and the member's home workspace in `user.team_id`, while the slash
    command names the workspace it ran in: three team ids for one person, one link."""
    user = stage.slack_user("sara")
    grid = Grid(installed_team_id="E0EXAMPLEORG", home_team_id="T0SARASHOME")
    team = stage.slack.team_id

    await _marketplace(stage, "link", user=user, team=team, grid=grid)
    await stage.slack.wait_for("views.open", count=1)
    view = stage.slack.views(user)[-1]
    values = view_state(view, {ids.TOKEN_INPUT: stage.sandbox.token_for("sara")})
    await stage.agent.send_interaction(
        view_submission(user_id=user, team_id=team, view=view, state_values=values, grid=grid)
    )
    await stage.settle()
    assert [(k.team_id, k.slack_user_id) for k in await stage.app.store.links.list()] == [(team, user)]

    await _marketplace(stage, "unlink", user=user, team=team, grid=grid)
    await stage.settle()

    assert await stage.app.store.links.list() == []
    told = [m.text for m in stage.slack.ephemeral_messages(user=user)]
    assert told[-1] == sentences.UNLINKED.text


async def _marketplace(stage: Stage, text: str, *, user: str, team: str, grid: Grid) -> None:
    """`/marketplace <text>` as a member of a Grid organisation sends it."""
    command = slash_command(
        user_id=user,
        team_id=team,
        channel_id=STEWARDS_CHANNEL,
        command=ids.SLASH_COMMAND,
        text=text,
        grid=grid,
    )
    await stage.agent.send_slash_command(command)
