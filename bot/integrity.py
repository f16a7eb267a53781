"""Start-up integrity of the data folder: every file in its place and shape, checked against a manifest.

`inspect(folder)` reads the folder without changing anything and lists every problem it finds, each
naming the file and what to do; `Store` refuses to open a damaged folder (DataFolderDamaged, a
CorruptDatabase), `accessbot doctor` prints the same problems, and `accessbot admin repair` accepts
the files as they are when an admin says so (a restore from a backup of several moments).

The manifest (`manifest.json`) records, for each database file, the generation number of its last
write, its checksum and its number of records, plus the audit salt's checksum, the audit log's size
and the registered extra files seen. Every database file also carries its own generation
(bot/storage.py), and the store rewrites the manifest atomically after each write. So:

- a file whose generation equals the manifest's must have the manifest's checksum (else it was
  changed outside accessbot);
- a file newer than the manifest is accepted: a crash (or a full disk) between the data write and
  the manifest write leaves exactly that, and the file was parsed and checked record by record;
- a file older than the manifest, or missing while the manifest lists records in it, went back in
  time (a restored copy, a removed shard): people would be missing, so accessbot stops.

Readers beside a live bot read the manifest first and the data files after, so they can only see
files as new as the manifest or newer, never a false "older".
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import re
import stat
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import orjson

from bot.models import Applicant, Review, to_iso, utc_now
from bot.storage import (
    MAX_DATABASE_BYTES,
    CorruptDatabase,
    parse_database,
    read_generation,
    read_limited,
    write_atomically,
)

LEGACY_SHARDS = 16
"""The previous layout: 16 applicant shards by hash and one reviews.json (bot/migrate.py converts it)."""
SHARDS = LEGACY_SHARDS
MANIFEST = "manifest.json"
MANIFEST_LOG = "manifest.log"
SALT = "audit.salt"
EVENTS = "events.log"
AUDIT = "audit.jsonl"
FILES = "files"
HEARTBEAT = "heartbeat.json"
REVIEWS = "reviews.json"
"""The previous layout's one file of every review round (now `reviews-NN.json` shards)."""
SALT_BYTES = 16
MAX_LOG_BYTES = 64 * 1024 * 1024
"""events.log holds at most 10,000 short ids; a larger one is not accessbot's."""
MANIFEST_VERSION = 2
FULL_CHECK_BYTES = 32 * 1024 * 1024
"""A folder whose database files hold more than this is checked quickly at start-up (each file's
presence, size and generation against the manifest) and each file's checksum when it is first
loaded; `accessbot doctor` and `admin repair` always read everything."""

_BACKUP = "restore it from a backup (docs/deploy.md, 'Back up and restore')"
_REPAIR = (
    "if you restored these files on purpose, `accessbot admin repair` checks them and accepts them as"
    " they are"
)
_TABLE_FILE = re.compile(r"^(applicants|reviews)-(\d{2,6})\.json$")


def shard_name(n: int) -> str:
    return f"applicants-{n:02d}.json"


def review_shard_name(n: int) -> str:
    return f"reviews-{n:02d}.json"


def table_of(name: str) -> str | None:
    """The one table a database file holds ("applicants" or "reviews"), None for other files."""
    if name == REVIEWS:
        return "reviews"
    match = _TABLE_FILE.match(name)
    return match.group(1) if match else None


def shard_number(name: str) -> int:
    match = _TABLE_FILE.match(name)
    if match is None:
        raise ValueError(name)
    return int(match.group(2))


def table_files(folder: Path, manifest: Manifest | None = None) -> list[str]:
    """Every database file of the folder: those present, and those the manifest lists."""
    names = set(manifest.tables) if manifest else set()
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        names.update(e.name for e in os.scandir(folder) if table_of(e.name))
    return sorted(names, key=lambda n: (table_of(n) or "", n))


# -- extra files other modules keep in the data folder -----------------------------------------------


