"""Export and stats made in worker processes (bot/report_workers.py) say exactly what the bot's own
process says: the same CSV bytes, the same stats lines, whatever the workers could not read, and
when the workers fail. Real processes, forked by multiprocessing's fork server."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import admin, integrity, report_workers
from bot.app import build_application
from bot.models import Applicant, Review, StepState
from bot.rules_loader import load_rules
from bot.settings import Settings
from bot.store import Store
from tests.conftest import RULES, Clock

RULES_ = load_rules(RULES)
PEOPLE = 70  # five shards of 16


@pytest.fixture
def store(tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """70 people at every point of the steps, some reopened, some waiting for the reviewers, and a
    reviewer; opened again, so that only the shards a message reads come into memory."""
    with Store(tmp_path / "data", clock=clock) as store:
        for n in range(PEOPLE):
            key = f"console:u{n:03d}"
            store.ensure(key, lang="ko" if n % 3 else "en")
            clock.advance(hours=n % 7 + 1)
            upto = n % (len(RULES_.steps) + 1)

            def change(a: Applicant, upto: int = upto, n: int = n) -> None:
                for step in RULES_.steps[:upto]:
                    a.steps[step.id] = StepState("done", store.now())
                if n % 5 == 0 and upto < len(RULES_.steps):
                    a.steps[RULES_.steps[upto].id] = StepState("reopened", store.now())
                if upto == len(RULES_.steps):
                    a.approved_at = store.now()

            def review(a: Applicant, n: int = n) -> None:
                a.review_id = f"r{n}"

            store.update(key, change)
            if upto == len(RULES_.steps) - 1:
                store.create_review(Review(f"r{n}", key, "pending", store.now(), "console"))
                store.update(key, review)
        reviewer = next(iter(RULES_.reviewers.users), None)
        if reviewer is not None:
            store.ensure(reviewer, lang="en")  # staff who only talked to the bot: in no report
    monkeypatch.setattr(integrity, "FULL_CHECK_BYTES", 0)  # opened as a big folder is: nothing preloaded
    with Store(tmp_path / "data", clock=clock) as store:
        store.get("console:u033")  # one shard in the cache: read by the bot, not by a worker
        yield store


def _in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_workers, "PARALLEL_FROM", 10**9)


def _in_workers(monkeypatch: pytest.MonkeyPatch, batch: int = 2) -> None:
    monkeypatch.setattr(report_workers, "PARALLEL_FROM", 1)
    monkeypatch.setattr(report_workers, "BATCH_FILES", batch)
    monkeypatch.setattr(report_workers, "cpus", lambda: 2)  # as on the 2-core machine the aims are for


def _export(store: Store, lang: str = "") -> tuple[str, int]:
    out = io.StringIO()
    count = admin.write_csv(out, store, RULES_, lang)
    return out.getvalue(), count


def _reference(store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[str, int], list[str]]:
    with monkeypatch.context() as m:
        _in_one_process(m)
        return _export(store, "ko"), admin.stats(store, RULES_)


class Counting:
    """Counts the shards the bot read itself (Store.progress_in)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real = store.progress_in

        def progress_in(name: str) -> object:
            self.names.append(name)
            return real(name)

        monkeypatch.setattr(store, "progress_in", progress_in)


