"""The store: crash-safe writes, private files, a damaged database refused, one writer at a time."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.models import DocumentRecord, Review
from bot.storage import CorruptDatabase
from bot.store import Store, StoreLocked

WRITER = r"""
import sys
from pathlib import Path
from bot.store import Store
store = Store(Path(sys.argv[1]))
store.ensure("console:alice", lang="en")
n = int(sys.argv[2])
while True:
    n += 1
    store.update("console:alice", lambda a: a.reminders_sent.append(str(n)))
    store.first_time(f"event-{n}")
    print(n, flush=True)  # acknowledged: the write returned
"""


def test_sigkill_mid_stream_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rng = random.Random(7)
    acknowledged = 0
    for _round in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data), str(acknowledged)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + 10
        target = acknowledged + rng.randint(3, 40)
        last = acknowledged
        while last < target and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: it was already writing the next update
        proc.wait()
        assert last > acknowledged, proc.stderr.read() if proc.stderr else ""
        acknowledged = last
        with Store(data) as store:
            alice = store.get("console:alice")
            assert alice is not None
            written = [int(x) for x in alice.reminders_sent]
            assert written == list(range(1, len(written) + 1))  # no gaps, no corruption
            assert len(written) >= acknowledged
            assert not store.first_time(f"event-{acknowledged}")
            acknowledged = len(written)
    assert acknowledged > 15


def test_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        store.ensure("console:alice", lang="en")
        store.audit("console:alice", "test")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'{"applicants": 3}'])
def test_damaged_database_is_refused_not_replaced(tmp_path: Path, content: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "applicants-00.json").write_bytes(content)
    with pytest.raises(CorruptDatabase) as caught:
        Store(data)
    assert "applicants-00.json" in str(caught.value) and "backup" in str(caught.value)
    assert (data / "applicants-00.json").read_bytes() == content


def test_stale_temp_files_are_removed_and_second_writer_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".applicants.json.dead.tmp").write_text("half a write")
    with Store(data):
        assert not list(data.glob(".*.tmp"))
        with pytest.raises(StoreLocked):
            Store(data)
        Store(data, exclusive=False).close()  # read-only tools may still look


def test_record_ids_and_files_are_indexed_and_survive_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    doc = DocumentRecord(
        sha256="ab" * 32,
        step="citi",
        at="2026-01-01",
        accepted=True,
        kind="report",
        fields={"record_id": "999"},
    )
    with Store(data) as store:
        store.ensure("console:alice", lang="en")
        store.update("console:alice", lambda a: a.documents.append(doc))
        assert store.record_id_owner("999") == "console:alice"
    with Store(data) as store:
        assert store.record_id_owner("999") == "console:alice"
        assert store.file_owner("ab" * 32) == "console:alice"
        store.create_review(
            Review(id="r1", applicant="console:alice", state="pending", created="x", platform="console")
        )
        assert store.forget("console:alice")
        assert store.get("console:alice") is None and store.record_id_owner("999") is None
        assert store.review("r1") is None


def test_audit_has_no_raw_user_ids(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        store.audit("slack:U0123ABCD", "admin.forget", "slack:U0999ZZZZ")
        text = (tmp_path / "data" / "audit.jsonl").read_text()
        assert "U0123ABCD" not in text and "U0999ZZZZ" not in text
        assert store.pseudonym("slack:U0123ABCD") in text


def test_events_are_remembered_within_a_bound(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        assert store.first_time("e1") and not store.first_time("e1")


def test_event_log_is_bounded_compacted_and_survives_a_torn_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.event_ids as store_module

    monkeypatch.setattr(store_module, "EVENT_MEMORY", 50)
    data = tmp_path / "data"
    with Store(data) as store:
        for n in range(store_module.EVENT_MEMORY * 2 + 10):
            assert store.first_time(f"e{n}")
        lines = (data / "events.log").read_bytes().count(b"\n")
        assert lines <= store_module.EVENT_MEMORY * 2  # compacted
        assert not store.first_time(f"e{store_module.EVENT_MEMORY * 2 + 9}")
    with (data / "events.log").open("ab") as handle:
        handle.write(b'"half-writ')  # a crash mid-append: never acknowledged
    with Store(data) as store:
        assert not store.first_time(f"e{store_module.EVENT_MEMORY * 2 + 9}")  # remembered across restart
        assert store.first_time("half-writ") and store.first_time("next")
    assert (data / "events.log").read_bytes().endswith(b'"half-writ"\n"next"\n')