@dataclass(frozen=True)
class ExtraFile:
    """A file another part of accessbot keeps in the data folder (e.g. a journal or an outbox).

    Registered files are checked like the store's own: never a link or a folder, 0600, `validate`d
    at start-up; once listed in the manifest, a `required` one that disappears stops the bot; and
    `Store.forget` calls `forget` so the file loses what it holds about the person."""

    name: str
    required: bool = False
    validate: Callable[[bytes], str | None] | None = None
    """The file's bytes -> a problem in words, or None when they are fine."""
    fix: str = ""
    """What the admin should do when it is damaged (default: restore from a backup or move aside)."""
    forget: Callable[[Path, ForgetTarget], int] | None = None
    """Remove the person from the file (its path, who) -> how many entries were removed."""
    max_bytes: int = MAX_DATABASE_BYTES


@dataclass(frozen=True)
class ForgetTarget:
    """Who is being forgotten: their key and every identifying text read from their documents."""

    key: str
    pseudonym: str
    identifiers: frozenset[str]

    def mentions(self, text: str) -> bool:
        folded = text.casefold()
        return any(i in folded for i in self.identifiers)


_EXTRAS: dict[str, ExtraFile] = {}


def register_file(extra: ExtraFile) -> None:
    """Declare a file kept in the data folder (call at import time of the module that owns it)."""
    if table_of(extra.name) or extra.name in (MANIFEST, MANIFEST_LOG, SALT, EVENTS, AUDIT, FILES, HEARTBEAT):
        raise ValueError(f"{extra.name} is one of the store's own files")
    _EXTRAS[extra.name] = extra


def unregister_file(name: str) -> None:
    _EXTRAS.pop(name, None)


def extra_files() -> tuple[ExtraFile, ...]:
    return tuple(_EXTRAS.values())


# -- problems ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    detail: str
    fix: str
    acceptable: bool = False
    """A disagreement with the manifest that `accessbot admin repair` may accept (the file is sound)."""
    code: str = ""
    """`salt_missing` for the one problem `accessbot admin repair --new-salt` resolves."""

    def render(self) -> str:
        said = (
            self.detail if self.detail.startswith(("is ", "was ", "has ")) else f"is damaged: {self.detail}"
        )
        return f"- {self.file} {said}\n  what to do: {self.fix}"


class DataFolderDamaged(CorruptDatabase):
    """The data folder has missing or damaged files; `str()` names each and what to do."""

    def __init__(self, folder: Path, problems: list[Problem]) -> None:
        Exception.__init__(
            self,
            f"the data folder {folder} has {len(problems)} problem(s); accessbot will not start over it,"
            " so nothing is lost. For each file:\n" + "\n".join(p.render() for p in problems),
        )
        self.path = folder / problems[0].file if problems else folder
        self.folder = folder
        self.problems = problems


# -- the manifest --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRecord:
    generation: int
    sha256: str
    count: int


