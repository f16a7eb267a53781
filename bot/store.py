"""The applicant database over TinyDB: one Store per process, one lock around every read-modify-write.

Files (all 0600 in a 0700 folder):
  applicants-NN.json  TinyDB, 16 shards: one document per person, found through an in-memory index by
                   user key; an update rewrites one shard (1/16 of the data), not everyone
  reviews.json     TinyDB: review rounds, found by their id or by the channel post that shows them
  events.log       append-only: recently processed platform event ids (de-duplication across restarts);
                   appended and fsynced per event, compacted to the newest EVENT_MEMORY ids now and then
                   (a rewritten TinyDB table cost ~18 ms per event once it held 5,000 ids)
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
import zlib
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB

from bot import integrity, oplog
from bot.documents.summary import identity_of
from bot.integrity import FileRecord, ForgetTarget, Manifest
from bot.models import Applicant, DocumentRecord, PostRef, Review, to_iso, utc_now
from bot.oplog import OpLog
from bot.storage import (
    DIR_MODE,
    FILE_MODE,
    AtomicJSONStorage,
    ReadOnlyStorage,
    append_fsynced,
    fsync_dir,
    remove_stale_temp_files,
    write_atomically,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OPLOG = oplog.NAME
EVENT_MEMORY = 5000
SHARDS = integrity.SHARDS


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


def _post_key(platform: str, channel: str, message_id: str) -> str:
    return f"{platform}|{channel}|{message_id}"


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
            self._open_files()
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
        found = integrity.inspect(self.dir)
        found.raise_if_damaged(accept_mismatches=self._repair, new_salt=self._allow_new_salt)
        self._shard_dbs = [self._open(integrity.shard_name(n), found) for n in range(SHARDS)]
        self._shards = [db.table("applicants") for db in self._shard_dbs]
        self._reviews_db = self._open(integrity.REVIEWS, found)
        self._reviews = self._reviews_db.table("reviews")
        self._audit_path = self.dir / integrity.AUDIT
        self._salt = found.salt if found.salt is not None else self._new_salt()
        self._by_key: dict[str, tuple[int, int]] = {}
        self._record_owner: dict[str, str] = {}
        self._sha_owner: dict[str, str] = {}
        for shard, table in enumerate(self._shards):
            for doc in table.all():
                self._by_key[doc["key"]] = (shard, doc.doc_id)
                self._index_documents(Applicant.from_dict(_copy(dict(doc))))
        self._review_ids: dict[str, int] = {}
        self._review_by_post: dict[str, str] = {}
        for doc in self._reviews.all():
            self._index_review(Review.from_dict(_copy(dict(doc))), doc.doc_id)
        self._events_path = self.dir / integrity.EVENTS
        self._seen: dict[str, None] = {}
        self._event_lines = self._load_events()
        self.oplog = OpLog(self.dir / OPLOG, read_only=self.read_only)
        if not self.read_only:
            self._finish_interrupted_operations()
            self.write_manifest()

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

    def _open(self, name: str, found: integrity.Inspection) -> TinyDB:
        loaded = found.tables.get(name)
        preloaded = None
        if loaded is not None and loaded.data is not None:
            preloaded = (loaded.data, loaded.generation, loaded.sha256)
        db = TinyDB(
            str(self.dir / name), storage=AtomicJSONStorage, read_only=self.read_only, preloaded=preloaded
        )
        _storage(db).on_write = self._after_write
        return db

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

    def _storages(self) -> Iterator[tuple[str, AtomicJSONStorage, str]]:
        for n, db in enumerate(self._shard_dbs):
            yield integrity.shard_name(n), _storage(db), "applicants"
        yield integrity.REVIEWS, _storage(self._reviews_db), "reviews"

    def manifest(self) -> Manifest:
        """What the files hold now, as `integrity.inspect` will check it at the next start."""
        tables = {
            name: FileRecord(storage.generation, storage.sha256, storage.count(table))
            for name, storage, table in self._storages()
            if storage.sha256
        }
        try:
            audit_bytes = self._audit_path.stat().st_size
        except FileNotFoundError:
            audit_bytes = 0
        extras = [e.name for e in integrity.extra_files() if (self.dir / e.name).exists()]
        return Manifest(tables, hashlib.sha256(self._salt).hexdigest(), audit_bytes, extras)

    def write_manifest(self) -> None:
        """Record the files' generations and checksums (after every write, and at start-up)."""
        self._writable()
        with self._lock:
            integrity.write_manifest(self.dir, self.manifest())

    def _after_write(self, storage: AtomicJSONStorage) -> None:
        # The data write succeeded and stays acknowledged: a manifest that could not follow is
        # accepted at start-up (a file newer than the manifest is fine), so do not raise here.
        try:
            self.write_manifest()
            if self._manifest_failed:
                log.info("the manifest of %s is up to date again", self.dir)
            self._manifest_failed = False
        except OSError as exc:
            if not self._manifest_failed:
                log.error("could not update %s/manifest.json (%s); retrying on the next write", self.dir, exc)
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
            for db in (*self._shard_dbs, self._reviews_db):
                db.close()
            self._release_lock()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> str:
        return to_iso(self.clock())

    # -- applicants ------------------------------------------------------------------------

    def get(self, key: str) -> Applicant | None:
        with self._lock:
            where = self._by_key.get(key)
            if where is None:
                return None
            doc = self._shards[where[0]].get(doc_id=where[1])
            return Applicant.from_dict(_copy(dict(doc))) if doc is not None else None

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
            shard = zlib.crc32(key.encode()) % SHARDS
            self._by_key[key] = (shard, self._shards[shard].insert(applicant.to_dict()))
            self.audit(key, "applicant.created", key)
            return applicant

    def update(self, key: str, change: Callable[[Applicant], None]) -> Applicant:
        """Read, change and write one applicant atomically with respect to every other change."""
        with self._lock:
            self._writable()
            applicant = self.get(key)
            if applicant is None:
                raise UnknownApplicant(key)
            before = {d.sha256 for d in applicant.documents}
            change(applicant)
            applicant.updated = self.now()
            shard, doc_id = self._by_key[key]
            self._shards[shard].update(_replace_with(applicant.to_dict()), doc_ids=[doc_id])
            if {d.sha256 for d in applicant.documents} != before:
                self._reindex_documents(applicant)
            return applicant

    def all(self) -> list[Applicant]:
        with self._lock:
            return [Applicant.from_dict(_copy(dict(doc))) for table in self._shards for doc in table.all()]

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._by_key)

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
            for review in self.reviews():
                if review.applicant == key:
                    continue
                cleaned, changed = _scrub(review.to_dict(), pattern)
                if changed:
                    new = Review.from_dict(cleaned)
                    self._reviews.update(_replace_with(new.to_dict()), doc_ids=[self._review_ids[review.id]])
                    report.reviews_scrubbed.append(review.id)
            for other in list(self._by_key):
                if other != key:
                    self._scrub_applicant(other, pattern, report)
        report.events_removed = self._forget_events(target)
        for extra in integrity.extra_files():
            if extra.forget is not None and (self.dir / extra.name).exists():
                report.extra_entries_removed[extra.name] = extra.forget(self.dir / extra.name, target)
        where = self._by_key.get(key)
        if where is not None:
            self._shards[where[0]].remove(doc_ids=[where[1]])
            del self._by_key[key]
            for table in (self._record_owner, self._sha_owner):
                for k in [k for k, owner in table.items() if owner == key]:
                    del table[k]
            report.found = True
        own = [r for r in self.reviews() if r.applicant == key]
        if own:
            self._reviews.remove(doc_ids=[self._review_ids[r.id] for r in own])
            gone = {r.id for r in own}
            for review in own:
                del self._review_ids[review.id]
                report.reviews_removed.append(review.id)
                report.review_posts.extend(review.posts)
            self._review_by_post = {p: r for p, r in self._review_by_post.items() if r not in gone}
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
        shard, doc_id = self._by_key[other]
        self._shards[shard].update(_replace_with(new.to_dict()), doc_ids=[doc_id])
        self._reindex_documents(new)
        for name in dropped:
            (self.files_dir / name).unlink(missing_ok=True)
            report.files_removed += 1
        report.scrubbed.append(other)

    def _remove_files(self, target: ForgetTarget, report: ForgetReport) -> None:
        """The person's kept files, and every file no record points to (an upload cut short)."""
        if not self.files_dir.is_dir():
            return
        referenced = {
            d.stored_file for a in self.all() if a.key != target.key for d in a.documents if d.stored_file
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
        token = re.compile(rf"(?<![0-9a-z]){re.escape(user_id)}(?![0-9a-z])")
        gone = [e for e in self._seen if token.search(e.casefold())]
        if not gone:
            return 0
        for event_id in gone:
            del self._seen[event_id]
        self._compact_events()
        return len(gone)

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

    def _index_documents(self, applicant: Applicant) -> None:
        for doc in applicant.documents:
            if not doc.accepted:
                continue
            self._sha_owner.setdefault(doc.sha256, applicant.key)
            record_id = doc.identity or identity_of(doc.fields)
            if record_id:
                self._record_owner.setdefault(record_id, applicant.key)

    def _reindex_documents(self, applicant: Applicant) -> None:
        for table in (self._record_owner, self._sha_owner):
            for k in [k for k, owner in table.items() if owner == applicant.key]:
                del table[k]
        self._index_documents(applicant)

    def record_id_owner(self, record_id: str) -> str | None:
        with self._lock:
            return self._record_owner.get(record_id)

    def file_owner(self, sha256: str) -> str | None:
        with self._lock:
            return self._sha_owner.get(sha256)

    # -- reviews ---------------------------------------------------------------------------

    def _index_review(self, review: Review, doc_id: int) -> None:
        self._review_ids[review.id] = doc_id
        for post in review.posts:
            self._review_by_post[_post_key(post.platform, post.channel, post.message_id)] = review.id

    def create_review(self, review: Review) -> Review:
        with self._lock:
            self._writable()
            if review.id in self._review_ids:
                raise ValueError(f"review {review.id} exists")
            self._index_review(review, self._reviews.insert(review.to_dict()))
            return review

    def review(self, review_id: str) -> Review | None:
        with self._lock:
            doc_id = self._review_ids.get(review_id)
            doc = self._reviews.get(doc_id=doc_id) if doc_id is not None else None
            return Review.from_dict(_copy(dict(doc))) if doc is not None else None

    def review_for_post(self, platform: str, channel: str, message_id: str) -> Review | None:
        with self._lock:
            review_id = self._review_by_post.get(_post_key(platform, channel, message_id))
            return self.review(review_id) if review_id else None

    def update_review(self, review_id: str, change: Callable[[Review], None]) -> Review:
        with self._lock:
            self._writable()
            review = self.review(review_id)
            if review is None:
                raise KeyError(review_id)
            change(review)
            doc_id = self._review_ids[review_id]
            self._reviews.update(_replace_with(review.to_dict()), doc_ids=[doc_id])
            self._index_review(review, doc_id)
            return review

    def reviews(self) -> list[Review]:
        with self._lock:
            return [Review.from_dict(_copy(dict(doc))) for doc in self._reviews.all()]

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

    def _apply(self, records: dict[str, Any]) -> None:
        for raw in (records.get("applicants") or {}).values():
            self._put_applicant(Applicant.from_dict(_copy(raw)))
        for raw in (records.get("reviews") or {}).values():
            self._put_review(Review.from_dict(_copy(raw)))

    def _put_applicant(self, applicant: Applicant) -> None:
        where = self._by_key.get(applicant.key)
        if where is None:
            shard = zlib.crc32(applicant.key.encode()) % SHARDS
            self._by_key[applicant.key] = (shard, self._shards[shard].insert(applicant.to_dict()))
        else:
            self._shards[where[0]].update(_replace_with(applicant.to_dict()), doc_ids=[where[1]])
        self._reindex_documents(applicant)

    def _put_review(self, review: Review) -> None:
        doc_id = self._review_ids.get(review.id)
        if doc_id is None:
            doc_id = self._reviews.insert(review.to_dict())
        else:
            self._reviews.update(_replace_with(review.to_dict()), doc_ids=[doc_id])
        self._index_review(review, doc_id)

    def _finish_interrupted_operations(self) -> None:
        unfinished = self.oplog.unapplied()
        for op in unfinished:
            self._apply(op.records)
            self.oplog.applied(op.id)
        if unfinished:
            log.warning("finished %d operation(s) a crash had interrupted", len(unfinished))

    # -- de-duplication --------------------------------------------------------------------

    def _load_events(self) -> int:
        try:
            raw = self._events_path.read_bytes()
        except FileNotFoundError:
            return 0
        if raw and not raw.endswith(b"\n"):  # a write cut short by a crash was never acknowledged
            raw = raw[: raw.rfind(b"\n") + 1]
            if not self.read_only:  # beside a live bot, the short line may be its append in progress
                write_atomically(self._events_path, raw)
        lines = raw.splitlines()
        for line in lines[-EVENT_MEMORY:]:  # integrity.inspect checked that each is an id
            self._seen[str(orjson.loads(line))] = None
        return len(lines)

    def _compact_events(self) -> None:
        ids = list(self._seen)[-EVENT_MEMORY:]
        write_atomically(self._events_path, b"".join(orjson.dumps(i) + b"\n" for i in ids))
        self._event_lines = len(ids)

    def first_time(self, event_id: str) -> bool:
        """Remember an event id; False when it was already processed (a platform retry)."""
        if not event_id:
            return True
        with self._lock:
            self._writable()
            if event_id in self._seen:
                return False
            append_fsynced(self._events_path, orjson.dumps(event_id) + b"\n")
            self._seen[event_id] = None
            self._event_lines += 1
            if len(self._seen) > EVENT_MEMORY:
                del self._seen[next(iter(self._seen))]
            if self._event_lines > 2 * EVENT_MEMORY:
                self._compact_events()
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
