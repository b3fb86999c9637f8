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

import structlog
from slack_bolt.async_app import AsyncBoltContext

from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import sentence_text
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import Replies

log = structlog.get_logger(__name__)


def hand_off(
    tasks: BackgroundTasks,
    work: Coroutine[Any, Any, Any],
    *,
    name: str,
    context: AsyncBoltContext,
    replies: Replies | None = None,
) -> bool:
    """Offer `work`; when it is refused, tell the person who acted. Whether it was taken."""
    if tasks.offer(work, name=name) is not None:
        return True
    tasks.spawn(tell_busy(context, replies), name=f"busy:{name}")
    return False


async def tell_busy(context: AsyncBoltContext, replies: Replies | None) -> None:
    """`sentences.BUSY`, to whoever acted and only them."""
    sentence = sentences.BUSY
    respond = context.respond
    if context.response_url and respond is not None:
        text = sentence_text(sentence.text, sentence.mention, FALLBACK_TEXT_MAX)
        await respond(text=text, response_type="ephemeral", replace_original=False)
    elif replies is not None and context.user_id:
        await replies.tell(user_id=context.user_id, channel=context.channel_id, sentence=sentence)
    else:  # not reachable from the listeners that shed; said so rather than dropped silently
        log.warning("busy_not_told", user=context.user_id)