def test_workers_make_the_same_export_and_stats(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    (text, count), stats = _reference(store, monkeypatch)
    assert count == PEOPLE and text.count("\n") == PEOPLE + 1
    _in_workers(monkeypatch)
    here = Counting(store, monkeypatch)
    assert _export(store, "ko") == (text, count)
    assert admin.stats(store, RULES_) == stats
    in_memory = [name for name, expected in store.applicant_files() if expected is None]
    assert sorted(set(here.names)) == sorted(in_memory)  # only what the store holds in memory
    assert len(in_memory) < len(store.applicant_files())  # the rest came from the workers


def test_a_file_that_changed_since_it_was_listed_is_read_by_the_bot(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    (text, count), stats = _reference(store, monkeypatch)
    _in_workers(monkeypatch)
    listed = store.applicant_files()
    on_disk = [name for name, expected in listed if expected is not None]
    assert on_disk, "the fixture should leave some shards out of memory"
    changed = on_disk[0]
    real = store.applicant_files

    def stale() -> list[tuple[str, tuple[int, str] | None]]:
        # As if a write landed between the listing and the worker's read: the checksum differs.
        return [(n, (e[0], "0" * 64) if e is not None and n == changed else e) for n, e in real()]

    monkeypatch.setattr(store, "applicant_files", stale)
    here = Counting(store, monkeypatch)
    assert _export(store, "ko") == (text, count)
    assert admin.stats(store, RULES_) == stats
    assert here.names.count(changed) == 2  # once for the export, once for the stats


def test_a_pool_that_cannot_start_leaves_the_report_to_the_bot(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (text, count), stats = _reference(store, monkeypatch)
    _in_workers(monkeypatch)

    class NoProcesses:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(report_workers, "ProcessPoolExecutor", NoProcesses)
    with caplog.at_level(logging.WARNING, "bot.report_workers"):
        assert _export(store, "ko") == (text, count)
        assert admin.stats(store, RULES_) == stats
    assert "report workers failed (BlockingIOError" in caplog.text


def test_a_worker_killed_mid_report_hands_the_rest_to_the_bot(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _in_workers(monkeypatch, batch=1)
    monkeypatch.setattr(report_workers, "AHEAD", 0)
    files = store.applicant_files()
    (store.dir.parent / "kill-on").write_text(files[2][0])
    with caplog.at_level(logging.WARNING, "bot.report_workers"):
        made = list(report_workers._in_workers(store, RULES_, "en", killer, files, 2))
    assert [batch for batch, _ in made] == [[f] for f in files]  # every batch, in order, once
    assert made[0][1] == [files[0][0]]  # made by a worker
    assert all(result is None for _, result in made[2:])  # from the killed one on: the bot's
    assert "report workers failed (BrokenProcessPool" in caplog.text


def killer(files: report_workers.Files) -> list[str]:
    """A task that kills its worker on the file named in `kill-on` beside the data folder (the
    fork server's workers do not see this process's monkeypatches); a worker imports this module
    to run it."""
    if files and files[0][0] == (report_workers._the_job().folder.parent / "kill-on").read_text():
        os._exit(9)
    return [name for name, _ in files]


def test_a_worker_exits_when_the_bot_is_gone(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    code = f"from bot import report_workers as w; w.WATCH_S = 0.05; w._end_with({gone.pid})"
    watcher = subprocess.run([sys.executable, "-c", code], timeout=20, check=False)
    assert watcher.returncode == 1


def test_few_people_are_reported_in_the_bot(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_workers, "PARALLEL_FROM", PEOPLE + 1)

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker should start for a small report")

    monkeypatch.setattr(report_workers, "ProcessPoolExecutor", no_pool)
    assert _export(store)[1] == PEOPLE


def test_report_workers_0_keeps_every_report_in_the_bot(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_workers(monkeypatch)

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("ACCESSBOT_REPORT_WORKERS=0: no worker may start")

    monkeypatch.setattr(report_workers, "ProcessPoolExecutor", no_pool)
    out = io.StringIO()
    assert admin.write_csv(out, store, RULES_, workers=0) == PEOPLE
    assert admin.stats(store, RULES_, workers=0)[0].startswith(f"{PEOPLE} people")


def test_the_settings_reach_the_pools(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ACCESSBOT_DATA_DIR": str(tmp_path / "data"),
            "ACCESSBOT_RULES": str(RULES),
            "ACCESSBOT_PDF_WORKERS": "1",
            "ACCESSBOT_REPORT_WORKERS": "3",
        }
    )
    app = build_application(settings)
    try:
        assert len(app.services.validator.worker_pids) == 1
        assert app.services.report_workers == 3
    finally:
        app.close()


def test_the_cli_starts_the_fork_server_only_for_a_big_folder(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[str] = []
    monkeypatch.setattr(report_workers, "_start_fork_server", lambda: started.append("yes"))
    monkeypatch.setattr(report_workers, "cpus", lambda: 2)
    report_workers.warm_up_for_folder(store.dir, 2)  # 70 people: reported in the bot's process
    assert started == []
    monkeypatch.setattr(report_workers, "PARALLEL_FROM", 64)  # five shards of 16 are "big" now
    report_workers.warm_up_for_folder(store.dir, 0)
    report_workers.warm_up_for_folder(tmp_path / "no such folder", 2)
    assert started == [], "not with ACCESSBOT_REPORT_WORKERS=0, nor for a folder that is not there"
    report_workers.warm_up_for_folder(store.dir, 2)
    assert started == ["yes"]
