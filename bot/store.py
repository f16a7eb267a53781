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
import threading
import zlib
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB

from bot.documents.summary import identity_of
from bot.models import Applicant, DocumentRecord, Review, to_iso, utc_now
from bot.oplog import OpLog
from bot.storage import (
    DIR_MODE,
    FILE_MODE,
    AtomicJSONStorage,
    append_fsynced,
    fsync_dir,
    remove_stale_temp_files,
    write_atomically,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
EVENT_MEMORY = 5000
SHARDS = 16


class StoreLocked(Exception):
    """Another accessbot process is using this data folder."""


class UnknownApplicant(KeyError):
    pass


def _copy(raw: Any) -> Any:
    return orjson.loads(orjson.dumps(raw))


def _post_key(platform: str, channel: str, message_id: str) -> str:
    return f"{platform}|{channel}|{message_id}"


class Store:
    def __init__(self, data_dir: Path, *, clock: Clock = utc_now, exclusive: bool = True) -> None:
        self.dir = data_dir
        self.clock = clock
        self._lock = threading.RLock()
        self.dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.chmod(self.dir, DIR_MODE)
        self._lock_file = self._acquire_folder_lock() if exclusive else None
        removed = remove_stale_temp_files(self.dir)
        if removed:
            log.warning("removed %d temp file(s) left by an interrupted write in %s", removed, self.dir)
        self._shard_dbs = [self._open(f"applicants-{n:02d}.json") for n in range(SHARDS)]
        self._shards = [db.table("applicants") for db in self._shard_dbs]
        self._reviews_db = self._open("reviews.json")
        self._reviews = self._reviews_db.table("reviews")
        self._audit_path = self.dir / "audit.jsonl"
        self._salt = self._load_salt()
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
        self._events_path = self.dir / "events.log"
        self._seen: dict[str, None] = {}
        self._event_lines = self._load_events()
        self.oplog = OpLog(self.dir / "oplog.jsonl")
        self._finish_interrupted_operations()

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

    def _open(self, name: str) -> TinyDB:
        path = self.dir / name
        db = TinyDB(str(path), storage=AtomicJSONStorage)
        if path.exists():
            os.chmod(path, FILE_MODE)
        return db

    def _load_salt(self) -> bytes:
        path = self.dir / "audit.salt"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(16))
                handle.flush()
                os.fsync(handle.fileno())
            fsync_dir(self.dir)
        return path.read_bytes()

    def close(self) -> None:
        with self._lock:
            for db in (*self._shard_dbs, self._reviews_db):
                db.close()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

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

    def forget(self, key: str) -> bool:
        """Delete everything about a person; the audit keeps a pseudonymous entry."""
        with self._lock:
            where = self._by_key.pop(key, None)
            if where is None:
                return False
            self._shards[where[0]].remove(doc_ids=[where[1]])
            for table in (self._record_owner, self._sha_owner):
                for k in [k for k, owner in table.items() if owner == key]:
                    del table[k]
            gone = [review.id for review in self.reviews() if review.applicant == key]
            if gone:
                self._reviews.remove(doc_ids=[self._review_ids[r] for r in gone])
                for rid in gone:
                    del self._review_ids[rid]
                self._review_by_post = {p: r for p, r in self._review_by_post.items() if r not in gone}
            for stored in self.files_dir.glob(f"{self.pseudonym(key)}-*"):
                stored.unlink()
            return True

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
            write_atomically(self._events_path, raw)
        lines = raw.splitlines()
        for line in lines[-EVENT_MEMORY:]:
            try:
                self._seen[str(orjson.loads(line))] = None
            except orjson.JSONDecodeError:
                log.warning("skipping a damaged line in %s", self._events_path)
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
            append_fsynced(self._audit_path, line)

    def audit_entries(self) -> Iterator[dict[str, Any]]:
        with contextlib.suppress(FileNotFoundError), self._audit_path.open("rb") as handle:
            for line in handle:
                with contextlib.suppress(orjson.JSONDecodeError):
                    yield orjson.loads(line)


def _replace_with(new: dict[str, Any]) -> Callable[[MutableMapping[str, Any]], None]:
    def apply(doc: MutableMapping[str, Any]) -> None:
        doc.clear()
        doc.update(new)

    return apply
