"""A complete forget: after a whole journey with failures, nothing that names the person is left
in any byte of any file of the data folder (the pseudonymous audit aside), and a failed forget
never claims success."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import bot.storage as storage
from bot.application import Application
from bot.documents import Validator
from bot.store import ForgetFailed, Store
from tests.citi_pdfs import make_report
from tests.conftest import RULES, Clock, make_bot
from tests.journey import Driver, complete_package, write_documents

# Who alice is, as the bot read it from her and her CITI report (tests/citi_pdfs.make_report).
ALICE = {
    "name": "Alice Kim",
    "email": "alice@example.edu",
    "learner id": "1234567",
    "record id": "40512345",
    "PhysioNet username": "alice_kim",
}


def _keep_files_rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(
        RULES.read_text(encoding="utf-8").replace("keep_files: false", "keep_files: true"), encoding="utf-8"
    )
    return path


def _fail_shard_writes(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """The next `times` writes of an applicant shard fail as on a full disk; returns what failed."""
    failed: list[str] = []
    real: Callable[[Path, bytes], None] = storage.write_atomically

    def flaky(path: Path, payload: bytes) -> None:
        if path.name.startswith("applicants-") and len(failed) < times:
            failed.append(path.name)
            raise OSError(28, "No space left on device")
        real(path, payload)

    monkeypatch.setattr(storage, "write_atomically", flaky)
    return failed


def _leftovers(data: Path) -> dict[str, list[str]]:
    """Every file (files/ included) in which one of alice's identifiers appears, by identifier."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        if path.name == "audit.jsonl":
            continue  # pseudonymous by design; checked separately below
        raw = path.read_bytes().lower()
        for what, value in ALICE.items():
            if value.lower().encode() in raw:
                found.setdefault(what, []).append(str(path.relative_to(data)))
    return found


def test_forget_after_a_journey_with_failures_leaves_nothing(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    app: Application = make_bot(data, validator, clock, _keep_files_rules(tmp_path))
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    driver.as_("alice").say("hi")
    driver.say("alice_kim")
    driver.say("yes")  # the bot confirms the username before it records it
    # An upload whose record write fails: the kept copy of the file is left behind, an orphan.
    failed = _fail_shard_writes(monkeypatch, 1)
    driver.say(f"/upload {report}")
    monkeypatch.undo()
    assert failed, "the failure was injected"
    complete_package(driver, report, proof)  # the retry, and the rest of the package
    review_id = app.store.get("console:alice").review_id  # type: ignore[union-attr]
    assert review_id and app.store.review(review_id) is not None
    # bob uploads alice's report: what it says about alice now sits in bob's record
    driver.as_("bob").say("hi")
    driver.say("bob_lee")
    driver.say("yes")
    driver.say(f"/upload {report}")
    other = tmp_path / "docs" / "alice-again.pdf"
    other.write_bytes(make_report(name="Alice Kim", record_id="40512345", email="alice@example.edu"))
    driver.say(f"/upload {other}")
    bob = app.store.get("console:bob")
    assert bob is not None and any(d.fields.get("name") == "Alice Kim" for d in bob.documents)
    assert set(_leftovers(data)) == set(ALICE), "the journey stored every identifier somewhere"

    # A forget whose write fails says so, and the record is still there after a restart.
    _fail_shard_writes(monkeypatch, 100)
    with pytest.raises(ForgetFailed, match="did not finish"):
        app.store.forget("console:alice")
    monkeypatch.undo()
    app.close()
    with Store(data) as store:
        assert store.get("console:alice") is not None

    app = make_bot(data, validator, clock, _keep_files_rules(tmp_path))
    try:
        done = app.store.forget("console:alice")
        assert done and done.found and done.reviews_removed == [review_id]
        assert done.review_posts, "the lead edits these posts to say withdrawn"
        assert done.scrubbed == ["console:bob"] and done.files_removed >= 2
        app.store.audit("console:admin", "admin.forget", "console:alice")
    finally:
        app.close()
    assert _leftovers(data) == {}
    audit = (data / "audit.jsonl").read_bytes().lower()
    assert not any(v.lower().encode() in audit for v in ALICE.values())
    with Store(data) as store:  # and it holds after a restart
        assert store.get("console:alice") is None and store.record_id_owner("40512345") is None
        bob_after = store.get("console:bob")
        assert bob_after is not None and bob_after.key == "console:bob"
        assert all("Alice Kim" not in str(d.fields) for d in bob_after.documents)
        assert not list((data / "files").iterdir())


def test_forget_keeps_other_peoples_data(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        store.ensure("console:alice", lang="en", display_name="Alice Kim")
        store.ensure("console:alice2", lang="en", display_name="Alicia Kimball")
        store.update("console:alice2", lambda a: a.reminders_sent.append("console:alice2 told"))
        report = store.forget("console:alice")
        assert report.found and report.scrubbed == []
        other = store.get("console:alice2")
        assert other is not None and other.display_name == "Alicia Kimball"
        assert other.reminders_sent == ["console:alice2 told"]
        assert not store.forget("console:alice")  # a second time: nothing to forget


def test_forget_drops_event_ids_that_name_the_person(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        store.ensure("slack:U0123ABCD", lang="en")
        store.first_time("slack:action:U0123ABCD:1700000000.1")
        store.first_time("slack:Ev999")
        report = store.forget("slack:U0123ABCD")
        assert report.events_removed == 1
        assert b"U0123ABCD" not in (tmp_path / "data" / "events.log").read_bytes()
        assert not store.first_time("slack:Ev999")
