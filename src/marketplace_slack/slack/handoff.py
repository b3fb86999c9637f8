"""Handing what a person did over to the background, or telling them the app is too busy to take it.

A listener acks first and then offers the work (`BackgroundTasks.offer`). When as much work already
waits as the app lets wait, the offer is refused: nothing of the click is done, and the person is told
so in one sentence only they see (`sentences.BUSY`), through the interaction's response_url where it
has one, else the Replies port (ephemeral in the channel, or a DM). The answer is sent after the ack,
in a task of its own, so a burst of refused clicks never holds up the acks of the next ones.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import aiohttp
import structlog
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.webhook.async_client import AsyncWebhookClient

from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import sentence_text
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import Replies

log = structlog.get_logger(__name__)

_TIMEOUT = aiohttp.ClientTimeout(total=10)


class BusyTeller:
    """Tells whoever acted that their click was shed. Its answers share one HTTP session: a burst of
    shed clicks is exactly when a connection (and a TLS handshake) per answer costs the most, and
    Bolt's own `respond` opens one each time. `aclose` it when the app stops."""

    def __init__(self, replies: Replies | None = None) -> None:
        self._replies = replies
        self._session: aiohttp.ClientSession | None = None

    async def tell(self, context: AsyncBoltContext) -> None:
        """`sentences.BUSY`, to whoever acted and only them."""
        sentence = sentences.BUSY
        if context.response_url:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
            text = sentence_text(sentence.text, sentence.mention, FALLBACK_TEXT_MAX)
            hook = AsyncWebhookClient(context.response_url, session=self._session)
            await hook.send(text=text, response_type="ephemeral", replace_original=False)
        elif self._replies is not None and context.user_id:
            await self._replies.tell(user_id=context.user_id, channel=context.channel_id, sentence=sentence)
        else:  # not reachable from the listeners that shed; said so rather than dropped silently
            log.warning("busy_not_told", user=context.user_id)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def hand_off(
    tasks: BackgroundTasks,
    work: Coroutine[Any, Any, Any],
    *,
    name: str,
    context: AsyncBoltContext,
    busy: BusyTeller,
) -> bool:
    """Offer `work`; when it is refused, tell the person who acted. Whether it was taken."""
    if tasks.offer(work, name=name) is not None:
        return True
    tasks.spawn(busy.tell(context), name=f"busy:{name}")
    return False
