"""Interaction payloads, slash commands and events shaped as Slack sends them to an app.

The shapes follow the recorded payloads in tests/data/slack-payloads (taken from slack-bolt's and
slack-sdk's own tests) plus the fields Slack adds today (`is_enterprise_install`, `enterprise`,
message-surface `state`). A click is built from the blocks actually posted, so a test cannot press a
button the app never showed.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from marketplace_slack_standins.fakeslack.workspace import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_DOMAIN,
    VERIFICATION_TOKEN,
    channel_name_for,
    user_name_for,
)

Json = dict[str, Any]

# Which key carries an element's current value in `state.values`, and which key seeds it.
_STATE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
}
_LIST_KEYS = frozenset({"selected_options", "selected_users", "selected_conversations", "selected_channels"})
# Elements whose options the app put in the blocks: an answer names an option by its value.
_OPTION_ELEMENTS = frozenset({"static_select", "radio_buttons", "overflow"})
_MULTI_OPTION_ELEMENTS = frozenset({"multi_static_select", "checkboxes"})
# Elements whose options came from the app's options listener: the view holds none, so an answer is
# the option object itself, as the listener gave it.
_EXTERNAL_ELEMENTS = frozenset({"external_select", "multi_external_select"})

# What a test says the user chose: a value, several values, or (external selects) option objects.
Answer = str | Sequence[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


def new_trigger_id() -> str:
    """Same shape as Slack's, e.g. 398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c."""
    return f"{secrets.randbelow(10**12):012d}.{secrets.randbelow(10**11):011d}.{secrets.token_hex(16)}"


def new_response_url(team_id: str, kind: str = "actions") -> str:
    return (
        f"https://hooks.slack.com/{kind}/{team_id}/{secrets.randbelow(10**13):013d}/{secrets.token_hex(12)}"
    )


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _plain(text: Any) -> Any:
    # Slack echoes plain_text objects back with "emoji": true even when the app left it out.
    if isinstance(text, dict) and text.get("type") == "plain_text" and "emoji" not in text:
        return {**text, "emoji": True}
    return text


def _option(option: Json) -> Json:
    out = {"text": _plain(option["text"]), "value": option["value"]}
    if "description" in option:
        out["description"] = _plain(option["description"])
    return out


def _options(element: Json) -> Iterator[Json]:
    yield from element.get("options", [])
    for group in element.get("option_groups", []):
        yield from group.get("options", [])


def _find_option(element: Json, value: str) -> Json:
    for option in _options(element):
        if option.get("value") == value:
            return _option(option)
    offered = [o.get("value") for o in _options(element)]
    raise ValueError(f"{element.get('action_id')!r} offers no option {value!r}; it offers {offered}")


def interactive_elements(blocks: Sequence[Json]) -> Iterator[tuple[str | None, Json]]:
    """(block_id, element) for every element a user can operate, in display order."""
    for block in blocks:
        block_id = block.get("block_id")
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                yield block_id, element
        elif block.get("type") == "section" and "accessory" in block:
            yield block_id, block["accessory"]
        elif block.get("type") == "input" and "element" in block:
            yield block_id, block["element"]


def _find_element(blocks: Sequence[Json], block_id: str | None, action_id: str) -> tuple[str, Json]:
    """The element a user operated, and the block_id Slack reports for it."""
    found = [(b, e) for b, e in interactive_elements(blocks) if e.get("action_id") == action_id]
    if block_id is None and len(found) > 1:
        raise ValueError(f"{action_id!r} appears in several blocks; say which block_id was clicked")
    for found_block_id, element in found:
        # A block the app posted without a block_id gets a random one from Slack, so any id matches.
        if block_id is None or found_block_id in (block_id, None):
            return block_id or found_block_id or "b" + secrets.token_hex(2), element
    present = [(b, e.get("action_id")) for b, e in interactive_elements(blocks)]
    raise ValueError(
        f"no element {action_id!r} in block {block_id!r}, so Slack could not send this action; "
        f"the blocks hold {present}"
    )


