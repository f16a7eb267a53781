"""Converting a data folder from the previous layout, at start-up, with a backup.

The previous layout: 16 applicant shards chosen by hash (`applicants-00..15.json`, each growing with
the folder) and one `reviews.json` holding every review round, with a manifest (version 1) that the
store rewrote after every write. The new one (bot/store.py): bounded shards, review rounds in
bounded `reviews-NN.json` shards, and a manifest with the index of every record.

Steps, each safe to interrupt:
1. the folder is checked in full (integrity.inspect): a damaged folder is never converted;
2. its database files and manifest are copied into `migration-backup-v1/` (a temp folder renamed
   into place, fsynced, then `COMPLETE` written in it);
3. the database files and the manifest are removed from the folder, and the store writes the
   records again from the backup into the new layout, then a new manifest;
4. `DONE` is written in the backup.
A crash after step 2 and before the new manifest exists starts over from step 3 with the backup.
`forget` deletes the backup (it holds the person too); otherwise remove it once satisfied.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import integrity
from bot.storage import (
    DIR_MODE,
    FILE_MODE,
    MAX_DATABASE_BYTES,
    fsync_dir,
    parse_database,
    read_generation,
    write_atomically,
)
from bot.storage import read_limited as _read

BACKUP = "migration-backup-v1"


@dataclass
class Legacy:
    applicants: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


_VERSION_HEAD = re.compile(rb'^\{"version":(\d+),')


def _manifest_version(folder: Path) -> int | None:
    """The manifest's version, from its first bytes when this version wrote it ("version" comes
    first): the whole manifest holds the index of every record, read once, by the store."""
    path = folder / integrity.MANIFEST
    try:
        with path.open("rb") as handle:
            match = _VERSION_HEAD.match(handle.read(32))
        if match is not None:
            return int(match.group(1))
        return integrity.Manifest.from_bytes(path.read_bytes()).version
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError):
        return None


def is_legacy(folder: Path) -> bool:
    """True when the folder holds the previous layout (or a conversion a crash interrupted)."""
    if not folder.is_dir():
        return False
    if _manifest_version(folder) == integrity.MANIFEST_VERSION:
        return False
    if (folder / BACKUP / "COMPLETE").exists() and not (folder / BACKUP / "DONE").exists():
        return True
    if (folder / integrity.REVIEWS).exists() or _manifest_version(folder) == 1:
        return True
    for name in integrity.table_files(folder):
        path = folder / name
        with contextlib.suppress(OSError):
            if (
                path.is_file()
                and not path.is_symlink()
                and path.stat().st_size
                and read_generation(path) is None
            ):
                return True
    return False


def prepare(folder: Path, *, read_only: bool, repair: bool = False) -> Legacy | None:
    """For a folder of the previous layout: back it up, empty it of database files and return its
    records for the store to write anew. None when there is nothing to convert."""
    if not is_legacy(folder):
        return None
    backup = folder / BACKUP
    if read_only:
        raise integrity.DataFolderDamaged(
            folder.parent,
            [
                integrity.Problem(
                    folder.name,
                    "is in the previous accessbot layout, which this version converts at start-up",
                    "start the bot once (it converts the folder, keeping a backup), then run this again",
                )
            ],
        )
    if not (backup / "COMPLETE").exists():
        found = integrity.inspect(folder, full=True)
        found.raise_if_damaged(accept_mismatches=repair)
        _back_up(folder, backup)
    legacy = _read_backup(backup)
    for name in [*integrity.table_files(folder), integrity.MANIFEST, integrity.MANIFEST_LOG]:
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    fsync_dir(folder)
    return legacy


def _back_up(folder: Path, backup: Path) -> None:
    tmp = folder / f".{BACKUP}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(backup, ignore_errors=True)
    tmp.mkdir(mode=DIR_MODE)
    for name in [*integrity.table_files(folder), integrity.MANIFEST]:
        source = folder / name
        if source.is_file():
            shutil.copyfile(source, tmp / name)
            os.chmod(tmp / name, FILE_MODE)
            with (tmp / name).open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(tmp)
    os.replace(tmp, backup)
    fsync_dir(folder)
    write_atomically(backup / "COMPLETE", b"")


def _read_backup(backup: Path) -> Legacy:
    legacy = Legacy()
    for name in integrity.table_files(backup):
        table = integrity.table_of(name)
        data, _generation = parse_database(backup / name, _read(backup / name, MAX_DATABASE_BYTES))
        docs = data.get(table or "", {})
        target = legacy.applicants if table == "applicants" else legacy.reviews
        target.extend(docs[k] for k in sorted(docs, key=int))
    return legacy


def finish(folder: Path) -> None:
    backup = folder / BACKUP
    if backup.is_dir() and not (backup / "DONE").exists():
        write_atomically(backup / "DONE", b"")


def remove_backup(folder: Path) -> bool:
    backup = folder / BACKUP
    if not backup.exists():
        return False
    shutil.rmtree(backup)
    fsync_dir(folder)
    return True
