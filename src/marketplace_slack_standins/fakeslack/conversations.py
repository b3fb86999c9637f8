"""Channels, DMs and who is in them, and the refusals that follow: Slack lets the bot post only where it
is a member (or, in public channels, where `chat:write.public` allows), never into an archived
channel, into a DM only while the app's messages tab is on, and whispers only to people in the channel."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marketplace_slack_standins.fakeslack.errors import ApiError
from marketplace_slack_standins.fakeslack.install import OPEN_SCOPES, READ_SCOPES, Install
from marketplace_slack_standins.fakeslack.workspace import SlackChannel, SlackUser

Json = dict[str, Any]
Kind = Literal["public", "private", "im", "mpim"]


@dataclass(slots=True)
class Room:
    """A channel as it stands now: its members (the bot among them once invited) and whether archived."""

    channel: SlackChannel
    members: set[str] = field(default_factory=set)
    archived: bool = False

    @property
    def kind(self) -> Kind:
        if self.channel.name.startswith("mpdm-"):
            return "mpim"
        return "private" if self.channel.is_private else "public"


def _arg(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


def _dm_id(user_id: str) -> str:
    return "D" + user_id.removeprefix("U").removeprefix("W")


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "1", 1)


class Conversations:
    def __init__(
        self,
        *,
        channels: Iterable[SlackChannel],
        users: Mapping[str, SlackUser],
        bot_user_id: str,
        install: Install,
    ) -> None:
        self.rooms = {c.id: Room(c, set(c.members)) for c in channels}
        self.dms: dict[str, str] = {}  # DM channel id -> user id
        self._users = users
        self._bot = bot_user_id
        self._install = install

    @property
    def bot_user_id(self) -> str:
        return self._bot

    def channels(self) -> list[SlackChannel]:
        return [room.channel for room in self.rooms.values()]

    # --- what an admin or a person does ------------------------------------------------------------

    def invite(self, channel: str, user_ids: Iterable[str]) -> None:
        self.rooms[channel].members.update(user_ids)

    def remove(self, channel: str, user_id: str) -> None:
        self.rooms[channel].members.discard(user_id)

    def archive(self, channel: str, *, archived: bool = True) -> None:
        self.rooms[channel].archived = archived

    def add(self, channel: SlackChannel) -> None:
        self.rooms[channel.id] = Room(channel, set(channel.members))

    # --- resolving ---------------------------------------------------------------------------------

    def dm_channel(self, user_id: str) -> str:
        """The app's DM with a user; opened on first use."""
        user = self._users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        if user.deleted:
            raise ApiError("user_disabled")
        channel = _dm_id(user_id)
        self.dms[channel] = user_id
        return channel

    def key(self, raw: str | None) -> str | None:
        """The channel id `raw` names (a #name or a user's DM too), without opening anything."""
        if raw and raw.startswith("#"):
            return next((i for i, r in self.rooms.items() if r.channel.name == raw[1:]), raw)
        if raw is not None and raw in self._users:
            return _dm_id(raw)
        return raw

    def resolve(self, raw: str | None) -> str:
        if not raw:
            raise ApiError("channel_not_found")
        if raw.startswith("#"):
            found = next((i for i, r in self.rooms.items() if r.channel.name == raw[1:]), None)
            if found is None:
                raise ApiError("channel_not_found")
            return found
        if raw in self.rooms or raw in self.dms:
            return raw
        if raw in self._users:  # Slack posts to the app's DM with that user.
            return self.dm_channel(raw)
        raise ApiError("channel_not_found")

    def _visible(self, channel: str) -> Room | None:
        """The room, or None for a DM; a private room the bot is not in does not exist for it."""
        if channel in self.dms:
            return None
        room = self.rooms.get(channel)
        if room is None or (room.kind != "public" and self._bot not in room.members):
            raise ApiError("channel_not_found")
        return room

    # --- the refusals chat.* methods share ---------------------------------------------------------

    def check_post(self, channel: str) -> None:
        """May the bot post a new message here?"""
        room = self._visible(channel)
        if room is None:
            if not self._install.messages_tab_enabled:
                raise ApiError("messages_tab_disabled")
            person = self._users.get(self.dms[channel])
            if person is not None and person.deleted:
                # A DM opened before the account was deactivated takes no more messages either.
                raise ApiError("user_disabled")
            return
        if room.archived:
            raise ApiError("is_archived")
        if self._bot not in room.members and "chat:write.public" not in self._install.scopes:
            raise ApiError("not_in_channel")

    def check_seen(self, channel: str) -> None:
        """May the bot read messages here (a permalink)?"""
        self._visible(channel)

    def check_edit(self, channel: str) -> None:
        """May the bot change or delete one of its messages here?"""
        room = self._visible(channel)
        if room is not None and room.archived:
            raise ApiError("is_archived")

    def check_whisper(self, channel: str, user_id: str | None) -> None:
        """May the bot show `user_id` an ephemeral message here?"""
        if user_id is None or user_id not in self._users:
            raise ApiError("user_not_in_channel")
        self.check_post(channel)
        if channel in self.dms:
            if self.dms[channel] != user_id:
                raise ApiError("user_not_in_channel")
        elif user_id not in self.rooms[channel].members:
            raise ApiError("user_not_in_channel")

    def check_read(self, channel: str | None) -> Room | None:
        if channel is None or (channel not in self.rooms and channel not in self.dms):
            raise ApiError("channel_not_found")
        room = self.rooms.get(channel)
        self._install.require("conversations", READ_SCOPES[room.kind if room is not None else "im"])
        return self._visible(channel)

    # --- conversations.* ---------------------------------------------------------------------------

    def open(self, args: Json) -> Json:
        channel = _arg(args, "channel")
        if channel is not None:
            return {"ok": True, "channel": {"id": self.resolve(channel)}}
        users = [u for u in (_arg(args, "users") or "").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            self._install.require("conversations.open", OPEN_SCOPES["mpim"])
            for user in users:
                if user not in self._users:
                    raise ApiError("user_not_found")
            digest = hashlib.sha1(",".join(sorted(users)).encode(), usedforsecurity=False).hexdigest()
            mpim = "G" + digest[:9].upper()
            name = "mpdm-" + "--".join(sorted(users)) + "-1"
            self.rooms.setdefault(mpim, Room(SlackChannel(mpim, name, is_private=True), {*users, self._bot}))
            return {"ok": True, "channel": {"id": mpim}}
        self._install.require("conversations.open", OPEN_SCOPES["im"])
        person = self._users.get(users[0])
        if person is not None and person.deleted:
            raise ApiError("user_disabled")  # nobody can write to a deactivated account
        already_open = _dm_id(users[0]) in self.dms
        dm = self.dm_channel(users[0])
        body: Json = {"id": dm}
        if _flag(args.get("return_im")):
            body = self.channel_json(dm)
        return {"ok": True, "no_op": already_open, "already_open": already_open, "channel": body}

    def info(self, args: Json) -> Json:
        channel = _arg(args, "channel")
        self.check_read(channel)
        return {"ok": True, "channel": self.channel_json(str(channel))}

    def members(self, args: Json) -> Json:
        channel = _arg(args, "channel")
        room = self.check_read(channel)
        members = sorted(room.members) if room is not None else [self.dms[str(channel)], self._bot]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def join(self, args: Json) -> Json:
        self._install.require("conversations.join")
        channel = self.resolve(_arg(args, "channel"))
        room = self.rooms.get(channel)
        if room is None or room.kind != "public":
            raise ApiError("method_not_supported_for_channel_type")
        if room.archived:
            raise ApiError("is_archived")
        already = self._bot in room.members
        room.members.add(self._bot)
        body: Json = {"ok": True, "channel": self.channel_json(channel)}
        if already:
            body["warning"] = "already_in_channel"
            body["response_metadata"] = {"warnings": ["already_in_channel"]}
        return body

    def channel_json(self, channel_id: str) -> Json:
        if channel_id in self.dms:
            user = self.dms[channel_id]
            return {
                "id": channel_id,
                "created": 1700000000,
                "is_im": True,
                "is_org_shared": False,
                "user": user,
                "is_user_deleted": self._users[user].deleted,
            }
        room = self.rooms[channel_id]
        channel = room.channel
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_im": False,
            "is_mpim": room.kind == "mpim",
            "is_private": channel.is_private,
            "is_archived": room.archived,
            "is_member": self._bot in room.members,
            "num_members": len(room.members),
            "created": 1700000000,
        }
