"""What a user can operate in a view: only the view on screen, and in an external select only what the
app's options listener offered. `FakeSlack.adopt` refuses payloads that break either (ValueError),
as Slack could never send them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from marketplace_slack_standins.fakeslack.views import ViewRegistry

Json = dict[str, Any]

_EXTERNAL = frozenset({"external_select", "multi_external_select"})


def check_visible(payload: Mapping[str, Any], views: ViewRegistry) -> None:
    """A view action or options load comes from the view the user sees: the top of their modal stack,
    or their Home tab."""
    container = payload.get("container") or {}
    if container.get("type") != "view" or payload.get("type") not in ("block_actions", "block_suggestion"):
        return
    user_id, view_id = payload["user"]["id"], container.get("view_id")
    stack = views.stacks.get(user_id, [])
    on_screen = {stack[-1]} if stack else set()
    if user_id in views.home:
        on_screen.add(views.home[user_id])
    if view_id not in on_screen:
        raise ValueError(
            f"{user_id} does not see view {view_id} (open: {stack}, home: {views.home.get(user_id)}), "
            f"so Slack could not send this {payload['type']}"
        )


class OfferedOptions:
    """The options each external select of each view was offered, across every load while typing."""

    def __init__(self) -> None:
        self._offered: dict[tuple[str, str], set[str]] = {}

    def note(self, payload: Mapping[str, Any], options: list[Json]) -> None:
        key = (str(payload["view"]["id"]), str(payload["action_id"]))
        self._offered.setdefault(key, set()).update(str(o.get("value")) for o in options)

    def check(self, payload: Mapping[str, Any], views: ViewRegistry) -> None:
        """Refuse a submission or view action choosing an option no load offered (nor the element's
        initial options). Elements no load was noted for are not checked: the test skipped the load."""
        view = payload.get("view")
        if payload.get("type") not in ("block_actions", "view_submission") or not isinstance(view, Mapping):
            return
        shown = views.views.get(str(view.get("id")), view)
        for action_id, chosen in _external_choices(payload):
            offered = self._offered.get((str(view.get("id")), action_id))
            if offered is None:
                continue
            allowed = offered | _initial_values(shown, action_id)
            for value in chosen:
                if value not in allowed:
                    raise ValueError(
                        f"{action_id!r} was never offered {value!r} (offered: {sorted(offered)}), "
                        "so the user could not have chosen it"
                    )


def _external_choices(payload: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    entries: list[tuple[str, Mapping[str, Any]]] = [
        (action_id, entry)
        for actions in payload["view"].get("state", {}).get("values", {}).values()
        for action_id, entry in actions.items()
    ]
    entries += [(str(a.get("action_id")), a) for a in payload.get("actions", [])]
    for action_id, entry in entries:
        if entry.get("type") not in _EXTERNAL:
            continue
        options = entry.get("selected_options") or [entry.get("selected_option")]
        yield action_id, [str(o["value"]) for o in options if isinstance(o, Mapping)]


def _initial_values(view: Mapping[str, Any], action_id: str) -> set[str]:
    for block in view.get("blocks", []):
        elements = [block.get("element"), block.get("accessory"), *block.get("elements", [])]
        for element in elements:
            if isinstance(element, Mapping) and element.get("action_id") == action_id:
                initial = element.get("initial_options") or [element.get("initial_option")]
                return {str(o["value"]) for o in initial if isinstance(o, Mapping)}
    return set()


# What a state entry holds once something is entered, by element type (an empty one holds None, "" or []).
_ENTERED = (
    "selected_option",
    "selected_options",
    "selected_user",
    "selected_users",
    "value",
    "selected_date",
)


def check_required(payload: Mapping[str, Any], *, forged: bool = False) -> None:
    """Slack's client does not submit a modal with a required input left empty; a payload that does
    could only be forged (`forged=True` says the test means it)."""
    if payload.get("type") != "view_submission" or forged:
        return
    view = payload.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or block.get("optional"):
            continue
        element = block.get("element") or {}
        entry = (values.get(block.get("block_id")) or {}).get(element.get("action_id")) or {}
        if not any(entry.get(key) for key in _ENTERED):
            label = (block.get("label") or {}).get("text")
            raise ValueError(f"the required input {label!r} is empty: Slack's client would not submit it")
