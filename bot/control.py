"""The live bot's control socket: `accessbot admin forget|reset|revoke|block|unblock|closeout` while
the bot holds the data folder.

Only the process holding the folder's lock writes to it, so an admin command that changes data is
sent to that process instead: `control.sock` in the data folder, an AF_UNIX stream socket, 0600 in
the 0700 folder, and only a peer of the same uid (or root) is answered. One JSON line each way:

    → {"command": "forget", "args": ["slack:U0123"]}
    ← {"ok": true, "text": "forgot slack:U0123 (...)"}

The live side is `ControlServer(data_dir, handler)`, where `handler(command, args) -> text` does
the work (`admin_handler(store, rules)` is the plain one); `send(data_dir, command, args)` is the
client `accessbot admin` uses. A handler that raises answers `ok: false` with the error's text.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

from bot import admin
from bot.rules import Rules
from bot.store import Store

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
COMMANDS = ("forget", "reset", "revoke", "block", "unblock", "closeout")
MAX_REQUEST = 64 * 1024

Handler = Callable[[str, list[str]], str]


class CommandFailed(Exception):
    """The live bot answered, and the command failed; `str()` is its explanation."""


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


class ControlServer:
    """Serve admin commands on `data_dir/control.sock` in a daemon thread until `close()`.

    Create it only in the process that holds the data folder's lock (the live bot): a socket file
    left by an earlier run is replaced."""

    def __init__(self, data_dir: Path, handler: Handler) -> None:
        self.path = socket_path(data_dir)
        self.handler = handler
        self._closed = threading.Event()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.bind(str(self.path))  # in the 0700 data folder: nobody else can reach it meanwhile
            os.chmod(self.path, 0o600)
            self._sock.listen(4)
            self._sock.settimeout(0.2)
        except OSError:
            self._sock.close()
            raise
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                raise
            with conn:
                try:
                    self._answer(conn)
                except OSError as exc:
                    log.warning("control socket: a client went away (%s)", exc)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5.0)
        if not _same_user(conn):
            _reply(conn, False, "refused: only the user running accessbot (or root) may send commands")
            return
        raw = _read_line(conn)
        try:
            request = orjson.loads(raw)
            command = request["command"]
            args = request.get("args", [])
            if not isinstance(command, str) or not isinstance(args, list):
                raise TypeError("command must be a text and args a list")
            args = [str(a) for a in args]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            _reply(conn, False, f"not a command: {exc}")
            return
        if command not in COMMANDS:
            _reply(conn, False, f"unknown command {command!r} (the live bot takes: {', '.join(COMMANDS)})")
            return
        try:
            text = self.handler(command, args)
        except Exception as exc:  # the admin is told, the bot goes on
            log.exception("control command %s failed", command)
            _reply(conn, False, f"{command} failed: {exc}")
            return
        _reply(conn, True, text)

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
        self._thread.join(timeout=2)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> ControlServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send(data_dir: Path, command: str, args: Sequence[str], *, timeout_s: float = 60.0) -> str | None:
    """Send a command to the live bot; its answer, or None when no bot listens on the folder.

    Raises CommandFailed when the bot answered that the command failed."""
    path = socket_path(data_dir)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return None  # a socket file left by a bot that is gone
        sock.sendall(orjson.dumps({"command": command, "args": list(args)}) + b"\n")
        answer = orjson.loads(_read_line(sock))
    text = str(answer.get("text", ""))
    if not answer.get("ok"):
        raise CommandFailed(text)
    return text


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > MAX_REQUEST:
            break
    return b"".join(chunks).split(b"\n", 1)[0][:MAX_REQUEST]


def _reply(conn: socket.socket, ok: bool, text: str) -> None:
    conn.sendall(orjson.dumps({"ok": ok, "text": text}) + b"\n")


def _same_user(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):  # pragma: no cover - not Linux: the 0600 file is the guard
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (0, os.geteuid())


def admin_handler(store: Store, rules: Callable[[], Rules], by: str = "cli") -> Handler:
    """The plain handler: `forget USER` and `reset USER STEP` on the live store, as the CLI does them.

    A bot that also edits the withdrawn review posts wraps `bot.admin.forget` itself."""

    def handle(command: str, args: list[str]) -> str:
        return admin.change(store, rules(), command, args, by=by)

    return handle