def initial_state(blocks: Sequence[Json]) -> dict[str, dict[str, Json]]:
    """`state.values` for blocks nobody has touched: every stateful element with its initial value."""
    values: dict[str, dict[str, Json]] = {}
    for block_id, element in interactive_elements(blocks):
        keys = _STATE_KEYS.get(element.get("type", ""))
        if keys is None or block_id is None or "action_id" not in element:
            continue
        current_key, initial_key = keys
        initial = element.get(initial_key)
        if isinstance(initial, dict):
            initial = _option(initial)
        elif isinstance(initial, list) and initial and isinstance(initial[0], dict):
            initial = [_option(o) for o in initial]
        if initial is None and current_key in _LIST_KEYS:
            initial = []
        values.setdefault(block_id, {})[element["action_id"]] = {
            "type": element["type"],
            current_key: initial,
        }
    return values


def _merge_state(base: dict[str, dict[str, Json]], extra: Mapping[str, Mapping[str, Json]] | None) -> None:
    for block_id, actions in (extra or {}).items():
        base.setdefault(block_id, {}).update(copy.deepcopy(dict(actions)))


def _external_option(element: Json, option: Any) -> Json:
    if not isinstance(option, Mapping) or not {"text", "value"} <= set(option):
        raise ValueError(
            f"{element.get('action_id')!r} is an {element.get('type')}: the view holds no options, so pass "
            f"the option object ({{text, value}}) the app's options listener gave, not {option!r}"
        )
    return _option(dict(option))


def _many(element: Json, answer: Answer) -> list[Any]:
    if isinstance(answer, str | Mapping) or not isinstance(answer, Sequence):
        raise ValueError(f"{element.get('action_id')!r} is a {element.get('type')}: its answer is a list")
    chosen = list(answer)
    most = element.get("max_selected_items")
    if isinstance(most, int) and len(chosen) > most:
        # The client stops at max_selected_items, so Slack never reports more.
        raise ValueError(f"{element.get('action_id')!r} lets the user pick at most {most}, not {len(chosen)}")
    return chosen


def _text_answer(element: Json, answer: Answer) -> str:
    if not isinstance(answer, str):
        raise ValueError(f"{element.get('action_id')!r} is a {element.get('type')}: its answer is a string")
    return answer


def _number(element: Json, answer: str) -> str:
    """Slack's client refuses to submit what a number_input does not accept, so no payload carries it."""
    action_id = element.get("action_id")
    try:
        number = float(answer)
    except ValueError:
        raise ValueError(f"{action_id!r} is a number_input; {answer!r} is not a number") from None
    if not element.get("is_decimal_allowed") and not answer.strip().lstrip("+-").isdigit():
        raise ValueError(f"{action_id!r} takes whole numbers only, not {answer!r}")
    low, high = element.get("min_value"), element.get("max_value")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise ValueError(f"{action_id!r} takes numbers in {low}..{high}, not {answer!r}")
    return answer


def _typed_text(element: Json, answer: str) -> str:
    """A plain_text_input's client stops at max_length and will not submit under min_length."""
    longest, shortest = element.get("max_length"), element.get("min_length")
    if answer and isinstance(longest, int) and len(answer) > longest:
        raise ValueError(f"{element.get('action_id')!r} takes at most {longest} characters")
    if answer and isinstance(shortest, int) and len(answer) < shortest:
        raise ValueError(f"{element.get('action_id')!r} needs at least {shortest} characters")
    return answer


def _selection(element: Json, answer: Answer) -> Any:
    """What Slack reports in `state.values` (and in the action) when the user chose `answer`.

    Options the app put in the view are named by value and echoed with their label, as Slack does;
    an external select's options are passed whole (the view has none); a users_select takes a user
    id, a number_input the number as a string.
    """
    kind = element.get("type", "")
    if answer is None:
        return None
    if kind in _OPTION_ELEMENTS:
        return _find_option(element, _text_answer(element, answer))
    if kind in _MULTI_OPTION_ELEMENTS:
        values = [_text_answer(element, v) for v in _many(element, answer)]
        return [_find_option(element, v) for v in dict.fromkeys(values)]
    if kind == "external_select":
        return _external_option(element, answer)
    if kind == "multi_external_select":
        return [_external_option(element, o) for o in _many(element, answer)]
    keys = _STATE_KEYS.get(kind)
    if keys is not None and keys[0] in _LIST_KEYS:
        return [_text_answer(element, v) for v in _many(element, answer)]
    text = _text_answer(element, answer)
    if kind == "number_input":
        return _number(element, text)
    if kind == "plain_text_input":
        return _typed_text(element, text)
    return text


