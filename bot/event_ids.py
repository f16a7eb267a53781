"""The ids of the events already handled, so that a platform's retry of one is skipped.

Each id is appended to events.log when its event arrives (`EventIds.claim`), and fsynced
(`Claim.durable`) before the first thing the event may cause: a write, a reply. The fsync runs
outside every lock, and events arriving together share one (group commit): under a burst of
events they no longer queue behind each other's fsync under the store's lock. The log is compacted
to the newest EVENT_MEMORY ids now and then.

(An fsync in a thread of its own, overlapping the matching, was tried: on 2 cores the handing of
the GIL between the two threads cost what the overlap saved.)

If the fsync fails, `Claim.durable` raises and the id is released: the event was not handled, and
its retry will be.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import threading
from pathlib import Path

import orjson

from bot.storage import append, fsync_dir, write_atomically

log = logging.getLogger(__name__)

EVENT_MEMORY = 5000
"""How many of the newest event ids are remembered (platforms retry within minutes)."""


class Claim:
    """An event id written to the log; `durable()` returns once it is on disk."""

    def __init__(self, owner: EventIds | None, event_id: str, sequence: int) -> None:
        self._owner = owner
        self._event_id = event_id
        self._sequence = sequence
        self._done = owner is None

    def durable(self) -> None:
        """Wait for the fsync of this id (at once after the first call). OSError if it failed."""
        if self._done or self._owner is None:
            return
        self._owner._wait(self._event_id, self._sequence)
        self._done = True


NOTHING_TO_CLAIM = Claim(None, "", 0)
"""For an event without an id (a console line, a test): nothing to remember, nothing to wait for."""


class EventIds:
    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.Lock()
        self._seen: dict[str, None] = {}
        self._lines = self._load()
        self._sync = _Syncer(path, new_file=not path.exists())

    def _load(self) -> int:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        if raw and not raw.endswith(b"\n"):  # a write cut short by a crash was never acknowledged
            raw = raw[: raw.rfind(b"\n") + 1]
            if not self.read_only:  # beside a live bot, the short line may be its append in progress
                write_atomically(self.path, raw)
        lines = raw.splitlines()
        for line in lines[-EVENT_MEMORY:]:  # integrity.inspect checked that each is an id
            self._seen[str(orjson.loads(line))] = None
        return len(lines)

    def claim(self, event_id: str) -> Claim | None:
        """None when the event was already handled (a retry); else the claim to wait on."""
        if not event_id:
            return NOTHING_TO_CLAIM
        with self._lock:
            if event_id in self._seen:
                return None
            append(self.path, orjson.dumps(event_id) + b"\n", fsync=False)  # fsynced by _Syncer
            self._seen[event_id] = None
            self._lines += 1
            if len(self._seen) > EVENT_MEMORY:
                del self._seen[next(iter(self._seen))]
            if self._lines > 2 * EVENT_MEMORY:
                self._compact()  # fsynced as it is written: it holds this id too
            sequence = self._sync.request()
        return Claim(self, event_id, sequence)

    def _wait(self, event_id: str, sequence: int) -> None:
        try:
            self._sync.wait(sequence)
        except OSError:
            with self._lock:
                self._seen.pop(event_id, None)
            raise

    def forget(self, pattern: re.Pattern[str]) -> int:
        """Drop the ids `pattern` finds (casefolded), e.g. those naming a forgotten person."""
        with self._lock:
            gone = [e for e in self._seen if pattern.search(e.casefold())]
            if not gone:
                return 0
            for event_id in gone:
                del self._seen[event_id]
            self._compact()
            return len(gone)

    def _compact(self) -> None:
        ids = list(self._seen)[-EVENT_MEMORY:]
        write_atomically(self.path, b"".join(orjson.dumps(i) + b"\n" for i in ids))
        self._lines = len(ids)


class _Syncer:
    """Group commit without a thread of its own: the first caller to wait fsyncs for every line
    written so far, and callers that arrive while it does wait for it or for the next one."""

    def __init__(self, path: Path, *, new_file: bool) -> None:
        self._path = path
        self._new_file = new_file
        self._changed = threading.Condition()
        self._requested = 0
        self._synced = 0
        self._syncing = False
        self._failures: list[tuple[int, int, OSError]] = []
        """(after, through, error): the requests in (after, through] were not made durable."""

    def request(self) -> int:
        with self._changed:
            self._requested += 1
            return self._requested

    def wait(self, sequence: int) -> None:
        with self._changed:
            while self._synced < sequence and self._syncing:
                self._changed.wait()
            if self._synced >= sequence:
                for after, through, error in self._failures:
                    if after < sequence <= through:
                        raise error
                return
            self._syncing = True
            after, target = self._synced, self._requested
        failure: OSError | None = None
        try:
            self._fsync()
        except OSError as exc:
            log.error("could not make %s durable: %s (their retries will be handled)", self._path, exc)
            failure = exc
        with self._changed:
            self._syncing = False
            if failure is not None:
                self._failures = [*self._failures[-63:], (after, target, failure)]
            self._synced = target
            self._changed.notify_all()
        if failure is not None:
            raise failure

    def _fsync(self) -> None:
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            raise OSError(errno.ENOENT, "the event log vanished", str(self._path)) from None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if self._new_file:  # its name must reach the disk too, once
            fsync_dir(self._path.parent)
            self._new_file = False
