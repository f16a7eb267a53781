"""A small fake of Discord's REST API on 127.0.0.1, for `accessbot init` (no gateway).

with FakeDiscordREST() as discord_api:
    discord_api.guilds["700000000000000001"] = {...}
    ... init with --discord-api-url discord_api.api_url ...
    discord_api.requests   # (method, path) of every call
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
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeDiscordREST:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
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
        self.requests.append(("GET", path))
        if request.headers.get("Authorization") != f"Bot {self.token}":
            self._reply(request, 401, {"message": "401: Unauthorized", "code": 0})
            return
        status, body = self._route(path.strip("/").split("/"), query)
        self._reply(request, status, body)

    def _route(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        if parts == ["users", "@me"]:
            return 200, {"id": BOT_ID, "username": "accessbot", "bot": True}
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
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
