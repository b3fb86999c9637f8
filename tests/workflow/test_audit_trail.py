"""What the workflow writes to the audit log besides decisions: refusals, links, unlinks, ended links."""

from __future__ import annotations

from pydantic import SecretStr

from marketplace_slack.domain import Actor, Decision, Verdict
from marketplace_slack.marketplace.errors import UnauthorizedError
from marketplace_slack.store.audit import AuditEntry

from .conftest import OMAR, SARA, SLACK_IDS, TEAM, World, request


async def _entries(world: World) -> list[AuditEntry]:
    return [e async for e in world.store.audit.entries()]


async def test_a_refused_click_and_submit_are_audited_with_their_code(world: World) -> None:
    await world.link(SARA, groups=frozenset())  # not a steward of this request
    await world.posted(request())
    assert not await world.click(SARA, Verdict.APPROVE)

    [refused] = await _entries(world)
    assert (refused.kind, refused.outcome, refused.request_id, refused.verdict) == (
        "refusal",
        "not_approver",
        "req-1",
        "APPROVE",
    )
    assert (refused.slack_user_id, refused.team_id, refused.marketplace_user_id) == (
        SLACK_IDS[SARA],
        TEAM,
        SARA.marketplace_id,
    )
    assert refused.detail == {"at": "click"}
    assert await world.store.audit.list() == []  # not a decision


async def test_a_form_submitted_after_its_step_was_decided_elsewhere_is_audited_as_refused(
    world: World,
) -> None:
    await world.link(SARA)
    await world.link(OMAR)
    await world.posted(request())
    assert await world.click(SARA, Verdict.APPROVE)
    form = world.slack.of("show_decision_form")[-1]["context"]
    assert await world.click(OMAR, Verdict.DENY)
    await world.submit(OMAR, Decision(Verdict.DENY, "not needed"))
    await world.submit(SARA, Decision(Verdict.APPROVE, "Q4"), context=str(form))

    kinds = [(e.kind, e.slack_user_id, e.outcome, (e.detail or {}).get("at")) for e in await _entries(world)]
    assert kinds[0] == ("decision", SLACK_IDS[OMAR], "ok", None)
    assert kinds[1][:2] == ("refusal", SLACK_IDS[SARA]) and kinds[1][3] == "submit"


async def test_linking_unlinking_and_a_refused_token_are_audited_without_the_token(world: World) -> None:
    token = SecretStr("token-of-sara")
    actor = Actor(SARA.marketplace_id, SARA.username, SARA.email, groups=frozenset({"g-stewards"}))
    world.gateway.actors[token.get_secret_value()] = (actor, SARA)
    user = SLACK_IDS[SARA]
    await world.workflow.accounts.complete_link(team_id=TEAM, user_id=user, token=token, channel=None)
    await world.workflow.accounts.unlink(team_id=TEAM, user_id=user, channel=None)
    await world.workflow.accounts.unlink(team_id=TEAM, user_id=user, channel=None)  # nothing to unlink
    await world.workflow.accounts.complete_link(team_id=TEAM, user_id=user, token=token, channel=None)
    await world.workflow.accounts.relink(TEAM, user, None)  # the Marketplace refused the token

    entries = await _entries(world)
    assert [(e.kind, e.outcome) for e in entries] == [
        ("link", "ok"),
        ("unlink", "ok"),
        ("link", "ok"),
        ("link_ended", "unauthorized"),
    ]
    assert entries[0].marketplace_user_id == SARA.marketplace_id
    assert entries[0].detail == {"username": SARA.username}
    assert all(token.get_secret_value() not in repr(e) for e in entries)


async def test_a_token_the_marketplace_refuses_at_a_click_ends_the_link_in_the_log(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    world.gateway.fail["whoami", world.token(SARA).get_secret_value()] = UnauthorizedError(401, "expired")
    assert not await world.click(SARA, Verdict.APPROVE)
    assert [(e.kind, e.outcome) for e in await _entries(world)] == [("link_ended", "unauthorized")]