@dataclass
class Manifest:
    """What the files held at the last write: `manifest.json` (a snapshot, with the index of every
    record) and the lines of `manifest.log` after it (one per write, appended, not fsynced: a line
    lost in a crash only makes its file look newer than the manifest, which is accepted)."""

    tables: dict[str, FileRecord] = field(default_factory=dict)
    salt_sha256: str = ""
    audit_bytes: int = 0
    extras: list[str] = field(default_factory=list)
    written: str = ""
    version: int = MANIFEST_VERSION
    index: dict[str, Any] = field(default_factory=dict)
    """{"applicants": {key: entry}, "reviews": {id: entry}, "due_version": str} (bot/index.py)."""

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "version": MANIFEST_VERSION,
                "written": self.written,
                "tables": {name: dataclasses.asdict(r) for name, r in sorted(self.tables.items())},
                "audit_salt_sha256": self.salt_sha256,
                "audit_bytes": self.audit_bytes,
                "extras": sorted(self.extras),
                "index": self.index,
            }
        )

    def apply(self, line: dict[str, Any]) -> None:
        """One `manifest.log` line: a write of file `f` at generation `g` (ignored when the snapshot
        is already as new: a crash between a snapshot and emptying the log leaves such lines)."""
        name, generation = str(line["f"]), int(line["g"])
        listed = self.tables.get(name)
        if listed is not None and listed.generation >= generation:
            return
        self.tables[name] = FileRecord(generation, str(line["h"]), int(line["n"]))
        self.audit_bytes = max(self.audit_bytes, int(line.get("ab", 0)))
        self.extras = sorted(set(self.extras) | set(line.get("x", [])))
        for part in ("applicants", "reviews"):
            entries = self.index.setdefault(part, {})
            for key, entry in (line.get(part[0]) or {}).items():
                if entry is None:
                    entries.pop(key, None)
                else:
                    entries[key] = entry
        if "dv" in line:
            self.index["due_version"] = line["dv"]

    @staticmethod
    def from_bytes(raw: bytes) -> Manifest:
        """Raises ValueError when the bytes are not a manifest."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") not in (1, MANIFEST_VERSION):
            raise ValueError(f"not an accessbot manifest (version 1 or {MANIFEST_VERSION})")
        tables = data.get("tables")
        if not isinstance(tables, dict):
            raise ValueError("its tables are missing")
        records: dict[str, FileRecord] = {}
        for name, entry in tables.items():
            if not isinstance(entry, dict):
                raise ValueError(f"its entry for {name} is damaged")
            g, s, c = entry.get("generation"), entry.get("sha256"), entry.get("count")
            if not (_is_int(g) and isinstance(s, str) and _is_int(c)):
                raise ValueError(f"its entry for {name} is damaged")
            records[name] = FileRecord(g, s, c)
        salt, audit, extras = data.get("audit_salt_sha256"), data.get("audit_bytes"), data.get("extras")
        if not (isinstance(salt, str) and _is_int(audit) and isinstance(extras, list)):
            raise ValueError("its audit or extras entries are damaged")
        index = data.get("index", {})
        if not isinstance(index, dict):
            raise ValueError("its index is damaged")
        return Manifest(
            records,
            salt,
            audit,
            [str(e) for e in extras],
            str(data.get("written", "")),
            data["version"],
            index,
        )


def _is_int(value: object) -> typing.TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """A new snapshot, then an empty log (a crash between the two leaves lines `apply` skips)."""
    manifest.written = to_iso(utc_now())
    write_atomically(folder / MANIFEST, manifest.to_bytes())
    log = folder / MANIFEST_LOG
    if log.exists() and log.stat().st_size:
        write_atomically(log, b"")


def append_manifest_log(folder: Path, line: dict[str, Any]) -> int:
    """Append one write's line; returns the log's size after it. No fsync (see Manifest)."""
    fd = os.open(folder / MANIFEST_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, orjson.dumps(line) + b"\n")
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


# -- records -------------------------------------------------------------------------------------------


def record_problem(raw: object, cls: type) -> str | None:
    """Why a stored record is not a valid `cls` (Applicant or Review), or None."""
    if not isinstance(raw, dict):
        return f"is not a record (got {type(raw).__name__})"
    return _dataclass_problem(raw, cls)


@functools.cache
def _shape(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    return typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def _dataclass_problem(raw: Mapping[str, Any], cls: type) -> str | None:
    hints, fields = _shape(cls)
    for name in raw:
        if name not in fields:
            return f"has an unknown field {name!r} (written by a newer accessbot?)"
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                return f"lacks its {name!r}"
            continue
        problem = _value_problem(raw[name], hints[name])
        if problem is not None:
            return f"{name} {problem}"
    return None


def _value_problem(value: object, tp: Any) -> str | None:
    origin = get_origin(tp)
    if tp is Any:
        return None
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if any(_value_problem(value, o) is None for o in options):
            return None
        return f"has the wrong type ({type(value).__name__})"
    if origin is Literal:
        return None if value in get_args(tp) else f"is {value!r}, not one of {', '.join(get_args(tp))}"
    if origin is dict:
        if not isinstance(value, dict):
            return f"must be a mapping (got {type(value).__name__})"
        item = get_args(tp)[1]
        for k, v in value.items():
            problem = _value_problem(v, item)
            if problem is not None:
                return f"[{k!r}] {problem}"
        return None
    if origin is list:
        if not isinstance(value, list):
            return f"must be a list (got {type(value).__name__})"
        item = get_args(tp)[0]
        for i, v in enumerate(value):
            problem = _value_problem(v, item)
            if problem is not None:
                return f"[{i}] {problem}"
        return None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            return f"must be a mapping (got {type(value).__name__})"
        return _dataclass_problem(value, tp)
    if tp is type(None):
        return None if value is None else "must be empty"
    if tp in (str, int, bool, float):
        ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        return None if ok else f"must be {tp.__name__} (got {type(value).__name__})"
    return None


# -- inspecting a folder -------------------------------------------------------------------------------


@dataclass
class Loaded:
    """One database file as found: its tables (None when absent), generation and checksum."""

    name: str
    data: dict[str, Any] | None
    generation: int
    sha256: str

    @property
    def docs(self) -> dict[str, Any]:
        return dict((self.data or {}).get(table_of(self.name) or "", {}))


@dataclass
class Inspection:
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, Loaded] = field(default_factory=dict)
    manifest: Manifest | None = None
    salt: bytes | None = None
    has_data: bool = False

    def add(self, file: str, detail: str, fix: str = "", *, acceptable: bool = False, code: str = "") -> None:
        fix = fix or f"{_BACKUP}, or move it aside if you can do without what it holds"
        self.problems.append(Problem(file, detail, fix, acceptable, code))

    def raise_if_damaged(self, *, accept_mismatches: bool = False, new_salt: bool = False) -> None:
        """Raise DataFolderDamaged listing every problem, less those an admin's repair accepts."""
        problems = [
            p
            for p in self.problems
            if not (accept_mismatches and p.acceptable) and not (new_salt and p.code == "salt_missing")
        ]
        if problems:
            raise DataFolderDamaged(self.folder, problems)


