"""The Web API methods the app calls, answered from an in-memory workspace the way Slack answers them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketplace_slack.infra.clock import Clock
from marketplace_slack.slack.limits import measure
from marketplace_slack_standins.fakeslack import blockkit
from marketplace_slack_standins.fakeslack.conversations import Conversations
from marketplace_slack_standins.fakeslack.errors import ApiError, Violation
from marketplace_slack_standins.fakeslack.history import History, parse_metadata
from marketplace_slack_standins.fakeslack.install import Install
from marketplace_slack_standins.fakeslack.unfurls import Unfurls
from marketplace_slack_standins.fakeslack.views import ViewRegistry, parse_json_arg, with_block_ids
from marketplace_slack_standins.fakeslack.workspace import SlackChannel, SlackUser

Json = dict[str, Any]

MAX_RESPONSE_URL_USES = 5
RESPONSE_URL = "response_url"  # the method name calls to a response_url are recorded under


@dataclass(slots=True)
class Message:
    """A message as it stands now in the fake workspace, after any chat.update."""

    channel: str
    ts: str
    text: str
    blocks: list[Json]
    user: str
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # set for chat.postEphemeral: only this user sees it
    edits: int = 0
    edited_ts: str | None = None
    metadata: Json | None = None
    history: list[tuple[str, list[Json]]] = field(default_factory=list)  # earlier (text, blocks)
    # Who wrote it when not this app: a person (both None) or another app; see Workspace.post_as.
    other_app: tuple[str, str] | None = None  # (bot_id, app_id)
    by_person: bool = False


@dataclass(slots=True)
class ResponseTarget:
    """What a response_url minted by the fake points at."""

    channel: str
    user_id: str
    message_ts: str | None = None
    uses: int = 0


@dataclass(frozen=True, slots=True)
class Identity:
    team_id: str
    team_name: str
    team_domain: str
    app_id: str
    bot_id: str
    bot_user_id: str


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "1", 1)


def _arg(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


class Workspace:
    """State plus one handler per Web API method; handlers raise ApiError to refuse."""

    def __init__(
        self,
        *,
        identity: Identity,
        users: Iterable[SlackUser],
        channels: Iterable[SlackChannel],
        usergroups: Mapping[str, Iterable[str]],
        install: Install,
        clock: Clock,
        monotonic: Callable[[], float],
        trigger_ttl: float,
    ) -> None:
        self.identity = identity
        self.users = {u.id: u for u in users}
        self.install = install
        self.conversations = Conversations(
            channels=channels, users=self.users, bot_user_id=identity.bot_user_id, install=install
        )
        self.usergroups = {k: list(v) for k, v in usergroups.items()}
        self.clock = clock
        self.violations: list[Violation] = []
        self._messages: dict[str, dict[str, Message]] = {}  # channel -> ts -> message
        self._ephemeral: list[Message] = []
        self._last_ts = 0
        self.history = History(
            messages=self.messages,
            conversations=self.conversations,
            install=install,
            render=self.message_json,
        )
        self.views = ViewRegistry(
            clock=clock,
            monotonic=monotonic,
            team_id=identity.team_id,
            app_id=identity.app_id,
            bot_id=identity.bot_id,
            trigger_ttl=trigger_ttl,
            record=self.violations.append,
            user_exists=lambda user_id: user_id in self.users,
        )
        self.unfurls = Unfurls(
            channel_exists=lambda channel: (
                channel in self.conversations.rooms or channel in self.conversations.dms
            ),
            message_exists=lambda channel, ts: ts in self._messages.get(channel, {}),
            record=self.violations.append,
        )
        self.methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "chat.delete": self.chat_delete,
            "chat.unfurl": self.unfurls.chat_unfurl,
            "conversations.open": self.conversations.open,
            "conversations.info": self.conversations.info,
            "conversations.members": self.conversations.members,
            "conversations.join": self.conversations.join,
            "conversations.history": self.history.history,
            "conversations.replies": self.history.replies,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "users.lookupByEmail": self.users_lookup_by_email,
            "usergroups.users.list": self.usergroups_users_list,
            "views.open": self.views.open,
            "views.update": self.views.update,
            "views.push": self.views.push,
            "views.publish": self.views.publish,
        }

    # --- reading state -----------------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        return sorted(self._messages.get(channel, {}).values(), key=lambda m: _ts_key(m.ts))

    def ephemeral_messages(self, channel: str | None = None, user: str | None = None) -> list[Message]:
        return [
            m
            for m in self._ephemeral
            if (channel is None or m.channel == channel) and (user is None or m.ephemeral_to == user)
        ]

    def message_json(self, message: Message) -> Json:
        if message.by_person or message.other_app is not None:
            return self._foreign_json(message)
        out: Json = {
            "user": message.user,
            "type": "message",
            "ts": message.ts,
            "bot_id": self.identity.bot_id,
            "app_id": self.identity.app_id,
            "text": message.text,
            "team": self.identity.team_id,
            "bot_profile": {
                "id": self.identity.bot_id,
                "app_id": self.identity.app_id,
                "name": "Marketplace",
                "team_id": self.identity.team_id,
                "deleted": False,
            },
            "blocks": message.blocks,
        }
        if message.thread_ts is not None:
            out["thread_ts"] = message.thread_ts
        if message.metadata is not None:
            out["metadata"] = message.metadata
        if message.edited_ts is not None:
            out["edited"] = {"user": message.user, "ts": message.edited_ts}
        return out

    def _foreign_json(self, message: Message) -> Json:
        """A message someone else wrote: a person's has no bot fields, another app's has its own."""
        out: Json = {"user": message.user, "type": "message", "ts": message.ts, "text": message.text}
        out["team"] = self.identity.team_id
        if message.other_app is not None:
            out["bot_id"], out["app_id"] = message.other_app
        out["blocks"] = message.blocks
        if message.thread_ts is not None:
            out["thread_ts"] = message.thread_ts
        if message.metadata is not None:
            out["metadata"] = message.metadata
        return out

    def post_as(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        metadata: Json | None = None,
        app: tuple[str, str] | None = None,
    ) -> str:
        """Someone else speaks in a channel: a person, or (with `app` = (bot_id, app_id)) another app,
        whose messages may carry metadata too. Not checked against the bot's rights: it is not the bot."""
        if metadata is not None and app is None:
            raise ValueError("only apps attach message metadata")
        if thread_ts is not None:
            parent = self._find(channel, thread_ts)
            thread_ts = parent.thread_ts or parent.ts
        message = Message(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            blocks=[],
            user=user,
            thread_ts=thread_ts,
            metadata=parse_metadata(metadata),
            other_app=app,
            by_person=app is None,
        )
        self._messages.setdefault(channel, {})[message.ts] = message
        return message.ts

    # --- helpers -----------------------------------------------------------------------------------

    def next_ts(self) -> str:
        """Slack message ts: epoch seconds + 6 digits, unique and increasing within the workspace."""
        micros = int(self.clock.now().timestamp()) * 1_000_000
        self._last_ts = max(micros, self._last_ts + 100)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _record(self, method: str, surface: str, problems: list[str]) -> None:
        self.violations.append(Violation(method, surface, tuple(problems)))

    def _content(self, method: str, args: Json, *, required: bool) -> tuple[str | None, list[Json] | None]:
        text = args.get("text")
        text = None if text is None else str(text)
        blocks: Any = parse_json_arg(args.get("blocks"))
        if blocks is not None and (
            not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks)
        ):
            self._record(method, "message", ["blocks is not a JSON array of objects"])
            raise ApiError("invalid_blocks_format")
        if required and not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if text is not None and measure(text) > blockkit.MESSAGE_TEXT_MAX:
            self._record(
                method, "message", [f"text: {measure(text)} characters > {blockkit.MESSAGE_TEXT_MAX}"]
            )
            raise ApiError("msg_too_long")
        if blocks:
            # Looked up on the module at call time so a test can swap the validator.
            problems = blockkit.validate_blocks(blocks, surface="message")
            if problems:
                self._record(method, "message", problems)
                raise ApiError(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )
            blocks = with_block_ids(blocks)
        return text, blocks

    def _find(self, channel: str, ts: str | None) -> Message:
        message = self._messages.get(channel, {}).get(ts or "")
        if message is None:
            raise ApiError("message_not_found")
        return message

    # --- auth, chat --------------------------------------------------------------------------------

    def auth_test(self, args: Json) -> Json:
        ident = self.identity
        return {
            "ok": True,
            "url": f"https://{ident.team_domain}.slack.com/",
            "team": ident.team_name,
            "user": "marketplace",
            "team_id": ident.team_id,
            "user_id": ident.bot_user_id,
            "bot_id": ident.bot_id,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: Json) -> Json:
        channel = self.conversations.resolve(_arg(args, "channel"))
        self.conversations.check_post(channel)
        return self._post("chat.postMessage", channel, args)

    def _post(self, method: str, channel: str, args: Json) -> Json:
        text, blocks = self._content(method, args, required=True)
        metadata = parse_metadata(args.get("metadata"))
        thread_ts = _arg(args, "thread_ts")
        if thread_ts is not None:
            parent = self._messages.get(channel, {}).get(thread_ts)
            if parent is None:
                raise ApiError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts  # a reply to a reply joins the same thread
        message = Message(
            channel=channel,
            ts=self.next_ts(),
            text=text or "",
            blocks=blocks or [],
            user=self.identity.bot_user_id,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        self._messages.setdefault(channel, {})[message.ts] = message
        return {"ok": True, "channel": channel, "ts": message.ts, "message": self.message_json(message)}

    def chat_update(self, args: Json) -> Json:
        channel = self.conversations.resolve(_arg(args, "channel"))
        self.conversations.check_edit(channel)
        message = self._find(channel, _arg(args, "ts"))
        if message.by_person or message.other_app is not None:
            raise ApiError("cant_update_message")  # a bot edits only its own messages
        text, blocks = self._content("chat.update", args, required=True)
        metadata = parse_metadata(args.get("metadata"))
        self._replace(message, text, blocks)
        if metadata is not None:  # Slack keeps the metadata an update leaves out
            message.metadata = metadata
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": self.message_json(message),
        }

    def chat_post_ephemeral(self, args: Json) -> Json:
        channel = self.conversations.resolve(_arg(args, "channel"))
        user = _arg(args, "user")
        self.conversations.check_whisper(channel, user)
        return self._whisper("chat.postEphemeral", channel, str(user), args)

    def _whisper(self, method: str, channel: str, user: str, args: Json) -> Json:
        text, blocks = self._content(method, args, required=True)
        message = Message(
            channel=channel,
            ts=self.next_ts(),
            text=text or "",
            blocks=blocks or [],
            user=self.identity.bot_user_id,
            thread_ts=_arg(args, "thread_ts"),
            ephemeral_to=user,
        )
        self._ephemeral.append(message)
        return {"ok": True, "message_ts": message.ts}

    def chat_get_permalink(self, args: Json) -> Json:
        channel = self.conversations.resolve(_arg(args, "channel"))
        self.conversations.check_seen(channel)
        message = self._find(channel, _arg(args, "message_ts"))
        link = (
            f"https://{self.identity.team_domain}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
        )
        if message.thread_ts is not None:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def chat_delete(self, args: Json) -> Json:
        channel = self.conversations.resolve(_arg(args, "channel"))
        self.conversations.check_edit(channel)
        message = self._find(channel, _arg(args, "ts"))
        if message.by_person or message.other_app is not None:
            raise ApiError("cant_delete_message")
        del self._messages[channel][message.ts]
        return {"ok": True, "channel": channel, "ts": message.ts}

    def _replace(self, message: Message, text: str | None, blocks: list[Json] | None) -> None:
        message.history.append((message.text, message.blocks))
        # Slack keeps the fields an update leaves out; an empty `blocks` array removes the blocks.
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.edits += 1
        message.edited_ts = self.next_ts()

    def delete_message(self, channel: str, ts: str) -> None:
        """Gone without the app doing anything: an admin, a person or a retention policy removed it."""
        del self._messages[channel][ts]

    # --- response_url ------------------------------------------------------------------------------

    def respond(self, target: ResponseTarget, body: Json) -> Json:
        """A POST to a response_url: replace or delete the original, or post ephemeral / in channel."""
        target.uses += 1
        if target.uses > MAX_RESPONSE_URL_USES:
            raise ApiError("used_url")
        original = self._original(target) if target.message_ts is not None else None
        if _flag(body.get("delete_original")):
            if original is None:
                raise ApiError("message_not_found")
            if original.ephemeral_to is None:
                del self._messages[original.channel][original.ts]
            else:
                self._ephemeral.remove(original)
            return {"ok": True}
        text, blocks = self._content("response_url", body, required=True)
        if _flag(body.get("replace_original")):
            if original is None:
                raise ApiError("message_not_found")
            self._replace(original, text, blocks)
            return {"ok": True}
        # A response_url reaches the channel the interaction came from, whether or not the bot is in it.
        if body.get("response_type") == "in_channel":
            self._post(RESPONSE_URL, target.channel, body)
        else:
            self._whisper(RESPONSE_URL, target.channel, target.user_id, body)
        return {"ok": True}

    def _original(self, target: ResponseTarget) -> Message | None:
        found = self._messages.get(target.channel, {}).get(target.message_ts or "")
        if found is not None:
            return found
        return next(
            (m for m in self._ephemeral if m.channel == target.channel and m.ts == target.message_ts), None
        )

    # --- conversations, users ----------------------------------------------------------------------

    def _user_json(self, user: SlackUser) -> Json:
        return user.as_slack(team_id=self.identity.team_id, at=self.clock.now())

    def users_info(self, args: Json) -> Json:
        user = self.users.get(_arg(args, "user") or "")
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": self._user_json(user)}

    def users_list(self, args: Json) -> Json:
        members = [self._user_json(u) for u in self.users.values()]
        return {
            "ok": True,
            "members": members,
            "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": ""},
        }

    def users_lookup_by_email(self, args: Json) -> Json:
        email = _arg(args, "email")
        if email is None:
            raise ApiError("invalid_arguments")
        for user in self.users.values():
            if not user.deleted and user.email.casefold() == email.casefold():
                return {"ok": True, "user": self._user_json(user)}
        raise ApiError("users_not_found")

    def usergroups_users_list(self, args: Json) -> Json:
        group = self.usergroups.get(_arg(args, "usergroup") or "")
        if group is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(group)}


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
