"""A small fake of Discord's REST API on 127.0.0.1, for `accessbot init`, doctor's role checks and
the real discord.py HTTP client giving roles (no gateway).

with FakeDiscordREST() as discord_api:
    discord_api.guilds["700000000000000001"] = {...}
    ... init with --discord-api-url discord_api.api_url ...
    discord_api.requests   # (method, path) of every call

Roles: a guild's "roles" (id, name, position, permissions, managed) and its members' "roles" (ids).
PUT / DELETE /guilds/{g}/members/{u}/roles/{r} change a member's roles as Discord does: 204 when done
(also when there was nothing to change), 403 code 50013 unless the bot has Manage Roles (or
Administrator) and the role is below the bot's highest role, 404 for an unknown member or role.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests import loopback_http

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabCdE.abcdefghijklmnopqrstuvwxyz0123"
BOT_ID = "123456789012345678"
OWNER_ID = "200000000000000001"
MANAGE_ROLES, ADMINISTRATOR = 1 << 28, 1 << 3
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}


def role(
    role_id: str, name: str, position: int, permissions: int = 0, *, managed: bool = False
) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "color": 0,
        "hoist": False,
        "mentionable": False,
        "flags": 0,
    }


def member(user_id: str, username: str, global_name: str = "", nick: str = "") -> dict[str, Any]:
    return {
        "user": {"id": user_id, "username": username, "global_name": global_name or None},
        "nick": nick or None,
    }


@dataclass
class FakeDiscordREST:
    token: str = TOKEN
    guilds: dict[str, dict[str, Any]] = field(default_factory=dict)
    """guild id -> {"name", "owner_id", "channels": [...], "members": [...]}"""
    search_forbidden: bool = False
    """Answer member searches with 403 (as without the access they need)."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    bot_id: str = BOT_ID
    reasons: list[str] = field(default_factory=list)
    """The X-Audit-Log-Reason of every role change."""
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeDiscordREST:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

        self._server = loopback_http.serve(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            loopback_http.close(self._server)

    @property
    def api_url(self) -> str:
        assert self._server is not None
        return loopback_http.url(self._server) + "/api/v10"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(request.path)
        path = url.path.removeprefix("/api/v10")
        query = dict(urllib.parse.parse_qsl(url.query))
        method = request.command
        self.requests.append((method, path))
        if request.headers.get("Authorization") != f"Bot {self.token}":
            self._reply(request, 401, {"message": "401: Unauthorized", "code": 0})
            return
        parts = path.strip("/").split("/")
        if method in ("PUT", "DELETE"):
            self.reasons.append(urllib.parse.unquote(request.headers.get("X-Audit-Log-Reason") or ""))
            status, body = self._change_role(method, parts)
        else:
            status, body = self._route(parts, query)
        self._reply(request, status, body)

    def _change_role(self, method: str, parts: list[str]) -> tuple[int, Any]:
        """PUT / DELETE guilds/{g}/members/{u}/roles/{r}, with Discord's permission and hierarchy rules."""
        if len(parts) != 6 or parts[0] != "guilds" or parts[2] != "members" or parts[4] != "roles":
            return 404, {"message": "404: Not Found", "code": 0}
        guild = self.guilds.get(parts[1])
        if guild is None:
            return 404, {"message": "Unknown Guild", "code": 10004}
        roles = {r["id"]: r for r in guild.get("roles", [])}
        members = {m["user"]["id"]: m for m in guild.get("members", [])}
        me = members.get(self.bot_id)
        if me is None:
            return 403, {"message": "Missing Access", "code": 50001}
        target = members.get(parts[3])
        if target is None:
            return 404, {"message": "Unknown Member", "code": 10007}
        wanted = roles.get(parts[5])
        if wanted is None:
            return 404, {"message": "Unknown Role", "code": 10011}
        mine = [roles[r] for r in me.get("roles", []) if r in roles] + [roles.get(parts[1], role("", "", 0))]
        permissions = 0
        for held in mine:
            permissions |= int(held["permissions"])
        highest = max(int(held["position"]) for held in mine)
        if not permissions & (MANAGE_ROLES | ADMINISTRATOR) or int(wanted["position"]) >= highest:
            return 403, MISSING_PERMISSIONS
        if wanted.get("managed"):
            return 400, {"message": "Cannot assign a managed role", "code": 50028}
        held_ids: list[str] = target.setdefault("roles", [])
        if method == "PUT" and parts[5] not in held_ids:
            held_ids.append(parts[5])
        if method == "DELETE" and parts[5] in held_ids:
            held_ids.remove(parts[5])
        return 204, None

    def _route(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        if parts == ["users", "@me"]:
            return 200, {
                "id": self.bot_id,
                "username": "accessbot",
                "bot": True,
                "discriminator": "0",
                "global_name": None,
                "avatar": None,
            }
        if parts == ["oauth2", "applications", "@me"]:
            return 200, {"id": BOT_ID, "name": "accessbot", "owner": {"id": OWNER_ID, "username": "ada"}}
        if parts == ["users", "@me", "guilds"]:
            return 200, [{"id": gid, "name": g["name"]} for gid, g in self.guilds.items()]
        if len(parts) >= 2 and parts[0] == "guilds" and parts[1] in self.guilds:
            guild = self.guilds[parts[1]]
            rest = parts[2:]
            if not rest:
                return 200, {"id": parts[1], "name": guild["name"], "owner_id": guild.get("owner_id")}
            if rest == ["channels"]:
                return 200, guild.get("channels", [])
            if rest == ["roles"]:
                return 200, guild.get("roles", [])
            if rest == ["members", "search"]:
                if self.search_forbidden:
                    return 403, {"message": "Missing Access", "code": 50001}
                wanted = query.get("query", "").lower()
                found = [
                    m
                    for m in guild.get("members", [])
                    if any(
                        str(v or "").lower().startswith(wanted)
                        for v in (m["nick"], m["user"]["username"], m["user"]["global_name"])
                    )
                ]
                return 200, found[: int(query.get("limit") or 1)]
            if len(rest) == 2 and rest[0] == "members":
                matches = [m for m in guild.get("members", []) if m["user"]["id"] == rest[1]]
                return (200, matches[0]) if matches else (404, {"message": "Unknown Member", "code": 10007})
        return 404, {"message": "404: Not Found", "code": 0}

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = b"" if status == 204 else json.dumps(body).encode()
        request.send_response(status)
        if status != 204:
            request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