def inspect(
    folder: Path, extras: Iterable[ExtraFile] | None = None, *, full: bool | None = None
) -> Inspection:
    """Check a data folder without changing anything; every problem found is listed, none raised.

    `full`: read and check every record of every file (None: when they hold at most
    FULL_CHECK_BYTES, else the quick check described there)."""
    found = Inspection(folder)
    if not folder.exists():
        return found
    if not folder.is_dir():
        found.add(".", f"{folder} is not a folder", "point ACCESSBOT_DATA_DIR at the data folder")
        return found
    found.manifest = _read_manifest(found)  # first: files read after it can only be as new or newer
    checks: list[tuple[str, Callable[[], None]]] = [
        ("database files", lambda: _check_tables(found, full)),
        (SALT, lambda: _check_salt(found)),
        (EVENTS, lambda: _check_events(found)),
        (AUDIT, lambda: _check_audit(found)),
        (FILES, lambda: _check_files_dir(found)),
    ]
    for extra in extra_files() if extras is None else extras:
        checks.append((extra.name, lambda extra=extra: _check_extra(found, extra)))  # type: ignore[misc]
    for name, check in checks:
        try:
            check()
        except OSError as exc:  # a folder or file the checks cannot even look at
            found.add(name, f"cannot be examined ({exc.strerror or exc})", _chown(folder))
    return found


def _chown(folder: Path) -> str:
    return f"give the folder back to the user running accessbot: chown -R {os.geteuid()} {folder}"


