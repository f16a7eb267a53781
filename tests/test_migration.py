"""The previous layout (16 hash shards, one reviews.json, a version-1 manifest) is converted at
start-up, with a backup; a conversion interrupted by a crash starts over from the backup."""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

import orjson
import pytest

from bot import integrity, migrate
from bot.models import Applicant, DocumentRecord, PostRef, Review
from bot.store import Store


def _legacy(data: Path, people: int = 40) -> None:
    data.mkdir(mode=0o700)
    shards: dict[int, dict[str, object]] = {n: {} for n in range(16)}
    for i in range(people):
        a = Applicant(
            key=f"console:p{i:02d}",
            lang="en",
            created="2026-01-01T00:00:00+00:00",
            updated="2026-01-01T00:00:00+00:00",
        )
        a.documents.append(DocumentRecord(f"{i:064x}", "citi", "2026-01-01T00:00:00+00:00", True, "report"))
        shard = zlib.crc32(a.key.encode()) % 16
        shards[shard][str(len(shards[shard]) + 1)] = a.to_dict()
    reviews: dict[str, object] = {
        str(i + 1): Review(
            id=f"r{i}",
            applicant=f"console:p{i:02d}",
            state="pending",
            created="2026-01-01T00:00:00+00:00",
            platform="console",
            posts=[PostRef("console", "rev", f"m{i}")],
        ).to_dict()
        for i in range(people)
    }
    tables = {}
    files: dict[str, tuple[str, dict[str, object]]] = {
        integrity.shard_name(n): ("applicants", docs) for n, docs in shards.items()
    }
    files[integrity.REVIEWS] = ("reviews", reviews)
    for name, (table, docs) in files.items():
        raw = orjson.dumps({table: docs, "_accessbot": {"generation": 3}})  # the old order: generation last
        (data / name).write_bytes(raw)
        tables[name] = {"generation": 3, "sha256": hashlib.sha256(raw).hexdigest(), "count": len(docs)}
    salt = os.urandom(16)
    (data / integrity.SALT).write_bytes(salt)
    manifest = {
        "version": 1,
        "written": "2026-01-01",
        "tables": tables,
        "audit_salt_sha256": hashlib.sha256(salt).hexdigest(),
        "audit_bytes": 0,
        "extras": [],
    }
    (data / integrity.MANIFEST).write_bytes(orjson.dumps(manifest))


def _check(store: Store, people: int = 40) -> None:
    assert store.count() == people
    assert store.file_owner(f"{7:064x}") == "console:p07"
    review = store.review_for_post("console", "rev", "m9")
    assert review is not None and review.applicant == "console:p09"
    assert len(store.pending_reviews()) == people


def test_the_previous_layout_is_converted_at_start_up_with_a_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _legacy(data)
    old = {p.name: p.read_bytes() for p in data.glob("*.json")}
    with Store(data) as store:
        _check(store)
    assert not (data / integrity.REVIEWS).exists() and (data / "reviews-00.json").exists()
    backup = data / migrate.BACKUP
    assert (backup / "DONE").exists()
    assert {p.name: p.read_bytes() for p in backup.glob("*.json")} == old  # the backup is the old folder
    manifest = integrity.Manifest.from_bytes((data / integrity.MANIFEST).read_bytes())
    assert manifest.version == integrity.MANIFEST_VERSION
    with Store(data) as store:  # converted once; the next start just reads the index
        _check(store)
    with Store(data, exclusive=False) as store:
        _check(store)


def test_a_conversion_cut_short_starts_over_from_the_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    _legacy(data)

    def crash(self: Store, legacy: migrate.Legacy) -> None:
        self._table(integrity.shard_name(0)).insert(legacy.applicants[0])  # half written
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_bulk_load", crash)
    with pytest.raises(KeyboardInterrupt):
        Store(data)
    monkeypatch.undo()
    with Store(data) as store:
        _check(store)


def test_a_damaged_old_folder_is_refused_not_converted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _legacy(data)
    (data / integrity.REVIEWS).write_bytes(b"{oops")
    with pytest.raises(integrity.DataFolderDamaged, match=r"reviews\.json"):
        Store(data)
    assert (data / integrity.REVIEWS).read_bytes() == b"{oops" and not (data / migrate.BACKUP).exists()


def test_a_read_only_opening_of_an_old_folder_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _legacy(data)
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(integrity.DataFolderDamaged, match="previous accessbot layout"):
        Store(data, exclusive=False)
    assert sorted(p.name for p in data.iterdir()) == before


def test_forget_removes_the_backup_that_holds_the_person(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _legacy(data)
    with Store(data) as store:
        report = store.forget("console:p03")
        assert report.found and migrate.BACKUP in report.extra_entries_removed
        assert store.get("console:p03") is None and store.reviews_of("console:p03") == []
    assert not (data / migrate.BACKUP).exists()