def _action(element: Json, block_id: str, value: Answer) -> tuple[Json, Json | None]:
    """The `actions[0]` entry, and the new state entry when the element is stateful."""
    kind = element.get("type", "")
    action: Json = {"action_id": element["action_id"], "block_id": block_id}
    if kind == "button":
        if value is not None and value != element.get("value"):
            raise ValueError(
                f"button {element['action_id']!r} carries value {element.get('value')!r}, not {value!r}"
            )
        action["text"] = _plain(element["text"])
        if "value" in element:
            action["value"] = element["value"]
        for key in ("style", "url"):
            if key in element:
                action[key] = element[key]
        action.update(type="button", action_ts=_action_ts())
        return action, None
    if value is None:
        raise ValueError(f"a {kind} action needs the chosen value")
    keys = ("selected_option", "") if kind == "overflow" else _STATE_KEYS.get(kind)
    if keys is None:
        raise ValueError(f"building a block action for a {kind} element is not supported")
    chosen = _selection(element, value)
    action = {"type": kind, **action, keys[0]: chosen}
    if "placeholder" in element:
        action["placeholder"] = _plain(element["placeholder"])
    action["action_ts"] = _action_ts()
    state = None if kind == "overflow" else {"type": kind, keys[0]: chosen}
    return action, state


@dataclass(frozen=True, slots=True)
class Grid:
    """An Enterprise Grid organisation, for the fields where its payloads differ from one workspace's:
    the organisation on every payload, the member's home workspace in `user.team_id` (a member acts in
    several workspaces), and the team a modal's app is installed for in `view.app_installed_team_id`
    (the organisation's id for an organisation-wide install)."""

    enterprise_id: str = "E0EXAMPLEORG"
    enterprise_name: str = "Example Org"
    home_team_id: str | None = None  # None: the workspace the payload comes from
    installed_team_id: str | None = None  # None: the workspace the payload comes from
    enterprise_install: bool = False


def _user(user_id: str, team_id: str, user_name: str | None) -> Json:
    name = user_name or user_name_for(user_id)
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str, team_domain: str) -> Json:
    return {"id": team_id, "domain": team_domain}


def block_action(
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    message_blocks: Sequence[Json],
    block_id: str | None = None,
    value: str | None = None,
    state_values: Mapping[str, Mapping[str, Json]] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    message_text: str = "",
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
) -> Json:
    """A click on a message's button, or a choice in its select menu (`value` = the option's value).

    The element is looked up in `message_blocks` (by `block_id` when given, else by the unique
    `action_id`), and the action is built from it, so only what the app actually showed can be used.

    `state.values` holds every stateful element of the message as Slack reports it: initial values,
    then the selection this action makes, then `state_values` on top for earlier selections.
    """
    block_id, element = _find_element(message_blocks, block_id, action_id)
    action, new_state = _action(element, block_id, value)
    state = initial_state(message_blocks)
    _merge_state(state, state_values)
    if new_state is not None:
        state.setdefault(block_id, {})[action_id] = new_state
    message: Json = {
        "user": bot_user_id,
        "type": "message",
        "ts": message_ts,
        "bot_id": bot_id,
        "app_id": api_app_id,
        "text": message_text,
        "team": team_id,
        "blocks": copy.deepcopy(list(message_blocks)),
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name or channel_name_for(channel_id)},
        "message": message,
        "state": {"values": state},
        "response_url": response_url or new_response_url(team_id),
        "actions": [action],
    }