def _read_manifest(found: Inspection) -> Manifest | None:
    path = found.folder / MANIFEST
    try:
        raw = read_limited(path, MAX_DATABASE_BYTES)  # the index of every record: it grows with the data
    except FileNotFoundError:
        return None
    except CorruptDatabase as exc:
        found.add(MANIFEST, _detail(exc), "move it aside; then `accessbot admin repair` writes a new one")
        return None
    try:
        manifest = Manifest.from_bytes(raw)
    except ValueError as exc:
        found.add(
            MANIFEST,
            f"is damaged ({exc})",
            "move it aside; `accessbot admin repair` checks every file and writes a new one",
        )
        return None
    try:
        log_bytes = read_limited(found.folder / MANIFEST_LOG, MAX_DATABASE_BYTES)
    except FileNotFoundError:
        return manifest
    except CorruptDatabase as exc:
        found.add(MANIFEST_LOG, _detail(exc), "move it aside; `accessbot admin repair` writes a new manifest")
        return manifest
    for number, line in enumerate(log_bytes.split(b"\n")[:-1], start=1):  # a last piece: cut short
        try:
            manifest.apply(orjson.loads(line))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            found.add(
                MANIFEST_LOG,
                f"line {number} is damaged",
                "move it aside; `accessbot admin repair` checks every file and writes a new manifest",
                acceptable=True,
            )
            break
    return manifest


def _detail(exc: CorruptDatabase) -> str:
    text = str(exc)
    start, end = text.find("("), text.find("). accessbot")
    return text[start + 1 : end] if 0 <= start < end else text


def _fix(exc: CorruptDatabase) -> str:
    return str(exc).split("so nothing is lost. ", 1)[-1]


def _lstats(folder: Path, names: list[str]) -> dict[str, os.stat_result]:
    """Each present file's lstat, taken once for the size total and the quick check (plain
    strings: at 7,000 files, pathlib's objects cost more than the system calls)."""
    base = str(folder)
    out: dict[str, os.stat_result] = {}
    for name in names:
        with contextlib.suppress(OSError):
            out[name] = os.lstat(os.path.join(base, name))
    return out


def _quick(found: Inspection, name: str, listed: FileRecord | None, info: os.stat_result | None) -> bool:
    """True when the file is what the manifest lists (same generation, a plain file of a sane size):
    its checksum is then checked when the store first loads it."""
    if listed is None or info is None:
        return False
    try:
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_DATABASE_BYTES:
            return False
        generation = read_generation(os.path.join(str(found.folder), name))
    except OSError:
        return False
    if generation != listed.generation:
        return False
    found.tables[name] = Loaded(name, None, generation, listed.sha256)
    if listed.count:
        found.has_data = True
    return True


