"""Modals and Home tabs: views.open/update/push/publish, trigger ids, and what a submission ack does."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace_slack.infra.clock import Clock
from marketplace_slack_standins.fakeslack import blockkit
from marketplace_slack_standins.fakeslack.errors import ApiError, Violation, invalid_arguments

Json = dict[str, Any]

MAX_STACK = 3  # Slack keeps at most three views in a modal's stack.


@dataclass(slots=True)
class _Trigger:
    user_id: str
    issued: float  # the real monotonic clock: Slack's 3 s pass whatever the app's clock says
    used: bool = False


def with_block_ids(blocks: list[Json]) -> list[Json]:
    """Slack gives every block the app left without a block_id a random one, and reports it back."""
    out = copy.deepcopy(blocks)
    for block in out:
        if isinstance(block, dict) and "block_id" not in block:
            block["block_id"] = secrets.token_urlsafe(3)
    return out


def parse_json_arg(value: Any) -> Any:
    """Form and query arguments carry `blocks` and `view` as JSON text; JSON bodies carry objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class ViewRegistry:
    def __init__(
        self,
        *,
        clock: Clock,
        team_id: str,
        app_id: str,
        bot_id: str,
        monotonic: Callable[[], float],
        trigger_ttl: float,
        record: Callable[[Violation], None],
        user_exists: Callable[[str], bool],
    ) -> None:
        self._clock = clock
        self._team_id = team_id
        self._app_id = app_id
        self._bot_id = bot_id
        self._monotonic = monotonic
        self._trigger_ttl = trigger_ttl
        self._record = record
        self._user_exists = user_exists
        self._triggers: dict[str, _Trigger] = {}
        self.views: dict[str, Json] = {}
        self.owner: dict[str, str] = {}
        self.stacks: dict[str, list[str]] = {}  # user id -> open modal's view ids, root first
        self.home: dict[str, str] = {}  # user id -> published Home view id
        self.errors: dict[str, dict[str, str]] = {}  # view id -> errors the app asked Slack to show

    # --- trigger ids -------------------------------------------------------------------------------

    def remember_trigger(self, trigger_id: str, user_id: str) -> None:
        self._triggers[trigger_id] = _Trigger(user_id, self._monotonic())

    def _use_trigger(self, args: Json) -> str:
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger_id:
            raise invalid_arguments("missing required field: trigger_id [json-pointer:/trigger_id]")
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self._monotonic() - trigger.issued > self._trigger_ttl:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger.user_id

    # --- checking and storing ----------------------------------------------------------------------

    def _check(self, method: str, raw: Any, *, kind: str) -> Json:
        view = parse_json_arg(raw)
        if not isinstance(view, dict):
            raise invalid_arguments("missing required field: view [json-pointer:/view]")
        if kind == "modal":
            messages = blockkit.validate_view(view)
        elif kind == "home":
            messages = blockkit.validate_home(view)
        else:
            messages = [f"view.type: {view.get('type')!r}, expected {kind!r}"]
        if messages:
            self._record(Violation(method, kind, tuple(messages)))
            raise invalid_arguments(*messages)
        return view

    def _store(
        self, view: Json, *, user_id: str, view_id: str | None = None, previous: Json | None = None
    ) -> Json:
        the_id = view_id or "V" + secrets.token_hex(5).upper()
        stored = {
            "id": the_id,
            "team_id": self._team_id,
            "type": view["type"],
            "blocks": with_block_ids(view["blocks"]),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self._clock.now().timestamp())}.{secrets.token_urlsafe(6)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous.get("previous_view_id") if previous else None,
            "root_view_id": previous["root_view_id"] if previous else the_id,
            "app_id": self._app_id,
            "external_id": view.get("external_id", previous.get("external_id", "") if previous else ""),
            "app_installed_team_id": self._team_id,
            "bot_id": self._bot_id,
        }
        external_id = stored["external_id"]
        if external_id and any(
            v["external_id"] == external_id and vid != the_id for vid, v in self.views.items()
        ):
            raise ApiError("duplicate_external_id")
        self.views[the_id] = stored
        self.owner[the_id] = user_id
        return stored

    def _find(self, args: Json) -> Json:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise invalid_arguments("either view_id or external_id is required")
        for view in self.views.values():
            if (view_id and view["id"] == view_id) or (external_id and view["external_id"] == external_id):
                return view
        raise ApiError("not_found")

    # --- Web API methods ---------------------------------------------------------------------------

    def open(self, args: Json) -> Json:
        view = self._check("views.open", args.get("view"), kind="modal")
        user_id = self._use_trigger(args)
        stored = self._store(view, user_id=user_id)
        self.stacks[user_id] = [stored["id"]]
        return {"ok": True, "view": stored}

    def push(self, args: Json) -> Json:
        view = self._check("views.push", args.get("view"), kind="modal")
        user_id = self._use_trigger(args)
        stack = self.stacks.setdefault(user_id, [])
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        stored = self._store(view, user_id=user_id)
        if stack:
            stored["previous_view_id"] = stack[-1]
            stored["root_view_id"] = stack[0]
        stack.append(stored["id"])
        return {"ok": True, "view": stored}

    def update(self, args: Json) -> Json:
        current = self._find(args)
        view = self._check("views.update", args.get("view"), kind=current["type"])
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = self._store(view, user_id=self.owner[current["id"]], view_id=current["id"], previous=current)
        return {"ok": True, "view": stored}

    def publish(self, args: Json) -> Json:
        user_id = str(args.get("user_id") or "")
        if not self._user_exists(user_id):
            raise ApiError("user_not_found")
        view = self._check("views.publish", args.get("view"), kind="home")
        current = self.views.get(self.home.get(user_id, ""))
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = self._store(
            view, user_id=user_id, view_id=current["id"] if current else None, previous=current
        )
        self.home[user_id] = stored["id"]
        return {"ok": True, "view": stored}

    # --- what the user sees after an interaction ---------------------------------------------------

    def close(self, user_id: str, view_id: str, *, clear: bool = False) -> None:
        stack = self.stacks.get(user_id, [])
        if clear:
            stack.clear()
        elif view_id in stack:
            del stack[stack.index(view_id) :]

    def apply_submission_ack(self, payload: Json, status: int, body: str) -> None:
        """Do to the modal what Slack does with the app's answer to a view_submission."""
        if status != 200:
            return  # Slack keeps the modal open and shows a connection error.
        user_id, view_id = payload["user"]["id"], payload["view"]["id"]
        ack: Json = json.loads(body) if body.strip().startswith("{") else {}
        action = ack.get("response_action")
        if action is None:
            self.close(user_id, view_id)
        elif action == "clear":
            self.close(user_id, view_id, clear=True)
        elif action == "errors":
            self.errors[view_id] = dict(ack.get("errors", {}))
        elif action in ("update", "push"):
            try:
                view = self._check(f"response_action:{action}", ack.get("view"), kind="modal")
            except ApiError:
                return  # recorded as a violation; Slack shows the user an error and keeps the view
            if action == "update":
                self._store(view, user_id=user_id, view_id=view_id, previous=self.views[view_id])
                return
            stack = self.stacks.setdefault(user_id, [])
            if len(stack) < MAX_STACK:
                stored = self._store(view, user_id=user_id)
                stored["previous_view_id"], stored["root_view_id"] = view_id, stack[0] if stack else view_id
                stack.append(stored["id"])
