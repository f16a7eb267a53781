"""A small fake Slack Web API on 127.0.0.1, and signed Events API requests for a bolt App.

    with FakeSlack() as slack:
        client = WebClient(token=slack.token, base_url=slack.api_url)
        slack.add_file("F1", b"%PDF-...", name="report.pdf")
        ...
        slack.calls_to("chat.postMessage")   # every call is recorded, with its parameters

Files are served at `slack.file_url(id)` only to `Authorization: Bearer <token>`; anyone else gets
HTTP 200 and an HTML login page, as real Slack does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from tests import loopback_http

SCOPES = (
    "chat:write,im:history,im:write,files:read,reactions:read,reactions:write,"
    "users:read,users:read.email,groups:history,channels:history,files:write,"
    "channels:read,groups:read,groups:write"
)
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0LAB"


Answer = tuple[dict[str, Any], dict[str, str] | None]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeFile:
    id: str
    data: bytes
    name: str
    mimetype: str
    size: int


@dataclass
class FakeSlack:
    token: str = "xoxb-test"
    scopes: str = SCOPES
    calls: list[Call] = field(default_factory=list)
    downloads: list[Call] = field(default_factory=list)
    files: dict[str, FakeFile] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    """method -> Slack error code to answer with (ok: false)."""
    file_token: str = ""
    """The token file downloads accept (default: `token`); another one imitates a missing files:read."""
    redirects: dict[str, str] = field(default_factory=dict)
    """path -> Location: answer GETs of that path with a 302."""
    uploads: dict[str, bytes] = field(default_factory=dict)
    """file id -> bytes the bot uploaded (files.getUploadURLExternal, then a POST to the URL)."""
    rate_limit_once: set[str] = field(default_factory=set)
    """methods that answer 429 + Retry-After: 1 the next time they are called."""
    app_token: str = "xapp-test"
    """The app-level token apps.connections.open accepts (Socket Mode)."""
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    """channel id -> conversations.list object (`name`, `is_private`, `is_member`; `members` ids)."""
    responses: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Messages posted per channel, newest first (conversations.history)."""
    """What was POSTed to `response_url(...)` addresses (answers to interactions)."""
    page_size: int = 2
    """conversations.list and users.list answer this many per page (cursors are exercised)."""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = loopback_http.serve(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            loopback_http.close(self._server)

    @property
    def base(self) -> str:
        assert self._server is not None
        return loopback_http.url(self._server)

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    # -- set-up and inspection --------------------------------------------------------------

    def file_url(self, file_id: str) -> str:
        return f"{self.base}/files-pri/{TEAM}-{file_id}/download"

    def add_file(
        self,
        file_id: str,
        data: bytes,
        name: str = "report.pdf",
        mimetype: str = "application/pdf",
        size: int | None = None,
    ) -> dict[str, Any]:
        """Register a file; returns the file object as Slack puts it in a file_share event."""
        self.files[file_id] = FakeFile(file_id, data, name, mimetype, len(data) if size is None else size)
        return self.file_object(file_id)

    def file_object(self, file_id: str) -> dict[str, Any]:
        f = self.files[file_id]
        return {
            "id": f.id,
            "name": f.name,
            "title": f.name,
            "mimetype": f.mimetype,
            "filetype": f.name.rsplit(".", 1)[-1],
            "size": f.size,
            "mode": "hosted",
            "url_private": self.file_url(f.id),
            "url_private_download": self.file_url(f.id),
        }

    def response_url(self, name: str = "1") -> str:
        """A response_url as Slack puts in an interaction payload, answered by this fake."""
        return f"{self.base}/respond/{name}"

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def calls_to_params(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to(method)]

    def messages_to(self, channel: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("chat.postMessage") if c.params.get("channel") == channel]

    def texts_to(self, channel: str) -> list[str]:
        return [str(m.get("text", "")) for m in self.messages_to(channel)]

    def reset(self) -> None:
        self.calls.clear()
        self.downloads.clear()

    # -- the server -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(request.path).path
        headers = {k.lower(): v for k, v in request.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = request.rfile.read(length) if length else b""
        if path in self.redirects:
            with self._lock:
                self.downloads.append(Call("redirect", {"path": path}, headers))
            request.send_response(302)
            request.send_header("Location", self.redirects[path])
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        if path.startswith("/files-pri/"):
            self._serve_file(request, path, headers)
            return
        if path.startswith("/respond/"):  # an interaction's response_url
            with self._lock:
                self.responses.append({"path": path, **json.loads(raw or b"{}")})
            request.send_response(200)
            request.send_header("Content-Length", "2")
            request.end_headers()
            request.wfile.write(b"ok")
            return
        if path.startswith("/upload/"):  # step 2 of files_upload_v2: the bytes, no token
            with self._lock:
                self.uploads[path.removeprefix("/upload/")] = raw
            request.send_response(200)
            request.send_header("Content-Length", "2")
            request.end_headers()
            request.wfile.write(b"OK")
            return
        if not path.startswith("/api/"):
            self._reply(request, 404, {"ok": False, "error": "unknown_path"})
            return
        method = path.removeprefix("/api/")
        params = self._params(request.path, headers, raw)
        with self._lock:
            self.calls.append(Call(method, params, headers))
            limited = method in self.rate_limit_once
            self.rate_limit_once.discard(method)
        if limited:
            self._reply(request, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            return
        expected = self.app_token if method == "apps.connections.open" else self.token
        if headers.get("authorization") != f"Bearer {expected}":
            self._reply(request, 200, {"ok": False, "error": "invalid_auth"})
            return
        if method in self.errors:
            self._reply(request, 200, {"ok": False, "error": self.errors[method]})
            return
        answer = getattr(self, "_api_" + method.replace(".", "_"), None)
        if answer is None:
            self._reply(request, 200, {"ok": False, "error": "unknown_method"})
            return
        body, extra = answer(params)
        self._reply(request, 200, body, extra)

    @staticmethod
    def _params(path: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        params: dict[str, Any] = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        if headers.get("content-type", "").startswith("application/json") and raw:
            params.update(json.loads(raw))
        elif raw:
            params.update(urllib.parse.parse_qsl(raw.decode()))
        return params

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _serve_file(self, request: BaseHTTPRequestHandler, path: str, headers: dict[str, str]) -> None:
        file_id = path.split("/")[2].removeprefix(f"{TEAM}-")
        with self._lock:
            self.downloads.append(Call("download", {"file": file_id}, headers))
        f = self.files.get(file_id)
        if headers.get("authorization") == f"Bearer {self.file_token or self.token}" and f is not None:
            data, content_type = f.data, f.mimetype
        else:
            data, content_type = LOGIN_PAGE, "text/html; charset=utf-8"
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    # -- methods ----------------------------------------------------------------------------

    def _api_auth_test(self, params: dict[str, Any]) -> Answer:
        body = {
            "ok": True,
            "url": "https://lab.slack.com/",
            "team": "Lab",
            "user": "accessbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }
        return body, {"x-oauth-scopes": self.scopes}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> Answer:
        ts = f"{1772442000 + next(self._ts)}.000100"
        channel = params.get("channel")
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": params.get("text")}
        metadata = params.get("metadata")
        if metadata:
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.history.setdefault(str(channel), []).insert(0, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text")}}, None

    def _api_conversations_history(self, params: dict[str, Any]) -> Answer:
        messages = self.history.get(str(params.get("channel")), [])
        if str(params.get("include_all_metadata", "")).lower() not in ("true", "1"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return {"ok": True, "messages": messages[: int(params.get("limit", 100))]}, None

    def _api_chat_update(self, params: dict[str, Any]) -> Answer:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}, None

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> Answer:
        file_id = f"FUP{next(self._ts)}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}, None

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> Answer:
        files = params.get("files")
        listed = json.loads(files) if isinstance(files, str) else files or []
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in listed]}, None

    def _api_conversations_open(self, params: dict[str, Any]) -> Answer:
        user = str(params.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + user.removeprefix("U")}}, None

    def _api_files_info(self, params: dict[str, Any]) -> Answer:
        file_id = str(params.get("file", ""))
        if file_id not in self.files:
            return {"ok": False, "error": "file_not_found"}, None
        return {"ok": True, "file": self.file_object(file_id)}, None

    def _api_users_info(self, params: dict[str, Any]) -> Answer:
        user = str(params.get("user", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}, None
        return {"ok": True, "user": self.users[user]}, None

    def _api_reactions_add(self, params: dict[str, Any]) -> Answer:
        return {"ok": True}, None

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> Answer:
        return {"ok": True, "message_ts": f"{1772442000 + next(self._ts)}.000200"}, None

    def _api_apps_connections_open(self, params: dict[str, Any]) -> Answer:
        return {"ok": True, "url": "wss://wss-primary.slack.com/link/?ticket=fake"}, None

    def _page(self, items: list[dict[str, Any]], params: dict[str, Any], key: str) -> Answer:
        start = int(params.get("cursor") or 0)
        page = items[start : start + self.page_size]
        after = start + self.page_size
        cursor = str(after) if after < len(items) else ""
        return {"ok": True, key: page, "response_metadata": {"next_cursor": cursor}}, None

    def _api_conversations_list(self, params: dict[str, Any]) -> Answer:
        types = str(params.get("types") or "public_channel").split(",")
        listed = [
            {"id": cid, **{k: v for k, v in c.items() if k != "members"}}
            for cid, c in self.channels.items()
            if ("private_channel" if c.get("is_private") else "public_channel") in types
            and (c.get("is_member") or not c.get("is_private"))  # private channels: only the bot's
        ]
        return self._page(listed, params, "channels")

    def _api_conversations_create(self, params: dict[str, Any]) -> Answer:
        name = str(params.get("name") or "")
        if any(c.get("name") == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}, None
        cid = f"C0NEW{next(self._ts):05d}"
        private = str(params.get("is_private")).lower() == "true"
        self.channels[cid] = {"name": name, "is_private": private, "is_member": True, "members": [BOT_USER]}
        return {"ok": True, "channel": {"id": cid, "name": name, "is_private": private}}, None

    def _api_conversations_invite(self, params: dict[str, Any]) -> Answer:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}, None
        users = str(params.get("users") or "").split(",")
        if all(u in channel.get("members", []) for u in users):
            return {"ok": False, "error": "already_in_channel"}, None
        channel.setdefault("members", []).extend(u for u in users if u not in channel.get("members", []))
        return {"ok": True, "channel": {"id": params.get("channel")}}, None

    def _api_conversations_kick(self, params: dict[str, Any]) -> Answer:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}, None
        user = str(params.get("user") or "")
        if user not in channel.get("members", []):
            return {"ok": False, "error": "not_in_channel"}, None
        channel["members"].remove(user)
        return {"ok": True}, None

    def _api_users_list(self, params: dict[str, Any]) -> Answer:
        return self._page(list(self.users.values()), params, "members")

    def _api_users_lookupByEmail(self, params: dict[str, Any]) -> Answer:
        email = str(params.get("email") or "").lower()
        found = next((u for u in self.users.values() if u["profile"].get("email", "").lower() == email), None)
        if found is None:
            return {"ok": False, "error": "users_not_found"}, None
        return {"ok": True, "user": found}, None

    def _api_views_publish(self, params: dict[str, Any]) -> Answer:
        if not params.get("user_id") or not params.get("view"):
            return {"ok": False, "error": "invalid_arguments"}, None
        return {"ok": True, "view": {"id": "VH" + str(next(self._ts)), "type": "home"}}, None

    def _api_views_open(self, params: dict[str, Any]) -> Answer:
        return {"ok": True, "view": {"id": "V" + str(next(self._ts))}}, None


def slack_user(user_id: str, real_name: str, email: str = "") -> dict[str, Any]:
    """A users.info `user` object."""
    return {
        "id": user_id,
        "name": real_name.lower().replace(" ", "."),
        "real_name": real_name,
        "profile": {"real_name": real_name, "display_name": real_name.split()[0], "email": email},
    }


# -- signed requests for a bolt App -------------------------------------------------------------


class Signer:
    """Builds Slack-signed requests and dispatches them through a bolt App, as Slack would."""

    def __init__(self, app: App, secret: str) -> None:
        self.app = app
        self.verifier = SignatureVerifier(secret)
        self._ids = itertools.count(1)

    def headers(self, body: str, content_type: str, *, signature: str | None = None) -> dict[str, str]:
        timestamp = str(int(time.time()))
        if signature is None:
            signature = str(self.verifier.generate_signature(timestamp=timestamp, body=body))
        return {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **headers: str) -> BoltResponse:
        """An Events API `event_callback` envelope around `event`."""
        envelope = {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0ACCESS",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        return self.send_json(envelope, **headers)

    def send_json(self, payload: dict[str, Any], **extra: str) -> BoltResponse:
        body = json.dumps(payload)
        all_headers = self.headers(body, "application/json")
        all_headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        return self.raw(body, all_headers)

    def interaction(self, payload: dict[str, Any]) -> BoltResponse:
        """block_actions / view_submission: form-encoded `payload=`."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.raw(body, self.headers(body, "application/x-www-form-urlencoded"))

    def raw(self, body: str, headers: dict[str, str]) -> BoltResponse:
        request_headers: dict[str, str | Sequence[str]] = dict(headers)
        return self.app.dispatch(BoltRequest(body=body, headers=request_headers))