def _check_tables(found: Inspection, full: bool | None) -> None:
    manifest = found.manifest
    owners: dict[str, str] = {}
    review_ids: dict[str, str] = {}
    any_generation = False
    names = table_files(found.folder, manifest)
    infos = _lstats(found.folder, names)
    if full is None:
        full = sum(info.st_size for info in infos.values()) <= FULL_CHECK_BYTES
    for name in names:
        table = table_of(name) or ""
        listed = manifest.tables.get(name) if manifest else None
        if not full and _quick(found, name, listed, infos.get(name)):
            any_generation = True
            continue
        path = found.folder / name
        try:
            raw = read_limited(path, MAX_DATABASE_BYTES)
        except FileNotFoundError:
            found.tables[name] = Loaded(name, None, 0, "")
            if listed is not None and listed.count > 0:
                what = "people" if table == "applicants" else "review rounds"
                found.add(
                    name,
                    f"is missing, but the manifest lists {listed.count} {what} in it"
                    " (starting without it would lose them)",
                    f"{_BACKUP}; {_REPAIR} (without those {what})",
                    acceptable=True,
                )
            continue
        except CorruptDatabase as exc:
            found.add(name, _detail(exc), _fix(exc))
            continue
        try:
            data, generation = parse_database(path, raw)
        except CorruptDatabase as exc:
            found.add(name, _detail(exc))
            continue
        sha = hashlib.sha256(raw).hexdigest()
        any_generation = any_generation or generation > 0
        loaded = Loaded(name, data, generation, sha)
        found.tables[name] = loaded
        unknown = [t for t in data if t != table]
        if unknown:
            found.add(name, f"holds a table {unknown[0]!r}; only {table!r} belongs in this file")
            continue
        # A file exactly as accessbot last wrote it (the manifest's generation and checksum) holds
        # records it wrote itself: only the cheap cross-file checks are needed.
        verified = listed is not None and generation == listed.generation and sha == listed.sha256
        if _check_docs(found, loaded, owners, review_ids, shapes=not verified):
            found.has_data = True
        if listed is not None:
            if generation < listed.generation:
                found.add(
                    name,
                    f"is older than the last write accessbot made to it (generation {generation},"
                    f" the manifest expects {listed.generation} or newer): it was replaced by an older copy",
                    f"{_BACKUP} taken together with the rest of the folder; {_REPAIR}",
                    acceptable=True,
                )
            elif generation == listed.generation and sha != listed.sha256:
                found.add(
                    name,
                    "was changed outside accessbot (its checksum differs from the manifest's)",
                    f"{_BACKUP}; {_REPAIR}",
                    acceptable=True,
                )
    if manifest is None and any_generation:
        found.add(
            MANIFEST,
            "is missing, but the database files were written by an accessbot that keeps one"
            " (so files may have been removed too)",
            f"{_BACKUP}; or `accessbot admin repair` checks every file and writes a new one",
            acceptable=True,
        )


def _check_docs(
    found: Inspection, loaded: Loaded, owners: dict[str, str], reviews: dict[str, str], *, shapes: bool
) -> bool:
    table = table_of(loaded.name) or ""
    docs = (loaded.data or {}).get(table, {})
    cls: type = Applicant if table == "applicants" else Review
    for doc_id, doc in docs.items():
        if not str(doc_id).isdigit():
            found.add(loaded.name, f"has a record under {doc_id!r}, not a record number")
            return bool(docs)
        problem = record_problem(doc, cls) if shapes else None
        if problem is not None:
            found.add(loaded.name, f"record {doc_id} {problem}")
            return bool(docs)
        key = doc["key"] if table == "applicants" else doc["id"]
        if not key:
            found.add(loaded.name, f"record {doc_id} has an empty {'key' if table == 'applicants' else 'id'}")
            return bool(docs)
        seen = owners if table == "applicants" else reviews
        if key in seen:
            other = seen[key]
            found.add(
                loaded.name,
                f"record {doc_id} ({'an applicant' if table == 'applicants' else 'a review round'} also"
                f" stored in {other}) is a duplicate: two versions of one record",
                f"keep the right version: {_BACKUP}, or remove the stale record from one file by hand",
            )
            continue
        seen[key] = loaded.name
    return bool(docs)


def _check_salt(found: Inspection) -> None:
    path = found.folder / SALT
    listed = found.manifest.salt_sha256 if found.manifest else ""
    try:
        raw = read_limited(path, 1024)
    except FileNotFoundError:
        audit = found.folder / AUDIT
        has_audit = audit.is_file() and audit.stat().st_size > 0
        if listed or found.has_data or has_audit:
            found.add(
                SALT,
                "is missing while the folder holds data: a new salt would silently change every"
                " audit pseudonym, so accessbot will not make one",
                f"{_BACKUP} (the salt belongs with the audit it came with); if it is truly lost,"
                " `accessbot admin repair --new-salt` makes a new one and notes the change in the audit",
                code="salt_missing",
            )
        return
    except CorruptDatabase as exc:
        found.add(SALT, _detail(exc), _fix(exc))
        return
    if len(raw) != SALT_BYTES:
        found.add(SALT, f"is {len(raw)} bytes, not the {SALT_BYTES} accessbot writes")
        return
    if listed and hashlib.sha256(raw).hexdigest() != listed:
        found.add(
            SALT,
            "has changed since accessbot last wrote the manifest: the audit's pseudonyms would no"
            " longer match its earlier entries",
            f"put back the original audit.salt ({_BACKUP}); {_REPAIR}",
            acceptable=True,
        )
    found.salt = raw


