"""Event ids (bot/event_ids.py): a retry is recognised, the id is on disk before the event's first
effect, claims share fsyncs, and a failed fsync leaves the event to its retry."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.application import Application
from bot.context import Context
from bot.event_ids import EventIds
from bot.events import DirectMessage, UserRef
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents


class GatedFsync:
    """os.fsync, except that the event log's waits for `release` and may fail on demand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, log_name: str = "events.log") -> None:
        self.real = os.fsync
        self.log_name = log_name
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.calls = 0
        self.fail: OSError | None = None
        monkeypatch.setattr(os, "fsync", self)

    def __call__(self, fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("/" + self.log_name):
            self.calls += 1
            self.started.set()
            assert self.gate.wait(10), "the test never released the fsync"
            if self.fail is not None:
                raise self.fail
        self.real(fd)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "events.log"
    path.touch(mode=0o600)  # an existing log: its folder entry needs no fsync
    return path


@pytest.fixture
def ids(log_path: Path) -> EventIds:
    return EventIds(log_path, read_only=False)


def test_a_retry_is_recognised_and_the_id_is_on_disk_after_durable(ids: EventIds, log_path: Path) -> None:
    claim = ids.claim("slack:Ev1")
    assert claim is not None
    claim.durable()
    assert log_path.read_bytes() == b'"slack:Ev1"\n'
    assert ids.claim("slack:Ev1") is None
    assert EventIds(log_path, read_only=False).claim("slack:Ev1") is None, "remembered across a restart"


def test_claims_made_while_the_disk_is_busy_share_one_fsync(
    ids: EventIds, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsync = GatedFsync(monkeypatch)
    fsync.gate.clear()
    first = ids.claim("e0")
    assert first is not None
    leader = _in_thread(first.durable)  # its fsync is on the disk...
    assert fsync.started.wait(5)
    later = [ids.claim(f"e{n}") for n in range(1, 20)]  # ...while nineteen more events arrive
    waiting = [_in_thread(c.durable) for c in later if c is not None]
    fsync.gate.set()
    for thread in [leader, *waiting]:
        thread.join(10)
        assert not thread.is_alive()
    assert len(waiting) == 19
    assert fsync.calls == 2, "one fsync for the first claim, one for the nineteen that came during it"


def test_a_failed_fsync_raises_and_leaves_the_event_to_its_retry(
    ids: EventIds, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsync = GatedFsync(monkeypatch)
    fsync.fail = OSError(5, "Input/output error")
    claim = ids.claim("e1")
    assert claim is not None
    with pytest.raises(OSError, match="Input/output"):
        claim.durable()
    fsync.fail = None
    retry = ids.claim("e1")
    assert retry is not None, "the platform's retry is handled, not skipped"
    retry.durable()


def test_a_new_log_s_folder_entry_is_fsynced_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    events = EventIds(tmp_path / "events.log", read_only=False)
    for n in range(3):
        claim = events.claim(f"e{n}")
        assert claim is not None
        claim.durable()
    assert synced.count(str(tmp_path)) == 1
    assert synced.count(str(tmp_path / "events.log")) >= 1


# -- in the dispatcher ------------------------------------------------------------------------


def _dm(event_id: str, text: str = "status") -> DirectMessage:
    return DirectMessage(event_id=event_id, user=UserRef("console", "alice"), text=text)


def _in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_no_reply_leaves_before_the_event_id_is_on_disk(
    bot: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = Driver(bot)
    fsync = GatedFsync(monkeypatch)
    fsync.gate.clear()
    worker = _in_thread(lambda: bot.dispatch(_dm("E1")))
    assert fsync.started.wait(5)
    worker.join(0.3)
    assert worker.is_alive() and driver.console.to("alice") == [], "replied before the id was durable"
    fsync.gate.set()
    worker.join(10)
    assert len(driver.console.to("alice")) == 1


def test_when_the_event_id_cannot_be_saved_the_person_is_told_and_the_retry_is_answered(
    bot: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = Driver(bot)
    fsync = GatedFsync(monkeypatch)
    fsync.fail = OSError(28, "No space left on device")
    bot.dispatch(_dm("E2"))
    told = driver.dm_texts("alice")
    assert len(told) == 1 and "try again" in told[0].lower(), told
    assert bot.store.get("console:alice") is None, "nothing was handled"
    fsync.fail = None
    bot.dispatch(_dm("E2"))  # the platform's retry
    answered = driver.dm_texts("alice")
    assert len(answered) == 2 and "try again" not in answered[1].lower(), answered
    assert bot.store.get("console:alice") is not None, "the retry was handled: alice is on record"


def test_matching_never_writes_or_sends_through_a_whole_journey(
    tmp_path: Path, bot: Application, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What lets the fsync overlap matching: every handler's match only reads. Checked around each
    match while alice applies, uploads, answers the form and a reviewer approves."""
    driver = Driver(bot)
    store, console = bot.store, driver.console
    audit = store.dir / "audit.jsonl"
    checked: list[str] = []
    wrote: list[str] = []

    def size() -> int:
        return audit.stat().st_size if audit.exists() else 0

    for handler in bot.handlers:
        real = handler.match

        def guarded(
            ctx: Context, real: Callable[[Context], object] = real, name: str = type(handler).__name__
        ) -> object:
            before = (len(store.writes), len(console.sent), size())
            found = real(ctx)
            if (len(store.writes), len(console.sent), size()) != before:
                wrote.append(name)  # not raised: the dispatcher would catch it and apologise
            checked.append(name)
            return found

        monkeypatch.setattr(handler, "match", guarded)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    driver.as_("alice").say("status")
    assert "approved" in " ".join(driver.dm_texts("alice")).lower()
    assert len(set(checked)) >= 10, sorted(set(checked))
    assert wrote == [], f"these matches wrote or sent: {sorted(set(wrote))}"
