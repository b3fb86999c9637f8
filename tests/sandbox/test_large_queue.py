"""A large queue in the sandbox, seeded in bulk by the same rules as a request over the API."""

from __future__ import annotations

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.sandbox import world
from marketplace_slack_standins.sandbox.bulk import seed_pending
from marketplace_slack_standins.sandbox.server import SandboxServer

from .conftest import Api


def test_bulk_requests_are_pending_reviews_one_per_requester_and_product(clock: FakeClock) -> None:
    state = world.build(clock=clock)
    made = seed_pending(state, 300)
    assert len(made) == 300 and all(r.status == "PENDING" and r.records for r in made)
    assert len({(r.user.username, r.product_id) for r in made}) == 300
    assert [r.updated_at for r in made] == sorted(r.updated_at for r in made)
    assert all(r.updated_at <= clock.now() for r in made)


async def test_a_bulk_requester_cannot_ask_twice_over_the_api(sandbox: SandboxServer, api: Api) -> None:
    request = seed_pending(sandbox.state, 20)[0]
    user = request.user
    response = await api.post(
        f"/api/data-product/{request.product_id}/request",
        as_user=user.username,
        json={"user": user.global_user_id, "form": request.form},
    )
    assert response.status_code == 409, response.text