def _check_events(found: Inspection) -> None:
    path = found.folder / EVENTS
    fix = (
        "move events.log aside: it only remembers recently processed event ids, so a platform's"
        " retry of a recent event may be handled twice"
    )
    try:
        raw = read_limited(path, MAX_LOG_BYTES)
    except FileNotFoundError:
        return
    except CorruptDatabase as exc:
        found.add(EVENTS, _detail(exc), fix)
        return
    lines = raw.split(b"\n")
    complete = lines[:-1]  # the last piece lacks its newline: a write cut short, never acknowledged
    for number, line in enumerate(complete, start=1):
        try:
            ok = isinstance(orjson.loads(line), str)
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            found.add(EVENTS, f"line {number} is not an event id ({line[:40]!r})", fix)
            return


def _check_audit(found: Inspection) -> None:
    path = found.folder / AUDIT
    try:
        info = path.lstat()
    except FileNotFoundError:
        if found.manifest and found.manifest.audit_bytes:
            found.add(
                AUDIT,
                "is missing, but the manifest saw it hold data",
                f"{_BACKUP}; {_REPAIR}",
                acceptable=True,
            )
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        found.add(AUDIT, "is not a plain file (a link or a folder)", f"move it aside and {_BACKUP}")
        return
    if found.manifest and info.st_size < found.manifest.audit_bytes:
        found.add(
            AUDIT,
            f"is shorter ({info.st_size:,} bytes) than when the manifest was written"
            f" ({found.manifest.audit_bytes:,}): the append-only audit lost entries",
            f"{_BACKUP}; {_REPAIR}",
            acceptable=True,
        )


def _check_files_dir(found: Inspection) -> None:
    path = found.folder / FILES
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        found.add(
            FILES, "is not a folder (a link or a file)", "move it aside; kept files live in a plain folder"
        )
        return
    for entry in os.scandir(path):
        if entry.is_symlink():
            found.add(
                f"{FILES}/{entry.name}",
                "is a symbolic link: kept files are plain files",
                "remove the link (kept files are copies of uploads)",
            )


def _check_extra(found: Inspection, extra: ExtraFile) -> None:
    path = found.folder / extra.name
    try:
        raw = read_limited(path, extra.max_bytes)
    except FileNotFoundError:
        if extra.required and found.manifest and extra.name in found.manifest.extras:
            found.add(
                extra.name, "is missing, but the manifest lists it", extra.fix or f"{_BACKUP}; {_REPAIR}"
            )
        return
    except CorruptDatabase as exc:
        found.add(extra.name, _detail(exc), extra.fix or _fix(exc))
        return
    if extra.validate is not None:
        try:
            problem = extra.validate(raw)
        except Exception as exc:  # a validator must not turn a damaged file into a traceback
            problem = f"cannot be checked ({type(exc).__name__}: {exc})"
        if problem:
            found.add(extra.name, problem, extra.fix)


# -- permissions ---------------------------------------------------------------------------------------


def enforce_permissions(folder: Path, file_mode: int = 0o600, dir_mode: int = 0o700) -> int:
    """chmod the folder, files/ and every plain file in them (links are left alone); returns how many."""
    changed = 0
    for directory in (folder, folder / FILES):
        try:
            info = directory.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        if stat.S_IMODE(info.st_mode) != dir_mode:
            os.chmod(directory, dir_mode)
            changed += 1
        for entry in os.scandir(directory):
            if entry.is_symlink():
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            wanted = file_mode if stat.S_ISREG(mode) or stat.S_ISSOCK(mode) else None
            if wanted is not None and stat.S_IMODE(mode) != wanted:
                os.chmod(entry.path, wanted)
                changed += 1
    return changed
