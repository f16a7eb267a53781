"""A TinyDB storage that survives crashes and does not re-read its file on every query.

TinyDB's default JSONStorage re-parses the whole file on each read and truncates-then-writes it on
each write, so a crash mid-write loses the database and 10,000 applicants cost ~140 ms a lookup.
This storage parses once, serves reads from memory, and writes a temp file in the same folder,
fsyncs it and `os.replace`s it over the old one: the file on disk is always a complete version.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700


class CorruptDatabase(Exception):
    """A data file exists but cannot be parsed; the bot must not start empty over it."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"{path} is damaged ({detail}). accessbot will not start over it, so nothing is lost."
            f" Restore it from a backup, or move it aside to start with an empty database."
        )
        self.path = path


def write_atomically(path: Path, payload: bytes) -> None:
    """Write payload so that `path` is always either the old or the new content, even on SIGKILL."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def append_fsynced(path: Path, payload: bytes) -> None:
    """Append to a log file and fsync it: once this returns, the line survives a crash."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(directory: Path) -> int:
    """Temp files left by a crash mid-write are never the real data: the rename did not happen."""
    removed = 0
    for tmp in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


class AtomicJSONStorage(Storage):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] | None = self._load()

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            raise CorruptDatabase(self.path, "the file is empty")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise CorruptDatabase(self.path, f"not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise CorruptDatabase(self.path, "not a TinyDB database")
        return data

    def read(self) -> dict[str, Any] | None:
        # TinyDB mutates what it reads and then writes it back: hand out the cached dict itself,
        # and restore it from disk if the write fails so memory never runs ahead of the file.
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        try:
            write_atomically(self.path, orjson.dumps(data))
        except BaseException:
            self._data = self._load()
            raise
        self._data = data

    def close(self) -> None:
        pass