def view_state(view: Json, answers: Mapping[str, Answer] | None = None) -> dict[str, dict[str, Json]]:
    """`view.state.values` for a modal after the user typed or chose `answers` (keyed by action_id).

    Slack reports every input block, including untouched optional ones. Per element, the answer is:
    an option value (static_select, radio_buttons) or a list of them (multi_static_select,
    checkboxes), looked up in the view for its label as Slack would; the option object the app's
    options listener gave (external_select) or a list of them (multi_external_select); a user id
    (users_select) or a list (multi_users_select); the text typed (plain_text_input, and a
    number_input's number as a string); None to report the element empty. What the client would not
    let the user enter (an option the view does not offer, a number out of range) raises ValueError.
    """
    answers = dict(answers or {})
    values: dict[str, dict[str, Json]] = {}
    for block in view.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        kind = element.get("type", "")
        action_id = element["action_id"]
        keys = _STATE_KEYS.get(kind)
        if keys is None:
            raise ValueError(f"input element type {kind!r} is not supported")
        block_id = block.get("block_id")
        if block_id is None:
            raise ValueError(f"input {action_id!r} has no block_id; pass the view as Slack returned it")
        entry = initial_state([block])[block_id][action_id]
        if action_id in answers:
            entry[keys[0]] = _selection(element, answers.pop(action_id))
        values[block_id] = {action_id: entry}
    if answers:
        raise ValueError(f"the view has no input for {sorted(answers)}")
    return values


def filled_state(view: Json, answers: Mapping[str, Answer]) -> dict[str, dict[str, Json]]:
    """Like `view_state`, with `answers` keyed by block id: for forms whose inputs share action ids
    (one per question type), where an action id cannot say which input is meant."""
    values = view_state(view)
    answers = dict(answers)
    for block in view.get("blocks", []):
        block_id = block.get("block_id")
        element = block.get("element")
        if block.get("type") != "input" or block_id not in answers or not isinstance(element, dict):
            continue
        keys = _STATE_KEYS[element.get("type", "")]
        values[block_id][element["action_id"]][keys[0]] = _selection(element, answers.pop(block_id))
    if answers:
        raise ValueError(f"the view has no input blocks {sorted(answers)}")
    return values


def _view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_urlsafe(6)}"


def _echo_view(
    *,
    view: Json | None,
    view_id: str | None,
    team_id: str,
    callback_id: str | None,
    private_metadata: str | None,
    state_values: Mapping[str, Mapping[str, Json]] | None,
    api_app_id: str,
    bot_id: str,
) -> Json:
    source = view or {}
    callback_id = callback_id if callback_id is not None else source.get("callback_id")
    if callback_id is None:
        raise ValueError("pass the view Slack showed, or at least its callback_id")
    state: dict[str, dict[str, Json]] = view_state(source) if view is not None else {}
    _merge_state(state, state_values)
    the_id = view_id or source.get("id") or "V" + secrets.token_hex(5).upper()
    return {
        "id": the_id,
        "team_id": team_id,
        "type": source.get("type", "modal"),
        "blocks": copy.deepcopy(source.get("blocks", [])),
        "private_metadata": (
            private_metadata if private_metadata is not None else source.get("private_metadata", "")
        ),
        "callback_id": callback_id,
        "state": {"values": state},
        "hash": source.get("hash") or _view_hash(),
        "title": _plain(source.get("title", {"type": "plain_text", "text": "Marketplace"})),
        "clear_on_close": source.get("clear_on_close", False),
        "notify_on_close": source.get("notify_on_close", False),
        "close": _plain(source.get("close")),
        "submit": _plain(source.get("submit")),
        "previous_view_id": source.get("previous_view_id"),
        "root_view_id": source.get("root_view_id", the_id),
        "app_id": api_app_id,
        "external_id": source.get("external_id", ""),
        "app_installed_team_id": team_id,
        "bot_id": bot_id,
    }


