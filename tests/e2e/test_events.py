"""Events API deliveries over HTTP: Slack retries one it did not see acked, and the app acts once.

Slack sends the retry with `X-Slack-Retry-Num` and the same `event_id`, up to an hour later; what matters
is that the app keeps no second copy of its work. A repeat `app_uninstalled` that came after a steward
linked again would otherwise delete the new link.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from marketplace_slack_standins.fakeslack import event_callback
from marketplace_slack_standins.stage import Stage


async def test_a_retried_event_is_acted_on_once(stage: Stage) -> None:
    await stage.link("sara")
    body = event_callback({"type": "app_uninstalled"}, team_id=stage.slack.team_id, event_id="Ev0RETRIED")
    with capture_logs() as logs:
        first = await stage.agent.send_event(body)
        await stage.settle()
        assert await stage.app.store.links.get(stage.slack.team_id, stage.slack_user("sara")) is None

        await stage.link("sara")  # linked again before Slack's retry of the same delivery
        again = await stage.agent.send_event(body)
        await stage.settle()

    assert (first.status, again.status) == (200, 200)
    assert [e["event"] for e in logs].count("workspace_forgotten") == 1
    assert await stage.app.store.links.get(stage.slack.team_id, stage.slack_user("sara")) is not None
