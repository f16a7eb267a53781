"""The heartbeat the live bot writes and `accessbot health` reads (never the data).

`beat(folder)` replaces `heartbeat.json` (a temp file renamed; no fsync: a lost beat only looks
older) with the time and the pid; `read(folder)` returns its age in seconds, or None without one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

import orjson

from bot.integrity import HEARTBEAT

STALE_AFTER_S = 180.0
"""A heartbeat older than this means the bot's loop is stuck or the bot is gone."""


def beat(folder: Path) -> None:
    tmp = folder / f".{HEARTBEAT}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, orjson.dumps({"at": time.time(), "pid": os.getpid()}))
    finally:
        os.close(fd)
    try:
        os.replace(tmp, folder / HEARTBEAT)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def age(folder: Path) -> float | None:
    """Seconds since the last beat; None when there is no (readable) heartbeat."""
    try:
        raw = orjson.loads((folder / HEARTBEAT).read_bytes())
        return max(0.0, time.time() - float(raw["at"]))
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
