"""Storage that scales: bounded shards, an index read at start-up, bounded memory, keyed lookups,
a due-time index, and a reminder tick that writes nothing when nothing is due."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import integrity
from bot.documents import Validator
from bot.models import DocumentRecord, PostRef, Review
from bot.storage import AtomicJSONStorage, CorruptDatabase
from bot.store import Store
from tests.conftest import Clock, make_bot
from tests.journey import Driver


@pytest.fixture(autouse=True)
def _small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.store.SHARD_CAPACITY", 4)
    monkeypatch.setattr("bot.store.REVIEW_SHARD_CAPACITY", 3)
    monkeypatch.setattr("bot.store.CACHED_FILES", 2)


def _fill(store: Store, n: int = 30) -> list[str]:
    keys = [f"console:u{i:03d}" for i in range(n)]
    for i, key in enumerate(keys):
        store.ensure(key, lang="en")
        record = DocumentRecord(f"{i:064x}", "citi", "2026-01-01", True, "report")
        store.update(key, lambda a, record=record: a.documents.append(record))  # type: ignore[misc]
        store.create_review(
            Review(
                id=f"r{i}",
                applicant=key,
                state="pending" if i % 2 else "approved",
                created="2026-01-01T00:00:00+00:00",
                platform="console",
                posts=[PostRef("console", "reviewers", f"m{i}")],
                awaiting_reason_from=["console:rev"] if i % 5 == 1 else [],
            )
        )
    return keys


def test_shards_are_bounded_and_an_update_writes_one_small_file(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        keys = _fill(store)
        store.writes.clear()
        store.update(keys[17], lambda a: a.reminders_sent.append("x"))
        assert store.writes == [integrity.shard_name(17 // 4)]
        store.update_review("r17", lambda r: r.votes.update({"console:rev": "approve"}))
        assert store.writes[-1] == integrity.review_shard_name(17 // 3)  # a vote writes one small file
        assert len(store._cache) <= 2  # memory bounded: the least recently used shards are dropped
    data = tmp_path / "data"
    assert not (data / "reviews.json").exists()
    for path in [*data.glob("applicants-*.json"), *data.glob("reviews-*.json")]:
        table = integrity.table_of(path.name) or ""
        assert len(AtomicJSONStorage(str(path)).read()[table]) <= 4  # type: ignore[index]


def test_start_up_reads_the_index_not_the_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        _fill(store)
    monkeypatch.setattr("bot.integrity.FULL_CHECK_BYTES", 0)  # as a big folder is checked
    loads: list[str] = []
    real = AtomicJSONStorage._load

    def counting(self: AtomicJSONStorage) -> object:
        loads.append(self.path.name)
        return real(self)

    monkeypatch.setattr(AtomicJSONStorage, "_load", counting)
    with Store(data) as store:
        assert loads == [] and store.count() == 30
        # every lookup a message needs is keyed: each reads at most one shard
        assert store.file_owner(f"{7:064x}") == "console:u007"
        review = store.review_for_post("console", "reviewers", "m9")
        assert review is not None and review.id == "r9"
        assert sorted(r.id for r in store.reviews_awaiting_reason("console:rev")) == ["r1", "r11", "r21"]
        assert [r.id for r in store.reviews_of("console:u004")] == ["r4"]
        assert len(store.pending_reviews()) == 15
        assert len(set(loads)) <= 12


def test_a_lost_manifest_line_is_recovered_from_the_newer_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        _fill(store, 8)
        store.write_manifest()
        size = (data / integrity.MANIFEST_LOG).stat().st_size
        store.ensure("console:late", lang="en")
        store.update(
            "console:late",
            lambda a: a.documents.append(DocumentRecord("f" * 64, "citi", "x", True, "report")),
        )
        store._log_lines = 0  # a crash: no snapshot at close
        store.close()
    os.truncate(data / integrity.MANIFEST_LOG, size)  # the lines of those writes never reached the disk
    with Store(data) as store:
        assert store.get("console:late") is not None and store.file_owner("f" * 64) == "console:late"
        assert store.count() == 9


def test_the_due_index_names_only_who_is_due(tmp_path: Path, clock: Clock) -> None:
    with Store(tmp_path / "data") as store:
        keys = _fill(store, 10)
        store.set_due_rule(lambda a: "2026-02-01T00:00:00+00:00" if a.key in keys[:3] else "", "v1")
        from datetime import UTC, datetime

        assert list(store.due(datetime(2026, 1, 15, tzinfo=UTC))) == []
        assert sorted(store.due(datetime(2026, 3, 1, tzinfo=UTC))) == keys[:3]
    with Store(tmp_path / "data") as store:  # kept across restarts
        store.set_due_rule(lambda a: "", "v1")
        assert sorted(store.due(datetime(2026, 3, 1, tzinfo=UTC))) == keys[:3]


def _tree(folder: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            info = os.lstat(os.path.join(root, name))
            out[os.path.join(root, name)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return out


@pytest.fixture
def _bot(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[object]:
    bot = make_bot(tmp_path / "data", validator, clock)
    yield bot
    bot.close()


def test_a_tick_that_sends_nothing_writes_zero_bytes(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    bot = make_bot(tmp_path / "data", validator, clock)
    try:
        driver = Driver(bot)
        for name in ("ann", "ben", "cid", "dee", "eve", "fay"):
            driver.as_(name).say("hi")
        clock.advance(days=15)
        assert bot.tick() == 6  # the stale-step reminders go out, once
        clock.advance(days=1)
        before = _tree(bot.store.dir)
        written = len(bot.store.writes)
        assert bot.tick() == 0
        assert _tree(bot.store.dir) == before and len(bot.store.writes) == written  # 0 bytes written
    finally:
        bot.close()
    bot = make_bot(tmp_path / "data", validator, clock)  # across a restart: nothing sent twice
    try:
        assert bot.tick() == 0
    finally:
        bot.close()


def test_health_reads_the_heartbeat_not_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from bot import heartbeat
    from bot.doctor import health
    from bot.settings import Settings
    from tests.conftest import RULES

    data = tmp_path / "data"
    with Store(data) as store:
        _fill(store, 3)
    heartbeat.beat(data)
    (data / "reviews-00.json").write_bytes(b"{oops")  # not read: the heartbeat answers
    settings = Settings(data_dir=data, rules_path=RULES)
    out, err = io.StringIO(), io.StringIO()
    assert health(settings, out, err) == 0
    monkeypatch.setattr(heartbeat, "STALE_AFTER_S", -1.0)
    assert health(settings, out, err) == 1 and "heartbeat" in err.getvalue()


def test_queue_place_and_review_posts_come_from_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "data") as store:
        _fill(store, 12)
        store._cache.clear()
        store._ids.clear()
        loaded: list[str] = []
        real = AtomicJSONStorage._load

        def counting(self: AtomicJSONStorage) -> object:
            loaded.append(self.path.name)
            return real(self)

        monkeypatch.setattr(AtomicJSONStorage, "_load", counting)
        pending = sorted(f"r{i}" for i in range(12) if i % 2)  # oldest first, then by id (same times)
        assert store.queue_place("r5") == (pending.index("r5") + 1, len(pending))
        assert store.queue_place("r4") is None  # approved: not in the queue
        refs = store.review_post_refs("console", pending_only=True)
        assert refs == [("console", "reviewers", f"m{rid[1:]}") for rid in pending]
        assert len(store.review_post_refs("console")) == 12
        assert store.review_post_refs("slack") == []
        assert sorted(store.review_post_ids("console")) == sorted(f"m{i}" for i in range(12))
        assert store.review_post_ids("slack") == []
        assert loaded == []  # no record was read for any of it
        store.update_review("r5", lambda r: setattr(r, "state", "approved"))
        assert store.queue_place("r7") == (pending.index("r7"), len(pending) - 1)  # r5 left the queue


def test_a_pass_over_everyone_leaves_the_cache_alone_and_checks_the_files(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        keys = _fill(store, 12)
        store.get(keys[0])
        before = list(store._cache)
        assert [a.key for a in store.iter_all()] == keys
        assert [r["key"] for r in store.iter_raw()] == keys
        assert len(store.reviews()) == 12
        assert set(store._cache) == set(before)  # the messages' shards stay in memory
        store._cache.clear()
        store._ids.clear()
        shard = tmp_path / "data" / integrity.shard_name(1)
        shard.write_bytes(shard.read_bytes().replace(b'"lang":"en"', b'"lang":"ko"', 1))
        with pytest.raises(CorruptDatabase):  # changed outside accessbot: refused when read
            list(store.iter_all())
    with pytest.raises(integrity.DataFolderDamaged):  # and at the next start
        Store(tmp_path / "data")


def test_a_large_store_answers_before_the_estimates_are_worked_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import estimates
    from bot.rules_loader import load_rules

    rules = load_rules(Path(__file__).resolve().parent.parent / "rules.yaml")
    with Store(tmp_path / "data") as store:
        _fill(store, 6)
        cache = estimates.EstimateCache()
        read: list[int] = []
        real = store.iter_raw

        def counting() -> Iterator[Any]:
            read.append(1)
            return real()

        monkeypatch.setattr(store, "iter_raw", counting)
        monkeypatch.setattr(estimates, "INLINE_LIMIT", 3)
        started = threading.Event()
        release = threading.Event()
        real_refresh = cache.refresh

        def slow_refresh(r: Any, records: Any) -> bool:
            started.set()
            release.wait(5)
            return real_refresh(r, records)

        monkeypatch.setattr(cache, "refresh", slow_refresh)
        step = rules.steps[0].id
        assert cache.estimate(rules, store, step) is None  # not inline: worked out in the background
        assert started.wait(5)
        assert read == []
        release.set()
        for _ in range(100):
            if cache.estimate(rules, store, step) is not None:
                break
            time.sleep(0.05)
        assert cache.estimate(rules, store, step) is not None
        assert read == [1]
        monkeypatch.setattr(estimates, "INLINE_LIMIT", 100)
        small = estimates.EstimateCache()
        assert small.estimate(rules, store, step) is not None  # a small lab: inline, at once


def test_batched_reminders_survive_a_crash_before_sending_and_go_exactly_once(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("ann", "ben", "cid", "dee", "eve", "fay")
    bot = make_bot(tmp_path / "data", validator, clock)
    try:
        driver = Driver(bot)
        for name in names:
            driver.as_(name).say("hi")
        clock.advance(days=15)
        writes = len(bot.store.writes)

        def crash(*_args: object, **_kwargs: object) -> None:
            raise KeyboardInterrupt  # the process dies after the batch was committed, before sending

        with monkeypatch.context() as patch:
            patch.setattr(bot.services.messenger, "deliver", crash)
            with pytest.raises(KeyboardInterrupt):
                bot.tick()
        first = [n for n in names if bot.store.shard_of(f"console:{n}") == 0]
        assert len(first) == 4  # SHARD_CAPACITY 4 (the fixture): the first shard's four people
        assert bot.store.writes[writes:] == [integrity.shard_name(0)]  # one rewrite for all four
        assert not any("You have been on step" in t for n in names for t in driver.dm_texts(n))
    finally:
        bot.store.close()
    bot = make_bot(tmp_path / "data", validator, clock)  # the restart
    try:
        driver = Driver(bot)
        assert bot.redeliver() == 4  # the operation log still held the first shard's reminders
        assert bot.tick() == 2  # the other shard's, not sent before the crash
        assert bot.tick() == 0  # and each is marked sent: none twice
        for name in names:
            assert len([t for t in driver.dm_texts(name) if "You have been on step" in t]) == 1, name
    finally:
        bot.close()


def test_a_start_with_nothing_to_fold_does_not_rewrite_the_index(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        _fill(store, 5)
    manifest = tmp_path / "data" / integrity.MANIFEST
    before = _tree(tmp_path / "data")
    with Store(tmp_path / "data") as store:
        assert store.count() == 5
    assert _tree(tmp_path / "data") == before  # read, not rewritten
    with Store(tmp_path / "data") as store:
        store.update("console:u001", lambda a: a.reminders_sent.append("x"))
        store._log_lines = 0  # as if killed: the write is only in manifest.log
    snapshot = manifest.stat().st_mtime_ns, manifest.stat().st_ino
    with Store(tmp_path / "data") as store:  # the log's line is folded into a new snapshot
        assert "x" in store.get("console:u001").reminders_sent  # type: ignore[union-attr]
    assert (manifest.stat().st_mtime_ns, manifest.stat().st_ino) != snapshot
    assert (tmp_path / "data" / integrity.MANIFEST_LOG).stat().st_size == 0


def test_only_the_rounds_due_for_a_ping_are_read(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    with Store(tmp_path / "data") as store:
        _fill(store, 8)  # pending: r1 r3 r5 r7, created 2026-01-01
        store.update_review("r3", lambda r: setattr(r, "last_ping", "2026-01-10T00:00:00+00:00"))
        store.update_review("r5", lambda r: setattr(r, "posts", []))  # its post failed: retried
        cutoff = datetime(2026, 1, 5, tzinfo=UTC)
        assert {r.id for r in store.reviews_to_ping(cutoff)} == {"r1", "r5", "r7"}
        assert {r.id for r in store.reviews_to_ping(datetime(1970, 1, 1, tzinfo=UTC))} == {"r5"}
    with Store(tmp_path / "data") as store:  # kept in the index across a restart
        assert {r.id for r in store.reviews_to_ping(cutoff)} == {"r1", "r5", "r7"}


def test_only_claims_old_enough_to_be_stale_are_read(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    with Store(tmp_path / "data") as store:
        _fill(store, 8)  # pending: r1 r3 r5 r7
        store.update_review("r1", lambda r: _claim(r, "slack:URV", "2026-01-02T00:00:00+00:00"))
        store.update_review("r5", lambda r: _claim(r, "slack:URV", "2026-01-09T00:00:00+00:00"))
        cutoff = datetime(2026, 1, 5, tzinfo=UTC)
        assert [r.id for r in store.reviews_claimed_by_then(cutoff)] == ["r1"]
        assert {r.id for r in store.reviews_claimed_by_then(datetime(2026, 2, 1, tzinfo=UTC))} == {"r1", "r5"}
        store.update_review("r1", lambda r: setattr(r, "state", "approved"))
        assert store.reviews_claimed_by_then(cutoff) == [], "a decided round is not pending"
    with Store(tmp_path / "data") as store:  # kept in the index across a restart
        assert [r.id for r in store.reviews_claimed_by_then(datetime(2026, 2, 1, tzinfo=UTC))] == ["r5"]


def _claim(review: Review, by: str, at: str) -> None:
    review.claimed_by, review.claimed_at = by, at
