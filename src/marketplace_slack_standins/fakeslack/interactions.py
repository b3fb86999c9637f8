"""The payloads of a self-service flow: actions inside a modal or App Home, options loads for external
selects, global shortcuts and shared links, shaped as Slack sends them.

Like `payloads.block_action`, each is built from what the app showed (the view as views.open,
views.update or views.publish returned it), so a test cannot operate an element the app never
rendered. Shapes follow slack-bolt's scenario tests (test_block_suggestion.py, test_shortcut.py) and
api.slack.com's samples (the link_shared event, block_actions from a view).
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from marketplace_slack_standins.fakeslack.payloads import (
    Json,
    _action,
    _action_ts,
    _echo_view,
    _find_element,
    _merge_state,
    _team,
    _user,
    event_callback,
    initial_state,
    new_trigger_id,
)
from marketplace_slack_standins.fakeslack.workspace import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_TEAM_DOMAIN,
    VERIFICATION_TOKEN,
)

# Slack sends no options request before the user has typed this many characters (the element's
# `min_query_length`, 3 when the app left it out).
DEFAULT_MIN_QUERY_LENGTH = 3
LINK_SOURCES = ("composer", "conversations_history")


def _echo(view: Json, *, team_id: str, api_app_id: str, bot_id: str) -> Json:
    if not view.get("id"):
        raise ValueError("pass the view as Slack returned it (views.open/update/publish): it has no id")
    return _echo_view(
        view=view,
        view_id=view["id"],
        team_id=team_id,
        callback_id=view.get("callback_id", ""),
        private_metadata=None,
        state_values=None,
        api_app_id=api_app_id,
        bot_id=bot_id,
    )


def view_block_action(
    *,
    user_id: str,
    team_id: str,
    view: Json,
    action_id: str,
    block_id: str | None = None,
    value: str | Sequence[str] | None = None,
    option: Json | Sequence[Json] | None = None,
    state_values: Mapping[str, Mapping[str, Json]] | None = None,
    trigger_id: str | None = None,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
) -> Json:
    """A click or choice inside a modal or the App Home (`view` as Slack returned it, "modal" or "home").

    The element is looked up in the view's blocks. `value` is a button's value, an option value (or a
    list, for multi_static_select and checkboxes), a user id, or typed text (a plain_text_input with
    dispatch_action); for an external_select / multi_external_select pass `option`, the option object
    (or list) the app's options listener gave. `view.state.values` holds every stateful element,
    untouched ones with their initial values, then `state_values` (earlier choices), then this one.

    Unlike a message's, the payload has no channel, message or response_url: the app answers by
    calling views.update with `view.id` (and `view.hash`).
    """
    the_block_id, element = _find_element(view.get("blocks", []), block_id, action_id)
    action, new_state = _action(element, the_block_id, option if option is not None else value)
    echoed = _echo(view, team_id=team_id, api_app_id=api_app_id, bot_id=bot_id)
    state = initial_state(echoed["blocks"])
    _merge_state(state, state_values)
    if new_state is not None:
        state.setdefault(the_block_id, {})[action_id] = new_state
    echoed["state"] = {"values": state}
    return {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": echoed["id"]},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": echoed,
        "actions": [action],
    }


def block_suggestion(
    *,
    user_id: str,
    team_id: str,
    view: Json,
    action_id: str,
    block_id: str | None,
    value: str,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
) -> Json:
    """The user typed `value` into an external select of `view`; Slack asks the app for options.

    Slack sends no trigger_id with it (an options load cannot open a view), and the view's state is
    the one Slack last stored, not what the user has picked since: an app must not rely on it for
    dependent menus (slackapi/bolt-js#1146).
    """
    the_block_id, element = _find_element(view.get("blocks", []), block_id, action_id)
    kind = element.get("type")
    if kind not in ("external_select", "multi_external_select"):
        raise ValueError(f"{action_id!r} is a {kind}, which loads no options from the app")
    least = element.get("min_query_length", DEFAULT_MIN_QUERY_LENGTH)
    if len(value) < least:
        raise ValueError(f"Slack asks for {action_id!r}'s options once {least} characters are typed")
    echoed = _echo(view, team_id=team_id, api_app_id=api_app_id, bot_id=bot_id)
    echoed["state"] = copy.deepcopy(view.get("state") or {"values": {}})
    return {
        "type": "block_suggestion",
        "user": _user(user_id, team_id, user_name),
        "container": {"type": "view", "view_id": echoed["id"]},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": the_block_id,
        "value": value,
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": echoed,
    }


def global_shortcut(
    *,
    user_id: str,
    team_id: str,
    callback_id: str,
    trigger_id: str | None = None,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
) -> Json:
    """The user ran the app's global shortcut `callback_id` (from search or the composer's menu).

    No channel and no response_url: the app acks and opens a modal with the trigger_id, which the
    fake accepts once the payload is delivered through it (`FakeSlack.adopt`)."""
    user = _user(user_id, team_id, user_name)
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": _action_ts(),
        "team": _team(team_id, team_domain),
        "user": {"id": user["id"], "username": user["username"], "team_id": team_id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def new_unfurl_id(channel: str, message_ts: str) -> str:
    """Shaped like Slack's: C123456.123456789.987501.<64 hex digits>."""
    seconds, _, micros = message_ts.partition(".")
    return f"{channel}.{seconds}.{micros}.{secrets.token_hex(32)}"


def link_shared(
    *,
    team_id: str,
    user_id: str,
    channel: str,
    message_ts: str,
    links: Sequence[str],
    thread_ts: str | None = None,
    is_bot_user_member: bool = True,
    unfurl_id: str | None = None,
    event_id: str | None = None,
    domains: Sequence[str] | None = None,
) -> Json:
    """`link_shared` in its Events API envelope: `user` posted `links` in a message of `channel`.

    `domains` are the app's unfurl domains (its manifest's features.unfurl_domains): each link is
    reported with the one it matched, and a link matching none is refused, as Slack would not send
    it. Without them every link's host is its domain. The app answers with chat.unfurl (channel +
    ts, or unfurl_id + source)."""
    if not links:
        raise ValueError("Slack sends link_shared only for a message with at least one link")
    event: Json = {
        "type": "link_shared",
        "channel": channel,
        "is_bot_user_member": is_bot_user_member,
        "user": user_id,
        "message_ts": message_ts,
        "unfurl_id": unfurl_id or new_unfurl_id(channel, message_ts),
        "source": "conversations_history",
        "links": [{"domain": link_domain(url, domains), "url": url} for url in links],
        "event_ts": _action_ts(),
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_callback(event, team_id=team_id, event_id=event_id)


def link_domain(url: str, domains: Sequence[str] | None = None) -> str:
    """The unfurl domain Slack reports for a shared link: the app's domain the host is, or is under."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not a link Slack would unfurl")
    if domains is None:
        return host
    for domain in domains:
        domain = domain.lower()
        if host == domain or host.endswith("." + domain):
            return domain
    raise ValueError(f"{url!r} is in none of the app's unfurl domains {list(domains)}")