def view_submission(
    *,
    user_id: str,
    team_id: str,
    callback_id: str | None = None,
    private_metadata: str | None = None,
    state_values: Mapping[str, Mapping[str, Json]] | None = None,
    view_id: str | None = None,
    view: Json | None = None,
    trigger_id: str | None = None,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
    grid: Grid | None = None,
) -> Json:
    """The user pressed Submit. Pass `view` (as views.open returned it) to echo its blocks, id and
    hash the way Slack does; `state_values` (see `view_state`) override what the view implies;
    `grid`, the organisation the workspace belongs to."""
    payload: Json = {
        "type": "view_submission",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": _echo_view(
            view=view,
            view_id=view_id,
            team_id=team_id,
            callback_id=callback_id,
            private_metadata=private_metadata,
            state_values=state_values,
            api_app_id=api_app_id,
            bot_id=bot_id,
        ),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if grid is not None:
        payload["team"].update(enterprise_id=grid.enterprise_id, enterprise_name=grid.enterprise_name)
        payload["user"]["team_id"] = grid.home_team_id or team_id
        payload["view"]["app_installed_team_id"] = grid.installed_team_id or team_id
        payload["enterprise"] = {"id": grid.enterprise_id, "name": grid.enterprise_name}
        payload["is_enterprise_install"] = grid.enterprise_install
    return payload


def view_closed(
    *,
    user_id: str,
    team_id: str,
    view: Json | None = None,
    callback_id: str | None = None,
    private_metadata: str | None = None,
    view_id: str | None = None,
    user_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
) -> Json:
    """The user dismissed a modal opened with notify_on_close=true."""
    echoed = _echo_view(
        view=view,
        view_id=view_id,
        team_id=team_id,
        callback_id=callback_id,
        private_metadata=private_metadata,
        state_values=None,
        api_app_id=api_app_id,
        bot_id=bot_id,
    )
    echoed["state"] = {"values": {}}
    return {
        "type": "view_closed",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "view": echoed,
        "response_urls": [],
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def slash_command(
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    command: str,
    text: str,
    trigger_id: str | None = None,
    response_url: str | None = None,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    grid: Grid | None = None,
) -> dict[str, str]:
    """Form fields of a slash command, in the order Slack sends them (`grid`: the organisation the
    workspace belongs to; `team_id` stays the workspace the command ran in)."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name or channel_name_for(channel_id),
        "user_id": user_id,
        "user_name": user_name or user_name_for(user_id),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url or new_response_url(team_id, "commands"),
        "trigger_id": trigger_id or new_trigger_id(),
    }
    if grid is not None:
        fields["enterprise_id"] = grid.enterprise_id
        fields["enterprise_name"] = grid.enterprise_name
        fields["is_enterprise_install"] = "true" if grid.enterprise_install else "false"
    return fields


def event_callback(
    event: Json,
    *,
    team_id: str,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    event_id: str | None = None,
    event_time: int | None = None,
) -> Json:
    """An Events API envelope around `event`, for a single-workspace install."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_home_opened(
    *, user_id: str, team_id: str, tab: str = "home", channel_id: str | None = None, view: Json | None = None
) -> Json:
    event: Json = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id or "D" + user_id.removeprefix("U"),
        "tab": tab,
        "event_ts": _action_ts(),
    }
    # Slack includes the published Home view only when there is one.
    if tab == "home" and view is not None:
        event["view"] = view
    return event_callback(event, team_id=team_id)


def user_change(user: Json, *, team_id: str, event_time: int | None = None) -> Json:
    """`user_change`: a member's data changed; `user` is the whole user object, as users.info has it."""
    when = event_time if event_time is not None else int(time.time())
    event: Json = {"type": "user_change", "user": user, "cache_ts": when, "event_ts": _action_ts()}
    return event_callback(event, team_id=team_id, event_time=when)


def url_verification(challenge: str | None = None) -> Json:
    return {
        "token": VERIFICATION_TOKEN,
        "challenge": challenge or secrets.token_urlsafe(36),
        "type": "url_verification",
    }


def encode_interaction(payload: Json) -> bytes:
    """The wire form of an interaction: `payload=<urlencoded JSON>`, as slack-bolt's tests build it."""
    return f"payload={quote(json.dumps(payload))}".encode()


def encode_form(fields: Mapping[str, str]) -> bytes:
    return urlencode(fields).encode()


def encode_event(body: Json) -> bytes:
    return json.dumps(body).encode()
