"""Offline harness for the Discord adapter: the real discord.py client, fed real gateway payloads.

No dpytest (broken with discord.py 2.4+). Every use of discord.py's private names lives here:
`client._async_setup_hook()` (sets the loop without logging in), `client._connection` (the
ConnectionState: its `user`, `application_id` and gateway `parsers`). HTTP routes the adapter uses
are replaced by async recorders answering with payloads shaped as Discord documents them; interaction
responses go through discord.py's shared webhook adapter, patched here and restored on close.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import yaml
from discord.webhook.async_ import async_context

from bot.adapters.discord.client import AccessClient, create_client
from bot.application import Application
from bot.documents import Validator
from bot.platform import Environment
from tests.conftest import RULES, Clock, make_bot

APP_ID = 900000000000000001
BOT_ID = 900000000000000001
GUILD_ID = 700000000000000001
REVIEW_CHANNEL = 100000000000000001
GENERAL_CHANNEL = 100000000000000002
APPLICANT = 200000000000000001
REVIEWER = 200000000000000002
ADMIN = 200000000000000003
MALLORY = 200000000000000004

NAMES = {APPLICANT: "Alice Kim", REVIEWER: "Rita Reviewer", ADMIN: "Ada Admin", MALLORY: "Mallory"}


def write_rules(
    folder: Path, *, approvals: int = 1, entitlements: list[dict[str, Any]] | None = None
) -> Path:
    """rules.yaml with Discord snowflakes for the reviewers channel, reviewers and admins."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    if entitlements:
        data["entitlements"] = entitlements
    data["admins"] = [f"discord:{ADMIN}"]
    data["reviewers"]["channel"] = {"discord": str(REVIEW_CHANNEL), "console": "reviewers"}
    data["reviewers"]["users"] = [f"discord:{REVIEWER}", f"discord:{ADMIN}"][:approvals]
    data["reviewers"]["approvals_required"] = approvals
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def user_payload(user_id: int, *, bot: bool = False) -> dict[str, Any]:
    name = NAMES.get(user_id, "accessbot" if bot else f"user{user_id}")
    return {
        "id": str(user_id),
        "username": name.lower().replace(" ", "_"),
        "discriminator": "0",
        "global_name": None if bot else name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member_payload(user_id: int) -> dict[str, Any]:
    return {
        "user": user_payload(user_id),
        "roles": [],
        "joined_at": "2025-09-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "2248473465835073",
    }


def _timestamp() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Call:
    route: str
    args: dict[str, Any]


@dataclass
class FakeDiscord:
    """Records every HTTP call the adapter makes and answers like Discord would."""

    files: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    dm_closed: set[int] = field(default_factory=set)
    dm_channels: dict[int, int] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500000000000000001))
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)

    def of(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def dm_channel(self, user_id: int) -> int:
        return self.dm_channels.setdefault(user_id, 300000000000000000 + user_id % 1000)

    # -- REST routes (client.http) ----------------------------------------------------------

    async def start_private_message(self, user_id: Any) -> dict[str, Any]:
        self.calls.append(Call("start_private_message", {"user_id": int(user_id)}))
        return {
            "id": str(self.dm_channel(int(user_id))),
            "type": 1,
            "last_message_id": None,
            "recipients": [user_payload(int(user_id))],
        }

    async def send_message(self, channel_id: Any, *, params: Any) -> dict[str, Any]:
        payload = dict(params.payload or {})
        if params.payload is None and params.multipart:  # with files, the JSON rides in the multipart form
            form = {part["name"]: part.get("value") for part in params.multipart}
            payload = json.loads(form.get("payload_json") or "{}")
        if params.files:
            payload["uploaded"] = {f.filename: f.fp.read() for f in params.files}
        recipient = next((u for u, c in self.dm_channels.items() if c == int(channel_id)), None)
        self.calls.append(Call("send_message", {"channel_id": int(channel_id), "payload": payload}))
        if recipient is not None and recipient in self.dm_closed:
            raise discord.Forbidden(
                _Response(403, "Forbidden"), {"code": 50007, "message": "Cannot send messages to this user"}
            )
        message = self.message_payload(int(channel_id), BOT_ID, payload, bot=True)
        self.messages[int(message["id"])] = message
        return message

    def message_payload(
        self, channel_id: int, author: int, payload: dict[str, Any], *, bot: bool = False
    ) -> dict[str, Any]:
        return {
            "id": str(next(self.ids)),
            "channel_id": str(channel_id),
            "author": user_payload(author, bot=bot),
            "content": payload.get("content") or "",
            "timestamp": _timestamp(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": payload.get("flags") or 0,
        }

    async def edit_message(self, channel_id: Any, message_id: Any, *, params: Any) -> dict[str, Any]:
        payload = dict(params.payload or {})
        self.calls.append(
            Call(
                "edit_message",
                {"channel_id": int(channel_id), "message_id": int(message_id), "payload": payload},
            )
        )
        message = dict(
            self.messages.get(int(message_id)) or self.message_payload(int(channel_id), BOT_ID, {})
        )
        message.update(payload)
        self.messages[int(message_id)] = message
        return message

    async def add_reaction(self, channel_id: Any, message_id: Any, emoji: str) -> None:
        self.calls.append(
            Call(
                "add_reaction", {"channel_id": int(channel_id), "message_id": int(message_id), "emoji": emoji}
            )
        )

    async def get_from_cdn(self, url: str) -> bytes:
        self.calls.append(Call("get_from_cdn", {"url": url}))
        return self.files[url]

    async def bulk_upsert_global_commands(self, application_id: Any, payload: list[dict[str, Any]]) -> Any:
        self.calls.append(Call("bulk_upsert_global_commands", {"payload": payload}))
        return [self._command(p) for p in payload]

    async def bulk_upsert_guild_commands(
        self, application_id: Any, guild_id: Any, payload: list[dict[str, Any]]
    ) -> Any:
        self.calls.append(Call("bulk_upsert_guild_commands", {"guild_id": int(guild_id), "payload": payload}))
        return [self._command(p, guild_id=int(guild_id)) for p in payload]

    def _command(self, payload: dict[str, Any], guild_id: int | None = None) -> dict[str, Any]:
        out = {**payload, "id": str(next(self.ids)), "application_id": str(APP_ID), "version": "1"}
        if guild_id is not None:
            out["guild_id"] = str(guild_id)
        return out

    # -- interaction routes (discord.py's webhook adapter) ------------------------------------

    async def create_interaction_response(
        self, interaction_id: int, token: str, *, params: Any, **_: Any
    ) -> dict[str, Any]:
        payload = dict(params.payload or {})
        self.calls.append(Call("interaction_response", {"interaction_id": int(interaction_id), **payload}))
        return {
            "interaction": {"id": str(interaction_id), "type": payload.get("type", 0)},
            "resource": {"type": payload.get("type", 0)},
        }

    async def execute_webhook(
        self, webhook_id: int, token: str, *, payload: dict[str, Any] | None = None, **_: Any
    ) -> dict[str, Any]:
        body = dict(payload or {})
        message = self.message_payload(REVIEW_CHANNEL, BOT_ID, body, bot=True)
        self.messages[int(message["id"])] = message  # its buttons can be pressed (/queue's)
        self.calls.append(Call("followup", {"token": token, "payload": body, "id": int(message["id"])}))
        return message

    async def delete_original_interaction_response(self, application_id: int, token: str, **_: Any) -> None:
        self.calls.append(Call("delete_original", {"token": token}))


class _Response:
    """Just enough of aiohttp's ClientResponse for discord.HTTPException."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


_WEBHOOK_ROUTES = ("create_interaction_response", "execute_webhook", "delete_original_interaction_response")


class Harness:
    """A Bot plus an AccessClient whose HTTP goes to a FakeDiscord. Use `async with Harness(...)`."""

    def __init__(
        self,
        tmp_path: Path,
        validator: Validator,
        clock: Clock,
        *,
        guild_id: str = "",
        approvals: int = 1,
        entitlements: list[dict[str, Any]] | None = None,
    ) -> None:
        self.rules_path = write_rules(tmp_path / "config", approvals=approvals, entitlements=entitlements)
        self.bot: Application = make_bot(tmp_path / "data", validator, clock, self.rules_path)
        self.fake = FakeDiscord()
        self.client: AccessClient = create_client(
            self.bot, Environment({"DISCORD_TOKEN": "test-token", "DISCORD_GUILD_ID": guild_id})
        )
        self._ids = itertools.count(600000000000000001)
        self._webhook_adapter = async_context.get()

    async def __aenter__(self) -> Harness:
        client = self.client
        await client._async_setup_hook()
        state = client._connection
        state.application_id = APP_ID
        state.user = discord.ClientUser(state=state, data=user_payload(BOT_ID, bot=True))  # type: ignore[arg-type]
        http = client.http
        for route in (
            "send_message",
            "edit_message",
            "start_private_message",
            "add_reaction",
            "get_from_cdn",
            "bulk_upsert_global_commands",
            "bulk_upsert_guild_commands",
        ):
            setattr(http, route, getattr(self.fake, route))
        for route in _WEBHOOK_ROUTES:
            setattr(self._webhook_adapter, route, getattr(self.fake, route))
        await client.setup_hook()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.drain()
        for route in _WEBHOOK_ROUTES:
            self._webhook_adapter.__dict__.pop(route, None)
        self.client.executor.shutdown(wait=True)
        self.bot.close()

    # -- feeding gateway events ---------------------------------------------------------------

    def gateway(self, event: str, payload: dict[str, Any]) -> None:
        """Deliver one gateway event, as discord.py's websocket would (payload JSON round-tripped)."""
        self.client._connection.parsers[event](json.loads(json.dumps(payload)))

    def next_id(self) -> int:
        return next(self._ids)

    def attachment(self, filename: str, data: bytes, *, size: int | None = None) -> dict[str, Any]:
        ident = self.next_id()
        url = f"https://cdn.discordapp.com/attachments/1/{ident}/{filename}?ex=1&is=2&hm=3"
        self.fake.files[url] = data
        content_type = {"pdf": "application/pdf", "png": "image/png"}.get(filename.rsplit(".", 1)[-1])
        out: dict[str, Any] = {
            "id": str(ident),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
        }
        if content_type:
            out["content_type"] = content_type
        return out

    def dm(self, user_id: int, text: str = "", attachments: list[dict[str, Any]] | None = None) -> int:
        """MESSAGE_CREATE in the user's DM with the bot (no guild_id). Returns the message id."""
        payload = self.fake.message_payload(self.fake.dm_channel(user_id), user_id, {"content": text})
        payload["attachments"] = attachments or []
        self.gateway("MESSAGE_CREATE", payload)
        return int(payload["id"])

    def channel_message(
        self,
        user_id: int,
        channel_id: int,
        text: str = "",
        *,
        attachments: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
    ) -> int:
        payload = self.fake.message_payload(channel_id, user_id, {"content": text})
        payload["guild_id"] = str(GUILD_ID)
        payload["member"] = {k: v for k, v in member_payload(user_id).items() if k != "user"}
        payload["attachments"] = attachments or []
        if reply_to is not None:
            payload["type"] = 19
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
                "guild_id": str(GUILD_ID),
            }
            payload["referenced_message"] = self.fake.messages.get(reply_to)
        self.gateway("MESSAGE_CREATE", payload)
        return int(payload["id"])

    def react(self, user_id: int, message_id: int, emoji: str, *, channel_id: int = REVIEW_CHANNEL) -> None:
        self.gateway(
            "MESSAGE_REACTION_ADD",
            {
                "user_id": str(user_id),
                "channel_id": str(channel_id),
                "message_id": str(message_id),
                "guild_id": str(GUILD_ID),
                "member": member_payload(user_id),
                "emoji": {"id": None, "name": emoji},
                "message_author_id": str(BOT_ID),
                "burst": False,
                "burst_colors": [],
                "type": 0,
            },
        )

    def unreact(self, user_id: int, message_id: int, emoji: str, *, channel_id: int = REVIEW_CHANNEL) -> None:
        self.gateway(
            "MESSAGE_REACTION_REMOVE",
            {
                "user_id": str(user_id),
                "channel_id": str(channel_id),
                "message_id": str(message_id),
                "guild_id": str(GUILD_ID),
                "emoji": {"id": None, "name": emoji},
                "burst": False,
                "type": 0,
            },
        )

    def _interaction(self, user_id: int, kind: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": str(self.next_id()),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "guild_id": str(GUILD_ID),
            "channel_id": str(REVIEW_CHANNEL),
            "channel": {
                "id": str(REVIEW_CHANNEL),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": "reviewers",
                "position": 3,
                "parent_id": None,
                "permission_overwrites": [],
                "nsfw": False,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
                "permissions": "2248473465835073",
            },
            "member": member_payload(user_id),
            "token": f"token-{user_id}-{self.next_id()}",
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 10485760,
            **extra,
        }

    def press(self, user_id: int, message_id: int, custom_id: str) -> int:
        """INTERACTION_CREATE for a button (component_type 2) on a message the bot posted."""
        message = self.fake.messages[message_id]
        payload = self._interaction(
            user_id, 3, {"custom_id": custom_id, "component_type": 2}, message=message
        )
        self.gateway("INTERACTION_CREATE", payload)
        return int(payload["id"])

    def submit_form(self, user_id: int, message_id: int, custom_id: str, values: dict[str, str]) -> int:
        """INTERACTION_CREATE for a modal submit (type 5) with one text input per action row."""
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()
        ]
        payload = self._interaction(
            user_id,
            5,
            {"custom_id": custom_id, "components": rows},
            message=self.fake.messages[message_id],
        )
        self.gateway("INTERACTION_CREATE", payload)
        return int(payload["id"])

    def slash(self, user_id: int, name: str, *, in_dm: bool = True) -> int:
        """INTERACTION_CREATE for an application command (type 2), in the user's DM by default."""
        command = next(
            c for c in self.fake.of("bulk_upsert_global_commands")[-1].args["payload"] if c["name"] == name
        )
        data = {"id": str(self.next_id()), "name": command["name"], "type": 1}
        if in_dm:
            channel = self.fake.dm_channel(user_id)
            payload = self._interaction(user_id, 2, data, context=1)
            for key in ("guild_id", "member", "guild_locale"):
                payload.pop(key)
            payload["user"] = user_payload(user_id)
            payload["channel_id"] = str(channel)
            payload["channel"] = {"id": str(channel), "type": 1, "recipients": [user_payload(user_id)]}
            payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
        else:
            payload = self._interaction(user_id, 2, data)
        self.gateway("INTERACTION_CREATE", payload)
        return int(payload["id"])

    # -- waiting and reading -----------------------------------------------------------------

    async def until(self, condition: Callable[[], Any], *, timeout: float = 10.0) -> Any:
        """Let the loop and the worker run until `condition()` is truthy; returns its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = condition()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting; calls so far: {[c.route for c in self.fake.calls]}")
            await asyncio.sleep(0.01)

    async def settle(self) -> None:
        """Wait until every event already fed has been fully handled."""
        await asyncio.sleep(0)
        await self.client.drain()
        await asyncio.sleep(0)

    def sent_to(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a user's DM (payloads as sent to Discord)."""
        channel = self.fake.dm_channels.get(user_id)
        return [c.args["payload"] for c in self.fake.of("send_message") if c.args["channel_id"] == channel]

    def dm_texts(self, user_id: int) -> list[str]:
        return [p.get("content") or "" for p in self.sent_to(user_id)]

    def followup_texts(self) -> list[str]:
        return [c.args["payload"].get("content") or "" for c in self.fake.of("followup")]

    def channel_posts(self, channel_id: int = REVIEW_CHANNEL) -> list[Call]:
        return [c for c in self.fake.of("send_message") if c.args["channel_id"] == channel_id]

    def review_post_id(self) -> int:
        """The id Discord gave the review post (the first message with buttons in the channel)."""
        for message_id, message in self.fake.messages.items():
            if int(message["channel_id"]) == REVIEW_CHANNEL and message["components"]:
                return message_id
        raise AssertionError("no review post yet")
