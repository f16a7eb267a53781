"""A TinyDB storage that survives crashes and does not re-read its file on every query.

TinyDB's default JSONStorage re-parses the whole file on each read and truncates-then-writes it on
each write, so a crash mid-write loses the database and 10,000 applicants cost ~140 ms a lookup.
This storage parses once, serves reads from memory, and writes a temp file in the same folder,
fsyncs it and `os.replace`s it over the old one: the file on disk is always a complete version.

Each file carries a generation number (`{"_accessbot": {"generation": N}}` beside the tables), one
more on every write; the data folder's manifest (bot/integrity.py) records the generation and
checksum of the last write, so a file that went back in time or was changed by hand is noticed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

FILE_MODE = 0o600
DIR_MODE = 0o700
META = "_accessbot"
"""The top-level key of a database file that holds its generation; never a table."""
MAX_DATABASE_BYTES = 256 * 1024 * 1024
"""A database file larger than this is refused unread (10,000 applicants take about 30 MB)."""

_RESTORE = "Restore it from a backup (docs/deploy.md), or move it aside to start without it."


class CorruptDatabase(Exception):
    """A data file exists but cannot be used; the bot must not start empty over it."""

    def __init__(self, path: Path, detail: str, fix: str = "") -> None:
        super().__init__(
            f"{path} is damaged ({detail}). accessbot will not start over it, so nothing is lost."
            f" {fix or _RESTORE}"
        )
        self.path = path


class ReadOnlyStorage(Exception):
    """A write was attempted through a store opened read-only (an admin command beside a live bot)."""


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
    append(path, payload, fsync=True)


def append(path: Path, payload: bytes, *, fsync: bool) -> None:
    """Append to a log file; without `fsync` the caller makes it durable later (bot/event_ids.py
    fsyncs several appends at once)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
    try:
        os.write(fd, payload)
        if fsync:
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
    """Temp files left by a crash mid-write are never the real data: the rename did not happen.

    Only the process holding the folder's lock may call this: beside a live bot, a temp file is
    the write in progress."""
    removed = 0
    for folder in (directory, directory / "files"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        for tmp in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    return removed


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
"""No link is followed and a FIFO in a file's place cannot block the read."""


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing a file that is not a plain file or is larger than `limit`.

    One open and one fstat of what was opened (no lstat-then-open: nothing can be swapped in
    between). Raises CorruptDatabase naming the problem (a folder, a link, too large, unreadable)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise
    except PermissionError:
        raise _denied(path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptDatabase(
                path,
                "it is a symbolic link",
                "accessbot keeps its data as plain files: replace the link with the file it points to"
                " (or restore the file from a backup).",
            ) from None
        raise CorruptDatabase(path, f"cannot be examined: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CorruptDatabase(
                path,
                "it is not a plain file (a folder or a device is where the file should be)",
                "move it aside and restore the file from a backup (docs/deploy.md).",
            )
        if info.st_size > limit:
            raise CorruptDatabase(
                path,
                f"it is {info.st_size:,} bytes, more than the {limit:,} accessbot reads",
                "this is not a file accessbot wrote: restore it from a backup, or move it aside.",
            )
        return _read_up_to(fd, info.st_size, limit + 1)
    except OSError as exc:
        raise CorruptDatabase(path, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _read_up_to(fd: int, expected: int, limit: int) -> bytes:
    """At most `limit` bytes: one read when the file is the size fstat saw (a short read of a plain
    file is its end), more while it keeps growing."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        want = min(limit - total, max(expected + 1 - total, 1 << 16))
        chunk = os.read(fd, want)
        chunks.append(chunk)
        total += len(chunk)
        if len(chunk) < want:
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _denied(path: Path) -> CorruptDatabase:
    return CorruptDatabase(
        path,
        f"permission denied for uid {os.geteuid()}",
        f"give it back to the user running accessbot: chown {os.geteuid()} {path} && chmod 600 {path}",
    )


def parse_database(path: Path, raw: bytes) -> tuple[dict[str, Any], int]:
    """(the tables, the generation) of a database file's bytes; CorruptDatabase if they are not one."""
    if not raw.strip():
        raise CorruptDatabase(path, "the file is empty")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptDatabase(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise CorruptDatabase(path, "not a TinyDB database")
    meta = data.pop(META, {})
    generation = meta.get("generation", 0)
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise CorruptDatabase(path, f"its generation number is damaged ({generation!r})")
    return data, generation


_HEADER = re.compile(rb'^\{"' + META.encode() + rb'":\{"generation":(\d+)\}')


def read_generation(path: Path | str) -> int | None:
    """The generation written at the head of a file this version wrote (None: absent or not at the
    head, e.g. a file of the previous layout, which kept it at the end). Reads 64 bytes."""
    with open(path, "rb") as handle:
        match = _HEADER.match(handle.read(64))
    return int(match.group(1)) if match else None


def check_expected(path: Path, generation: int, sha256: str, expected: tuple[int, str]) -> None:
    """CorruptDatabase when the file is older than the manifest's record of it, or of the same
    generation with another checksum."""
    want_generation, want_sha = expected
    if generation < want_generation or (generation == want_generation and want_sha and want_sha != sha256):
        raise CorruptDatabase(
            path,
            "it differs from the manifest (changed outside accessbot, or an older copy)",
            "restore it from a backup (docs/deploy.md); `accessbot admin repair` checks every"
            " file and accepts them as they are",
        )


_RECORD_BEFORE = re.compile(rb'[{,]"\d{1,12}":$')
"""What stands before a record in a TinyDB table: its doc id (searched for in the 16 bytes before)."""
_NEXT_RECORD = re.compile(rb',"\d{1,12}":\{"key":')
"""Where the next record of an applicants table starts (its first field is always `key`)."""


def peek_record(path: Path, first_field: bytes, expected: tuple[int, str]) -> dict[str, Any] | None:
    """One record of a database file without parsing the other records: the file is read and checked
    against the manifest as a full load checks it, then only the record that starts with
    `first_field` (e.g. `{"key":"slack:U1",`) is parsed. A person's status needs one record of
    sixteen, and parsing (then freeing) the other fifteen was half its time.

    None when the record cannot be found that way for certain (not there, or the bytes appear twice):
    the caller loads the file. Valid JSON is guaranteed by the checksum (the file is the one
    accessbot wrote) and by the parse of exactly the record's bytes, which fails unless they are
    one whole object."""
    raw = read_limited(path, MAX_DATABASE_BYTES)
    header = _HEADER.match(raw, 0, 64)
    if header is None:
        return None
    check_expected(path, int(header.group(1)), hashlib.sha256(raw).hexdigest(), expected)
    start = raw.find(first_field)
    if (
        start < 0
        or raw.find(first_field, start + 1) >= 0
        or not _RECORD_BEFORE.search(raw, max(start - 16, 0), start)
    ):
        return None
    following = _NEXT_RECORD.search(raw, start + len(first_field))
    end = following.start() if following else len(raw) - 2  # the table's and the file's "}}"
    try:
        record = orjson.loads(raw[start:end])
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


class AtomicJSONStorage(Storage):
    def __init__(
        self,
        path: str,
        *,
        read_only: bool = False,
        preloaded: tuple[dict[str, Any], int, str] | None = None,
        expected: tuple[int, str] | None = None,
    ) -> None:
        """`expected` (generation, sha256): the file as the manifest last recorded it; a file of
        that generation with another checksum is refused (CorruptDatabase) when it is loaded."""
        self.path = Path(path)
        self.read_only = read_only
        self.generation = 0
        self.sha256 = ""
        """The checksum of the file as last read or written (empty when there is no file)."""
        self.on_write: Callable[[AtomicJSONStorage], None] | None = None
        """Called after each successful write (the store records it in the manifest)."""
        self._expected = expected
        if preloaded is not None:
            self._data: dict[str, Any] | None = preloaded[0]
            self.generation, self.sha256 = preloaded[1], preloaded[2]
        else:
            self._data = self._load()

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = read_limited(self.path, MAX_DATABASE_BYTES)
        except FileNotFoundError:
            self.generation, self.sha256 = 0, ""
            return None
        data, self.generation = parse_database(self.path, raw)
        self.sha256 = hashlib.sha256(raw).hexdigest()
        if self._expected is not None:
            check_expected(self.path, self.generation, self.sha256, self._expected)
        return data

    def read(self) -> dict[str, Any] | None:
        # TinyDB mutates what it reads and then writes it back: hand out the cached dict itself,
        # and restore it from disk if the write fails so memory never runs ahead of the file.
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            self._data = self._load()
            raise ReadOnlyStorage(f"{self.path} is open read-only")
        generation = self.generation + 1
        payload = orjson.dumps({META: {"generation": generation}, **data})  # the generation first
        try:
            write_atomically(self.path, payload)
        except BaseException:
            self._data = self._load()
            raise
        self._data = data
        self.generation = generation
        self.sha256 = hashlib.sha256(payload).hexdigest()
        if self.on_write is not None:
            self.on_write(self)

    def count(self, table: str) -> int:
        return len((self._data or {}).get(table, {}))

    def close(self) -> None:
        pass
