"""The applicant database over TinyDB: one Store per process, one lock around every read-modify-write.

Files (all 0600 in a 0700 folder):
  applicants-NN.json  TinyDB shards of at most SHARD_CAPACITY people each, found through an in-memory
                   index by user key; an update rewrites one small shard, not everyone
  reviews.json     TinyDB: review rounds, found by their id or by the channel post that shows them
  events.log       append-only: recently processed platform event ids (de-duplication across restarts):
                   bot/event_ids.py, appended and fsynced per event (group commit),
                   compacted now and then (a rewritten TinyDB table cost ~18 ms per event at 5,000 ids)
  audit.jsonl      append-only: who did what and when, with pseudonymous ids and no personal data
Splitting them means a DM does not rewrite the whole applicant file to remember an event id.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB

from bot import integrity, memory, migrate, oplog
from bot.event_ids import Claim, EventIds
from bot.index import Index, applicant_entry, post_key, review_entry
from bot.integrity import FileRecord, ForgetTarget, Manifest
from bot.models import Applicant, DocumentRecord, PostRef, Progress, Review, to_iso, utc_now
from bot.oplog import OpLog
from bot.storage import (
    DIR_MODE,
    FILE_MODE,
    MAX_DATABASE_BYTES,
    AtomicJSONStorage,
    ReadOnlyStorage,
    append_fsynced,
    fsync_dir,
    parse_database,
    peek_record,
    read_limited,
    remove_stale_temp_files,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OPLOG = oplog.NAME
SHARD_CAPACITY = 16
"""People per applicant shard: an update rewrites at most this many records (~40 KB at 2.5 KB), and
a record not in memory costs the parse of that much. (Folders written with the earlier 128 keep
their shards; new people go to shards of this size.)"""
REVIEW_SHARD_CAPACITY = 32
"""Review rounds per reviews shard: a vote rewrites at most this many."""
CACHED_FILES = 64
"""Shards kept parsed in memory (least recently used first out): memory stays bounded. 64 shards
(1,024 people) hold a conversation's bursts; more only fed the garbage collector (every parsed record
is hundreds of objects it walks), and a miss costs a read and parse of one 40-65 KB file (~0.3 ms)."""
COMPACT_LOG_LINES = 20000
"""Writes between two snapshots of the manifest (each write appends one line in between)."""


class StoreLocked(Exception):
    """Another accessbot process is using this data folder."""


class UnknownApplicant(KeyError):
    pass


class ForgetFailed(Exception):
    """A write failed during `forget`: the person is NOT completely forgotten; `report` says what was done.

    Their record goes only after everything read from it was removed elsewhere, and their review
    rounds after it (found by key): running `forget` again finishes the job, whatever failed."""

    def __init__(self, report: ForgetReport, cause: BaseException) -> None:
        left = "their record is still there" if not report.found else "their review rounds may remain"
        super().__init__(
            f"forgetting {report.key} did not finish ({type(cause).__name__}: {cause}); {left}."
            f" Done so far: {report.summary()}. Fix the cause and run forget again."
        )
        self.report = report


@dataclass
class ForgetReport:
    """What `Store.forget` removed. True when there was anything to remove."""

    key: str
    found: bool = False
    """The person had a record (now removed)."""
    scrubbed: list[str] = field(default_factory=list)
    """Other people's records that held data read from the person's documents (now removed from them)."""
    reviews_removed: list[str] = field(default_factory=list)
    review_posts: list[PostRef] = field(default_factory=list)
    """The platform posts of the removed review rounds: edit them to say "withdrawn"."""
    reviews_scrubbed: list[str] = field(default_factory=list)
    """Other review rounds that named the person (their vote, a reason), now without it."""
    files_removed: int = 0
    events_removed: int = 0
    extra_entries_removed: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.found or bool(self.reviews_removed or self.scrubbed or self.files_removed)

    def summary(self) -> str:
        return (
            f"record {'removed' if self.found else 'not found'}, {len(self.scrubbed)} other record(s)"
            f" cleaned, {len(self.reviews_removed)} review round(s) removed, {self.files_removed} file(s)"
            f" deleted, {self.events_removed} event id(s) dropped"
        )


_FORGOTTEN = "[forgotten]"
_IDENTIFYING_FIELDS = ("name", "email", "learner_id", "record_id", "username", "answer")


def _copy(raw: Any) -> Any:
    return orjson.loads(orjson.dumps(raw))


class Store:
    """The data folder. `exclusive=False` opens it read-only, beside a live bot: nothing is written,
    removed, chmod-ed or locked, and every writing method raises ReadOnlyStorage."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock = utc_now,
        exclusive: bool = True,
        repair: bool = False,
        new_salt: bool = False,
    ) -> None:
        """Opens the folder after checking it (integrity.inspect); raises DataFolderDamaged naming
        every missing or damaged file. `repair` accepts files that disagree with the manifest
        (a restore) and `new_salt` makes a missing audit salt anew: `accessbot admin repair` only."""
        self.dir = data_dir
        self._repair, self._allow_new_salt = repair and exclusive, new_salt and exclusive
        self.clock = clock
        self.read_only = not exclusive
        self._lock = threading.RLock()
        self._lock_file: Any = None
        self._manifest_failed = False
        self._cache: OrderedDict[str, TinyDB] = OrderedDict()
        self._ids: dict[str, dict[str, int]] = {}
        self._files: dict[str, FileRecord] = {}
        self._preloaded: dict[str, tuple[dict[str, Any], int, str]] = {}
        self._index = Index()
        self._pending: dict[str, dict[str, Any]] = {"a": {}, "r": {}}
        self._log_lines = 0
        self._index_rebuilt = False
        self._due_rule: Callable[[Applicant], str] | None = None
        self._due_version = ""
        self._due_unknown: set[str] = set()
        self.writes: list[str] = []
        """Names of the database files written since the store opened (tests count them)."""
        if (self.dir.exists() or self.dir.is_symlink()) and not self.dir.is_dir():
            raise integrity.DataFolderDamaged(
                self.dir.parent,
                [
                    integrity.Problem(
                        self.dir.name, "is not a folder", "point ACCESSBOT_DATA_DIR at the data folder"
                    )
                ],
            )
        try:
            if exclusive:
                self.dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
                self._lock_file = self._acquire_folder_lock()
            with memory.bulk_load() as load:  # the index: millions of acyclic objects
                self._open_files()
                load.keep = len(self._index.applicants) + len(self._index.reviews) >= memory.FREEZE_FROM
        except BaseException as exc:
            self._release_lock()
            if isinstance(exc, OSError):  # the folder itself cannot be used: say so, not a traceback
                raise integrity.DataFolderDamaged(
                    self.dir.parent,
                    [
                        integrity.Problem(
                            self.dir.name,
                            f"is a data folder accessbot cannot use ({exc.strerror or exc})",
                            f"chown -R {os.geteuid()} {self.dir} && chmod 700 {self.dir}"
                            " (in Docker the image's user is uid 10001)"
                            if isinstance(exc, PermissionError)
                            else "fix the cause named (free disk space, a read-only mount), then start again",
                        )
                    ],
                ) from exc
            raise

    def _open_files(self) -> None:
        if not self.read_only:
            removed = remove_stale_temp_files(self.dir)
            if removed:
                log.warning("removed %d temp file(s) left by an interrupted write in %s", removed, self.dir)
            fixed = integrity.enforce_permissions(self.dir, FILE_MODE, DIR_MODE)
            if fixed:
                log.warning("made %d file(s) or folder(s) in %s private again (0600/0700)", fixed, self.dir)
        legacy = migrate.prepare(self.dir, read_only=self.read_only, repair=self._repair)
        found = integrity.inspect(self.dir)
        found.raise_if_damaged(accept_mismatches=self._repair, new_salt=self._allow_new_salt)
        self._audit_path = self.dir / integrity.AUDIT
        self._salt = found.salt if found.salt is not None else self._new_salt()
        self._load_index(found)
        if legacy is not None:
            self._bulk_load(legacy)
        self.events = EventIds(self.dir / integrity.EVENTS, read_only=self.read_only)
        self.oplog = OpLog(self.dir / OPLOG, read_only=self.read_only)
        if not self.read_only:
            self._finish_interrupted_operations()
            if self._snapshot_needed(found, legacy is not None):
                self.write_manifest()
            if legacy is not None:
                migrate.finish(self.dir)

    def _snapshot_needed(self, found: integrity.Inspection, migrated: bool) -> bool:
        """A start-up snapshot only when there is something to fold into it (log lines, a rebuilt
        index, a migration): the snapshot of 100,000 people is ~24 MB, not to be rewritten at every start."""
        if migrated or self._repair or self._index_rebuilt or self._log_lines or found.manifest is None:
            return True
        if found.manifest.version != integrity.MANIFEST_VERSION:
            return True
        if set(self._extras()) != set(found.manifest.extras):  # a registered file appeared or went
            return True
        try:
            return (self.dir / integrity.MANIFEST_LOG).stat().st_size > 0
        except FileNotFoundError:
            return False

    def _load_index(self, found: integrity.Inspection) -> None:
        """The index from the manifest; files it does not describe (newer after a crash, unlisted,
        or every file of a folder without a manifest) are read and indexed."""
        manifest = found.manifest
        trusted: set[str] = set()
        if manifest is not None and manifest.version == integrity.MANIFEST_VERSION:
            try:
                self._index = Index.from_raw(manifest.index)
                self._due_version = str(manifest.index.get("due_version", ""))
                trusted = {
                    name
                    for name, loaded in found.tables.items()
                    if (listed := manifest.tables.get(name)) is not None
                    and loaded.generation == listed.generation
                    and loaded.sha256 == listed.sha256
                }
            except (KeyError, TypeError, AttributeError):
                log.warning(
                    "the index in %s/manifest.json is damaged; rebuilding it from the files", self.dir
                )
                self._index = Index()
                self._index_rebuilt = True
        for name, loaded in found.tables.items():
            if loaded.generation == 0 and loaded.data is None:
                continue  # listed as empty, or absent
            table = integrity.table_of(name)
            count = (
                loaded.docs.__len__()
                if loaded.data is not None
                else (manifest.tables[name].count if manifest and name in manifest.tables else 0)
            )
            self._files[name] = FileRecord(loaded.generation, loaded.sha256, count)
            if loaded.data is not None:
                self._preloaded[name] = (loaded.data, loaded.generation, loaded.sha256)
            if name in trusted or loaded.data is None:
                continue
            self._index_rebuilt = True
            shard = integrity.shard_number(name)
            if table == "applicants":
                for key in [k for k, e in self._index.applicants.items() if e["s"] == shard]:
                    self._index.put_applicant(key, None)
                for doc in loaded.docs.values():
                    applicant = Applicant.from_dict(_copy(doc))
                    self._index.put_applicant(applicant.key, applicant_entry(applicant, shard, ""))
                    self._due_unknown.add(applicant.key)
            else:
                for rid in [k for k, e in self._index.reviews.items() if e["s"] == shard]:
                    self._index.put_review(rid, None)
                for doc in loaded.docs.values():
                    review = Review.from_dict(_copy(doc))
                    self._index.put_review(review.id, review_entry(review, shard))

    def _bulk_load(self, legacy: migrate.Legacy) -> None:
        """Write the previous layout's records into bounded shards, one write per shard."""
        for table, records, capacity in (
            ("applicants", legacy.applicants, SHARD_CAPACITY),
            ("reviews", legacy.reviews, REVIEW_SHARD_CAPACITY),
        ):
            for start in range(0, len(records), capacity):
                chunk = records[start : start + capacity]
                shard = start // capacity
                name = (integrity.shard_name if table == "applicants" else integrity.review_shard_name)(shard)
                for raw in chunk:
                    if table == "applicants":
                        a = Applicant.from_dict(_copy(raw))
                        self._pending["a"][a.key] = applicant_entry(a, shard, "")
                        self._due_unknown.add(a.key)
                    else:
                        r = Review.from_dict(_copy(raw))
                        self._pending["r"][r.id] = review_entry(r, shard)
                self._table(name).insert_multiple(chunk)
        log.warning(
            "converted %s to the new layout: %d people, %d review rounds (the previous files are in %s)",
            self.dir,
            len(legacy.applicants),
            len(legacy.reviews),
            migrate.BACKUP,
        )

    # -- files -----------------------------------------------------------------------------

    def _acquire_folder_lock(self) -> Any:
        handle = open(self.dir / ".lock", "a+")  # noqa: SIM115 - held for the Store's lifetime
        os.chmod(handle.name, FILE_MODE)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreLocked(
                f"another accessbot is already using {self.dir}; stop it first (or use its admin commands)"
            ) from None
        return handle

    def _db(self, name: str) -> TinyDB:
        """The file's TinyDB, loaded on demand; at most CACHED_FILES stay in memory (LRU)."""
        db = self._cache.get(name)
        if db is not None:
            self._cache.move_to_end(name)
            return db
        listed = self._files.get(name)
        db = TinyDB(
            str(self.dir / name),
            storage=AtomicJSONStorage,
            read_only=self.read_only,
            preloaded=self._preloaded.pop(name, None),
            expected=(listed.generation, listed.sha256) if listed else None,
        )
        _storage(db).on_write = self._after_write
        self._cache[name] = db
        while len(self._cache) > CACHED_FILES:
            self._ids.pop(self._cache.popitem(last=False)[0], None)
        return db

    def _table(self, name: str) -> Any:
        return self._db(name).table(integrity.table_of(name) or "")

    def _applicants(self, shard: int) -> Any:
        return self._table(integrity.shard_name(shard))

    def _reviews_table(self, shard: int) -> Any:
        return self._table(integrity.review_shard_name(shard))

    def _new_salt(self) -> bytes:
        """Only for a folder without data (integrity.inspect refuses a missing salt beside data)."""
        if self.read_only:
            return b""  # nothing to pseudonymise in an empty folder, and nothing may be written
        salt = os.urandom(integrity.SALT_BYTES)
        fd = os.open(self.dir / integrity.SALT, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(salt)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(self.dir)
        return salt

    # -- the manifest ------------------------------------------------------------------------

    def _audit_bytes(self) -> int:
        try:
            return self._audit_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _extras(self) -> list[str]:
        return [e.name for e in integrity.extra_files() if (self.dir / e.name).exists()]

    def manifest(self) -> Manifest:
        """What the files hold now, as `integrity.inspect` will check it at the next start."""
        tables = {name: r for name, r in self._files.items() if r.sha256}
        return Manifest(
            tables,
            hashlib.sha256(self._salt).hexdigest(),
            self._audit_bytes(),
            self._extras(),
            index=self._index.to_raw(self._due_version),
        )

    def write_manifest(self) -> None:
        """A snapshot of the files' generations, checksums and the index (at start-up, at close and
        every COMPACT_LOG_LINES writes); between snapshots each write appends a line."""
        self._writable()
        with self._lock:
            integrity.write_manifest(self.dir, self.manifest())
            self._log_lines = 0

    def _after_write(self, storage: AtomicJSONStorage) -> None:
        # The data write succeeded and stays acknowledged: a manifest that could not follow is
        # accepted at start-up (a file newer than the manifest is fine), so do not raise here.
        name = storage.path.name
        table = integrity.table_of(name) or ""
        record = FileRecord(storage.generation, storage.sha256, storage.count(table))
        self._files[name] = record
        self.writes.append(name)
        pending, self._pending = self._pending, {"a": {}, "r": {}}
        for key, a_entry in pending["a"].items():
            self._index.put_applicant(key, a_entry)
        for rid, r_entry in pending["r"].items():
            self._index.put_review(rid, r_entry)
        line = {
            "f": name,
            "g": record.generation,
            "h": record.sha256,
            "n": record.count,
            "ab": self._audit_bytes(),
            "x": self._extras(),
            **pending,
        }
        try:
            integrity.append_manifest_log(self.dir, line)
            self._log_lines += 1
            if self._log_lines >= COMPACT_LOG_LINES:
                self.write_manifest()
            if self._manifest_failed:
                log.info("the manifest of %s is up to date again", self.dir)
            self._manifest_failed = False
        except OSError as exc:
            if not self._manifest_failed:
                log.error("could not update %s/manifest.log (%s); retrying on the next write", self.dir, exc)
            self._manifest_failed = True

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStorage(f"{self.dir} is open read-only (a live bot may be using it)")

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        with self._lock:
            if not self.read_only and self._lock_file is not None and self._log_lines:
                with contextlib.suppress(OSError):
                    self.write_manifest()
            for db in self._cache.values():
                db.close()
            self._cache.clear()
            self._release_lock()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> str:
        return to_iso(self.clock())

    # -- applicants ------------------------------------------------------------------------

    def _raw_applicant(self, key: str) -> tuple[int, int, dict[str, Any]] | None:
        entry = self._index.applicants.get(key)
        if entry is None:
            return None
        shard = entry["s"]
        table = self._applicants(shard)
        ids = self._doc_ids(integrity.shard_name(shard), table, "key")
        doc_id = ids.get(key)
        if doc_id is None:
            return None
        doc = table.get(doc_id=doc_id)
        return (shard, doc_id, dict(doc)) if doc is not None else None

    def _doc_ids(self, name: str, table: Any, field_name: str) -> dict[str, int]:
        """record key -> TinyDB doc id within one file (built when the file is loaded)."""
        self._db(name)
        ids = self._ids.get(name)
        if ids is None:
            ids = {doc[field_name]: int(doc_id) for doc_id, doc in table._read_table().items()}
            self._ids[name] = ids
        return ids

    def get(self, key: str) -> Applicant | None:
        with self._lock:
            peeked = self._peek_applicant(key)
            if peeked is not None:
                return Applicant.from_dict(peeked)
            found = self._raw_applicant(key)
            return Applicant.from_dict(_copy(found[2])) if found is not None else None

    def _peek_applicant(self, key: str) -> dict[str, Any] | None:
        """A read of one person from a shard not in memory, without loading the shard (the status of
        a person nobody asked about lately); None: load it as usual (storage.peek_record)."""
        entry = self._index.applicants.get(key)
        if entry is None:
            return None
        name = integrity.shard_name(entry["s"])
        listed = self._on_disk(name)
        if listed is None:
            return None
        first_field = b'{"key":' + orjson.dumps(key) + b","
        found = peek_record(self.dir / name, first_field, (listed.generation, listed.sha256))
        return found if found is not None and found.get("key") == key else None

    def _on_disk(self, name: str) -> FileRecord | None:
        """The manifest's record of a file whose bytes on disk are what the store holds, for a read
        that skips the loaded tables; None when the store holds it in memory (the cache, or loaded
        at start-up) or does not list it: read it through the store."""
        if name in self._cache or name in self._preloaded:
            return None
        return self._files.get(name)

    def contains(self, key: str) -> bool:
        return key in self._index.applicants

    def ensure(self, key: str, *, lang: str, display_name: str = "") -> Applicant:
        with self._lock:
            self._writable()
            existing = self.get(key)
            if existing is not None:
                return existing
            now = self.now()
            applicant = Applicant(
                key=key, lang=lang, created=now, updated=now, display_name=display_name, step_started=now
            )
            self._put_applicant(applicant)
            self.audit(key, "applicant.created", key)
            return applicant

    def update(self, key: str, change: Callable[[Applicant], None]) -> Applicant:
        """Read, change and write one applicant atomically with respect to every other change."""
        with self._lock:
            self._writable()
            applicant = self.get(key)
            if applicant is None:
                raise UnknownApplicant(key)
            change(applicant)
            applicant.updated = self.now()
            self._put_applicant(applicant)
            return applicant

    def iter_all(self) -> Iterator[Applicant]:
        """Every applicant, one shard at a time (the lock is held per shard, never for all)."""
        shards = sorted({e["s"] for e in self._index.applicants.values()})
        for shard in shards:
            yield from (Applicant.from_dict(raw) for raw in self._snapshot(integrity.shard_name(shard)))

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        """Every applicant's record as stored (a fresh dict each, no model object): for exports."""
        for name in self._applicant_shards():
            yield from self._snapshot(name)

    def _applicant_shards(self) -> list[str]:
        """The applicants' shard files in arrival order (shards fill in arrival order)."""
        with self._lock:
            shards = sorted({e["s"] for e in self._index.applicants.values()})
        return [integrity.shard_name(shard) for shard in shards]

    def applicant_files(self) -> list[tuple[str, tuple[int, str] | None]]:
        """The applicants' shard files in arrival order, each with the (generation, SHA-256) its
        bytes on disk must have to be what the store holds, for a reader in another process
        (bot/report_workers.py). None instead: read it here (progress_in), because what the store
        holds is in memory (a shard in the cache or loaded at start-up) or the file is not listed."""
        names = self._applicant_shards()
        with self._lock:
            return [
                (
                    name,
                    (listed.generation, listed.sha256)
                    if (listed := self._on_disk(name)) is not None and listed.sha256
                    else None,
                )
                for name in names
            ]

    def progress_in(self, name: str) -> list[Progress]:
        """The records of one applicants' shard (a name from applicant_files) as Progress."""
        return list(map(Progress.from_dict, self._snapshot(name)))

    def review_briefs(self) -> dict[str, tuple[str, str]]:
        """Every review round's (state, created), from the index: review_brief for all at once."""
        with self._lock:
            return {rid: (str(e["st"]), str(e["c"])) for rid, e in self._index.reviews.items()}

    def iter_progress(self) -> Iterator[Progress]:
        """Every applicant as their steps' times and little else (models.Progress), from the raw
        records: what the reports, the wait estimates and the start-up repair read."""
        return map(Progress.from_dict, self.iter_raw())

    def _snapshot(self, name: str) -> list[dict[str, Any]]:
        """A copy of one file's records, taken under the lock and parsed after it. A file not in the
        cache is read from disk without entering the cache (a pass over everything must not push
        out what the messages use), and checked against the manifest's checksum as a load is."""
        table = integrity.table_of(name) or ""
        with self._lock:
            db = self._cache.get(name)
            if db is not None or name in self._preloaded:
                source = db.table(table) if db is not None else self._table(name)
                raw = orjson.dumps(list(source._read_table().values()))
                path = None
            else:
                listed = self._files.get(name)
                path = self.dir / name
                try:
                    raw = read_limited(path, MAX_DATABASE_BYTES)
                except FileNotFoundError:
                    return []
                if listed is not None and listed.sha256 and hashlib.sha256(raw).hexdigest() != listed.sha256:
                    # Not what the store last wrote or loaded: let the normal load judge it (it
                    # accepts a newer file after a crash and refuses a changed one).
                    raw = orjson.dumps(list(self._table(name)._read_table().values()))
                    path = None
        if path is None:
            return list(orjson.loads(raw))
        data, _generation = parse_database(path, raw)
        return list(data.get(table, {}).values())

    def all(self) -> list[Applicant]:
        return list(self.iter_all())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._index.applicants)

    def count(self) -> int:
        return len(self._index.applicants)

    # -- reminders: the due-time index ---------------------------------------------------------

    def set_due_rule(self, rule: Callable[[Applicant], str], version: str) -> None:
        """`rule(applicant)` -> when its next reminder is due (ISO, "" none); computed at every
        applicant write. A new `version` (the rules changed) recomputes everyone, shard by shard."""
        with self._lock:
            self._due_rule = rule
            recompute = version != self._due_version
            self._due_version = version
            keys = list(self._index.applicants) if recompute else list(self._due_unknown)
            self._due_unknown.clear()
        shards: dict[int, list[str]] = {}
        for key in keys:
            entry = self._index.applicants.get(key)
            if entry is not None:
                shards.setdefault(entry["s"], []).append(key)
        for shard, members in shards.items():
            with self._lock:
                table = self._applicants(shard)
                wanted = set(members)
                for doc in table.all():
                    if doc["key"] in wanted:
                        self._index.set_due(doc["key"], rule(Applicant.from_dict(_copy(dict(doc)))))
        if keys and not self.read_only:
            self.write_manifest()  # the recomputed times, kept for the next start

    @property
    def due_rule_version(self) -> str:
        """The version of the due rule in force ("" when none is set in this process)."""
        return self._due_version if self._due_rule is not None else ""

    def set_due(self, key: str, when: str) -> None:
        """Record when the person's next reminder is due (normally the rule does it at each write)."""
        with self._lock:
            self._index.set_due(key, when)

    def due(self, now: datetime) -> Iterator[str]:
        """The keys of people with a reminder due at `now`, soonest first; cost: how many are due.
        Without a due rule (none set), everyone."""
        with self._lock:
            keys = (
                self._index.due(to_iso(now)) if self._due_rule is not None else list(self._index.applicants)
            )
        return iter(keys)

    def with_kept_files_before(self, cutoff: datetime) -> Iterator[str]:
        with self._lock:
            return iter(list(self._index.kept_files_before(to_iso(cutoff))))

    def forget(self, key: str) -> ForgetReport:
        """Remove a person from every file of the data folder; the audit keeps a pseudonymous entry.

        Removed: their record; what was read from their documents wherever it sits (another
        applicant who uploaded their report: the document's fields, its kept file, the step's
        evidence); their review rounds (the report lists the posts, to be edited to say
        "withdrawn") and their name in other rounds; their kept files and every orphaned file in
        files/; event ids naming them; and, through `integrity.ExtraFile.forget`, the entries of
        registered files (an outbox). Their own record goes last: if any write fails, ForgetFailed
        is raised, the record is still there, and forget can simply be run again."""
        with self._lock:
            self._writable()
            report = ForgetReport(key)
            try:
                self._forget(key, report)
            except (OSError, ReadOnlyStorage) as exc:
                raise ForgetFailed(report, exc) from exc
            return report

    def _forget(self, key: str, report: ForgetReport) -> None:
        # Order: what needs their identifiers first (read from their record), then their record, then
        # their review rounds (found by key, so a re-run after a failure still finds them and their posts).
        target = self._forget_target(key)
        pattern = _mention_pattern(target.identifiers)
        if pattern is not None:
            for review in self.iter_reviews():
                if review.applicant == key:
                    continue
                cleaned, changed = _scrub(review.to_dict(), pattern)
                if changed:
                    self._put_review(Review.from_dict(cleaned))
                    report.reviews_scrubbed.append(review.id)
            for other in list(self._index.applicants):
                if other != key:
                    self._scrub_applicant(other, pattern, report)
        report.events_removed = self._forget_events(target)
        for extra in integrity.extra_files():
            if extra.forget is not None and (self.dir / extra.name).exists():
                report.extra_entries_removed[extra.name] = extra.forget(self.dir / extra.name, target)
        if migrate.remove_backup(self.dir):  # the previous layout's copy holds the person too
            report.extra_entries_removed[migrate.BACKUP] = 1
        found = self._raw_applicant(key)
        if found is not None:
            shard, doc_id, _raw = found
            name = integrity.shard_name(shard)
            self._pending["a"][key] = None
            self._applicants(shard).remove(doc_ids=[doc_id])
            self._doc_ids(name, self._applicants(shard), "key").pop(key, None)
            report.found = True
        else:
            self._index.put_applicant(key, None)
        for review in self.reviews_of(key):
            shard = self._index.reviews[review.id]["s"]
            name = integrity.review_shard_name(shard)
            table = self._reviews_table(shard)
            ids = self._doc_ids(name, table, "id")
            rid = ids.get(review.id)
            ids.pop(review.id, 0)
            self._pending["r"][review.id] = None
            if rid is not None:
                doc_id = rid
                table.remove(doc_ids=[doc_id])
            else:
                self._index.put_review(review.id, None)
            report.reviews_removed.append(review.id)
            report.review_posts.extend(review.posts)
        self._remove_files(target, report)  # theirs, and the orphans (their record's among them now)

    def _forget_target(self, key: str) -> ForgetTarget:
        """The person's key and every identifying text the bot read from them."""
        texts = {key}
        _platform, _, user_id = key.partition(":")
        texts.add(user_id)
        applicant = self.get(key)
        if applicant is not None:
            texts.add(applicant.display_name)
            sources: list[dict[str, Any]] = [d.fields for d in applicant.documents]
            for state in applicant.steps.values():
                sources.append(state.evidence)
                fields = state.evidence.get("fields")
                if isinstance(fields, dict):
                    sources.append(fields)
            for source in sources:
                for name in _IDENTIFYING_FIELDS:
                    value = source.get(name)
                    if isinstance(value, str | int) and not isinstance(value, bool):
                        texts.add(str(value))
        identifiers = frozenset(t.strip().casefold() for t in texts if len(t.strip()) >= 3)
        return ForgetTarget(key, self.pseudonym(key), identifiers)

    def _scrub_applicant(self, other: str, pattern: re.Pattern[str], report: ForgetReport) -> None:
        applicant = self.get(other)
        if applicant is None:
            return
        raw = applicant.to_dict()
        own_key = raw.pop("key")
        cleaned, changed = _scrub(raw, pattern)
        if not changed:
            return
        cleaned["key"] = own_key
        new = Applicant.from_dict(cleaned)
        dropped = {d.stored_file for d in applicant.documents if d.stored_file} - {
            d.stored_file for d in new.documents if d.stored_file
        }
        self._put_applicant(new)
        for name in dropped:
            (self.files_dir / name).unlink(missing_ok=True)
            report.files_removed += 1
        report.scrubbed.append(other)

    def _remove_files(self, target: ForgetTarget, report: ForgetReport) -> None:
        """The person's kept files, and every file no record points to (an upload cut short)."""
        if not self.files_dir.is_dir():
            return
        referenced = {
            d.stored_file
            for a in self.iter_all()
            if a.key != target.key
            for d in a.documents
            if d.stored_file
        }
        for entry in self.files_dir.iterdir():
            mine = entry.name.startswith(f"{target.pseudonym}-")
            if entry.is_file() and (mine or entry.name not in referenced):
                entry.unlink()
                report.files_removed += 1

    def _forget_events(self, target: ForgetTarget) -> int:
        """Event ids that name the person (e.g. `slack:action:U123:…`): dropped from the memory."""
        user_id = target.key.partition(":")[2].casefold()
        if len(user_id) < 3:
            return 0
        return self.events.forget(re.compile(rf"(?<![0-9a-z]){re.escape(user_id)}(?![0-9a-z])"))

    # -- documents: kept files, and who owns a CITI record id or a file ---------------------

    @property
    def files_dir(self) -> Path:
        return self.dir / "files"

    def drop_files(self, key: str, which: Callable[[DocumentRecord], bool]) -> int:
        """Delete the kept files of one person's documents that `which` selects; the records stay."""
        removed = 0

        def clear(a: Applicant) -> None:
            nonlocal removed
            for doc in a.documents:
                if doc.stored_file and which(doc):
                    (self.files_dir / doc.stored_file).unlink(missing_ok=True)
                    doc.stored_file = ""
                    removed += 1

        with self._lock:
            self._writable()
            applicant = self.get(key)
            if applicant is not None and any(d.stored_file and which(d) for d in applicant.documents):
                self.update(key, clear)  # only then: a tick must not rewrite every shard
        return removed

    def record_id_owner(self, record_id: str) -> str | None:
        with self._lock:
            return self._index.record_owner.get(record_id)

    def file_owner(self, sha256: str) -> str | None:
        with self._lock:
            return self._index.sha_owner.get(sha256)

    # -- reviews: bounded shards, every lookup keyed ---------------------------------------------

    def _raw_review(self, review_id: str) -> tuple[int, int, dict[str, Any]] | None:
        entry = self._index.reviews.get(review_id)
        if entry is None:
            return None
        shard = entry["s"]
        table = self._reviews_table(shard)
        doc_id = self._doc_ids(integrity.review_shard_name(shard), table, "id").get(review_id)
        doc = table.get(doc_id=doc_id) if doc_id is not None else None
        return (shard, doc_id, dict(doc)) if doc is not None and doc_id is not None else None

    def create_review(self, review: Review) -> Review:
        with self._lock:
            self._writable()
            if review.id in self._index.reviews:
                raise ValueError(f"review {review.id} exists")
            self._put_review(review)
            return review

    def review(self, review_id: str) -> Review | None:
        with self._lock:
            found = self._raw_review(review_id)
            return Review.from_dict(_copy(found[2])) if found is not None else None

    def review_for_post(self, platform: str, channel: str, message_id: str) -> Review | None:
        with self._lock:
            review_id = self._index.by_post.get(post_key(platform, channel, message_id))
            return self.review(review_id) if review_id else None

    def update_review(self, review_id: str, change: Callable[[Review], None]) -> Review:
        with self._lock:
            self._writable()
            review = self.review(review_id)
            if review is None:
                raise KeyError(review_id)
            change(review)
            self._put_review(review)
            return review

    def iter_reviews(self) -> Iterator[Review]:
        """Every review round, one shard at a time (the lock is held per shard)."""
        shards = sorted({e["s"] for e in self._index.reviews.values()})
        for shard in shards:
            yield from (Review.from_dict(raw) for raw in self._snapshot(integrity.review_shard_name(shard)))

    def reviews(self) -> list[Review]:
        return list(self.iter_reviews())

    def _reviews_by_id(self, ids: set[str]) -> list[Review]:
        with self._lock:
            found = [self.review(i) for i in ids]
        return sorted((r for r in found if r is not None), key=lambda r: r.created)

    def reviews_of(self, applicant: str) -> list[Review]:
        """The person's review rounds, oldest first (keyed)."""
        return self._reviews_by_id(set(self._index.reviews_of.get(applicant, ())))

    def pending_reviews(self) -> list[Review]:
        """The rounds waiting for reviewers, oldest first (keyed)."""
        return self._reviews_by_id(set(self._index.pending))

    def review_brief(self, review_id: str) -> tuple[str, str] | None:
        """(state, created) of a review round, from the index (no record read); None: unknown."""
        with self._lock:
            entry = self._index.reviews.get(review_id)
            return (str(entry["st"]), str(entry["c"])) if entry is not None else None

    def queue_place(self, review_id: str) -> tuple[int, int] | None:
        """(place, of how many) of a pending round among the pending ones, oldest first (keyed)."""
        with self._lock:
            return self._index.queue_place(review_id)

    def review_post_ids(self, platform: str) -> list[str]:
        """The message ids of the review rounds' posts on `platform`, in no order, from the index."""
        with self._lock:
            return self._index.post_ids(platform)

    def review_post_refs(self, platform: str, *, pending_only: bool = False) -> list[tuple[str, str, str]]:
        """(platform, channel, message id) of the review rounds' posts, from the index (no record read)."""
        with self._lock:
            return self._index.post_keys(platform, pending_only=pending_only)

    def reviews_to_ping(self, cutoff: datetime) -> list[Review]:
        """Pending rounds not posted, or not pinged (nor created) since `cutoff`, oldest first (keyed:
        a tick does not read every pending round to find the few whose reminder is due)."""
        with self._lock:
            ids = self._index.to_ping(to_iso(cutoff))
        return self._reviews_by_id(set(ids))

    def reviews_claimed_by_then(self, cutoff: datetime) -> list[Review]:
        """Pending rounds claimed at `cutoff` or earlier, oldest first (keyed: the stale-claims pass of
        every tick reads the few claims old enough, not every pending round)."""
        with self._lock:
            ids = self._index.claimed_by_then(to_iso(cutoff))
        return self._reviews_by_id(set(ids))

    def reviews_awaiting_reason(self, reviewer: str) -> list[Review]:
        """Pending rounds whose rejection by `reviewer` waits for its reason (keyed; the caller
        applies its own expiry on `reason_asked_at`)."""
        return self._reviews_by_id(set(self._index.awaiting.get(reviewer, ())))

    # -- operations that change several records (see bot/oplog.py) ----------------------------

    def commit(
        self,
        op_id: str,
        *,
        applicants: Sequence[Applicant] = (),
        reviews: Sequence[Review] = (),
        deliveries: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Write several records as one: all of them survive a crash, or the operation is finished
        at the next start. `deliveries` (encoded) are what the operation leaves to send."""
        now = self.now()
        records = {
            "applicants": {a.key: {**a.to_dict(), "updated": now} for a in applicants},
            "reviews": {r.id: r.to_dict() for r in reviews},
        }
        with self._lock:
            self.oplog.begin(op_id, records, list(deliveries))
            self._apply(records)
            self.oplog.applied(op_id)

    def update_batch(
        self,
        op_id: str,
        keys: Sequence[str],
        change: Callable[[Applicant], Sequence[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """Change several people at once as one operation (bot/oplog.py): `change(applicant)` edits
        the record and returns the encoded deliveries it leaves (none: the record is not written).
        One intent is fsynced, each shard is rewritten once, and the deliveries are left in the
        operation log, so a crash neither loses nor repeats them. Returns every delivery, to be
        carried out with the same `op_id` after this returns (the lock is not held for sending).
        Keep `keys` to a few shards: the lock is held while they are written."""
        with self._lock:
            self._writable()
            changed: list[Applicant] = []
            deliveries: list[dict[str, Any]] = []
            for key in keys:
                applicant = self.get(key)
                if applicant is None:
                    continue
                left = list(change(applicant))
                if left:
                    changed.append(applicant)
                    deliveries.extend(left)
            if changed:
                self.commit(op_id, applicants=changed, deliveries=deliveries)
            return deliveries

    def shard_of(self, key: str) -> int | None:
        """The applicant shard a person's record is in (None: no record); for grouping a batch."""
        entry = self._index.applicants.get(key)
        return int(entry["s"]) if entry is not None else None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's lock across a read-decide-write made of several calls (the review desk's
        decisions): no other write, e.g. a block's `commit_change`, lands between its read and its
        write. Re-entrant; keep it short, nothing is sent while it is held."""
        with self._lock:
            yield

    def commit_change(
        self,
        op_id: str,
        key: str,
        change: Callable[[Applicant], tuple[Sequence[Review], Sequence[dict[str, Any]]] | None],
    ) -> Applicant | None:
        """`update` and `commit` in one: read one applicant, change it, and write it with the review
        rounds the change returns and what it leaves to send (encoded deliveries), as one operation,
        under the store's lock, so no other write comes between the read and the write. `change`
        returns None to write nothing. Raises UnknownApplicant; returns the applicant as written."""
        with self._lock:
            self._writable()
            applicant = self.get(key)
            if applicant is None:
                raise UnknownApplicant(key)
            changed = change(applicant)
            if changed is None:
                return None
            reviews, deliveries = changed
            self.commit(op_id, applicants=[applicant], reviews=reviews, deliveries=deliveries)
            return applicant

    def _apply(self, records: dict[str, Any]) -> None:
        by_shard: dict[int, list[Applicant]] = {}
        for raw in (records.get("applicants") or {}).values():
            applicant = Applicant.from_dict(_copy(raw))
            entry = self._index.applicants.get(applicant.key)
            if entry is None:
                self._put_applicant(applicant)  # a new person: to the newest shard with room
            else:
                by_shard.setdefault(entry["s"], []).append(applicant)
        for shard, people in by_shard.items():
            if len(people) == 1:
                self._put_applicant(people[0])
            else:
                self._put_applicants(shard, people)
        for raw in (records.get("reviews") or {}).values():
            self._put_review(Review.from_dict(_copy(raw)))

    def _due_of(self, applicant: Applicant) -> str:
        if self._due_rule is None:
            self._due_unknown.add(applicant.key)
            return ""
        try:
            return self._due_rule(applicant)
        except Exception:  # a rule that fails must not lose the write; the tick recomputes
            log.exception("the reminder due rule failed")
            self._due_unknown.add(applicant.key)
            return ""

    def _put_applicant(self, applicant: Applicant) -> None:
        """Write one applicant to its shard (a new one to the newest shard with room)."""
        entry = self._index.applicants.get(applicant.key)
        shard = entry["s"] if entry is not None else self._shard_with_room()
        name = integrity.shard_name(shard)
        table = self._applicants(shard)
        ids = self._doc_ids(name, table, "key")
        self._pending["a"][applicant.key] = applicant_entry(applicant, shard, self._due_of(applicant))
        doc_id = ids.get(applicant.key)
        try:
            if doc_id is None:
                ids[applicant.key] = table.insert(applicant.to_dict())
            else:
                table.update(_replace_with(applicant.to_dict()), doc_ids=[doc_id])
        finally:
            self._pending = {"a": {}, "r": {}}

    def _put_applicants(self, shard: int, people: Sequence[Applicant]) -> None:
        """Write several people already in one shard: one rewrite (and fsync) of that shard."""
        name = integrity.shard_name(shard)
        table = self._applicants(shard)
        ids = self._doc_ids(name, table, "key")
        values: dict[int, dict[str, Any]] = {}
        for applicant in people:
            doc_id = ids.get(applicant.key)
            if doc_id is None:
                raise KeyError(applicant.key)  # the index and the shard disagree: never write blind
            values[doc_id] = applicant.to_dict()
            self._pending["a"][applicant.key] = applicant_entry(applicant, shard, self._due_of(applicant))

        def replace(docs: dict[int, Any]) -> None:
            for doc_id, value in values.items():
                docs[doc_id].clear()
                docs[doc_id].update(value)

        try:
            table._update_table(replace)
        finally:
            self._pending = {"a": {}, "r": {}}

    def _shard_with_room(self) -> int:
        counts = self._index.shard_counts
        last = max((s for s, n in counts.items() if n > 0), default=0)
        return last if counts[last] < SHARD_CAPACITY else last + 1

    def _put_review(self, review: Review) -> None:
        entry = self._index.reviews.get(review.id)
        if entry is not None:
            shard = entry["s"]
        else:
            counts = self._index.review_shard_counts
            last = max((s for s, n in counts.items() if n > 0), default=0)
            shard = last if counts[last] < REVIEW_SHARD_CAPACITY else last + 1
        name = integrity.review_shard_name(shard)
        table = self._reviews_table(shard)
        ids = self._doc_ids(name, table, "id")
        self._pending["r"][review.id] = review_entry(review, shard)
        doc_id = ids.get(review.id)
        try:
            if doc_id is None:
                ids[review.id] = table.insert(review.to_dict())
            else:
                table.update(_replace_with(review.to_dict()), doc_ids=[doc_id])
        finally:
            self._pending = {"a": {}, "r": {}}

    def _finish_interrupted_operations(self) -> None:
        unfinished = self.oplog.unapplied()
        for op in unfinished:
            self._apply(op.records)
            self.oplog.applied(op.id)
        if unfinished:
            log.warning("finished %d operation(s) a crash had interrupted", len(unfinished))

    # -- de-duplication --------------------------------------------------------------------

    def claim_event(self, event_id: str) -> Claim | None:
        """Remember an event id; None when it was already processed (a platform retry). The claim's
        `durable()` must return before anything the event causes (bot/event_ids.py)."""
        self._writable()
        return self.events.claim(event_id)

    def first_time(self, event_id: str) -> bool:
        """Remember an event id and wait until it is on disk; False when it was already processed."""
        claim = self.claim_event(event_id)
        if claim is None:
            return False
        claim.durable()
        return True

    # -- audit -----------------------------------------------------------------------------

    def pseudonym(self, key: str) -> str:
        """A stable, salted stand-in for a user id: audit entries outlive `forget` without naming anyone."""
        return hashlib.sha256(self._salt + key.encode()).hexdigest()[:12]

    def audit(self, actor: str, action: str, subject: str = "", **details: str | int | bool) -> None:
        entry = {
            "at": self.now(),
            "actor": self.pseudonym(actor) if actor else "",
            "action": action,
            "subject": self.pseudonym(subject) if subject else "",
            **details,
        }
        line = orjson.dumps(entry) + b"\n"
        with self._lock:
            self._writable()
            append_fsynced(self._audit_path, line)

    def audit_many(self, entries: Sequence[tuple[str, str, str, dict[str, str | int | bool]]]) -> None:
        """Several (actor, action, subject, details) entries in one append and one fsync."""
        if not entries:
            return
        now = self.now()
        lines = b"".join(
            orjson.dumps(
                {
                    "at": now,
                    "actor": self.pseudonym(actor) if actor else "",
                    "action": action,
                    "subject": self.pseudonym(subject) if subject else "",
                    **details,
                }
            )
            + b"\n"
            for actor, action, subject, details in entries
        )
        with self._lock:
            self._writable()
            append_fsynced(self._audit_path, lines)

    def audit_entries(self) -> Iterator[dict[str, Any]]:
        with contextlib.suppress(FileNotFoundError), self._audit_path.open("rb") as handle:
            for line in handle:
                with contextlib.suppress(orjson.JSONDecodeError):
                    yield orjson.loads(line)


def _storage(db: TinyDB) -> AtomicJSONStorage:
    storage = db.storage
    assert isinstance(storage, AtomicJSONStorage)
    return storage


def _mention_pattern(identifiers: frozenset[str]) -> re.Pattern[str] | None:
    """Any of the identifiers as a whole word (escaped literals: no backtracking to fear)."""
    if not identifiers:
        return None
    alternatives = "|".join(re.escape(i) for i in sorted(identifiers, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> tuple[Any, bool]:
    """`value` without anything naming the person: matching texts become "[forgotten]", mapping
    keys that name them (their vote) go, and a document's fields that mention them go whole."""
    if isinstance(value, str):
        return (_FORGOTTEN, True) if pattern.search(value) else (value, False)
    if isinstance(value, list):
        items = [_scrub(v, pattern) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        changed = False
        for k, v in value.items():
            if pattern.search(str(k)):
                changed = True
                continue
            if k == "fields" and isinstance(v, dict) and _scrub(v, pattern)[1]:
                out[k] = {}  # what was read from their document: nothing of it stays
                if value.get("stored_file"):
                    out["stored_file"] = ""
                changed = True
                continue
            new, c = _scrub(v, pattern)
            if k == "stored_file" and "stored_file" in out:
                continue
            out[k] = new
            changed = changed or c
        return out, changed
    return value, False


def _replace_with(new: dict[str, Any]) -> Callable[[MutableMapping[str, Any]], None]:
    def apply(doc: MutableMapping[str, Any]) -> None:
        doc.clear()
        doc.update(new)

    return apply
