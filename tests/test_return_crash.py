"""A return for changes and a package's coming back survive a crash at any point: the operation is
finished at start-up, what it left to send is sent once, and the post is never doubled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.application import Application
from bot.documents import Validator
from tests.citi_pdfs import DEFAULT_MODULES, make_report
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents
from tests.test_crash_safety import Crash, _app, _crash_on, _die


def _returned(tmp_path: Path, validator: Validator, clock: Clock) -> tuple[Application, Driver, str]:
    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review_id = app.store.get("console:alice").review_id  # type: ignore[union-attr]
    return app, driver, review_id


def _new_report(tmp_path: Path, clock: Clock) -> Path:
    today = clock().date()
    path = tmp_path / "docs" / "again.pdf"
    path.write_bytes(
        make_report(
            name="Alice Kim",
            record_id="40588888",
            completion=today - timedelta(days=1),
            expiration=today + timedelta(days=1093),
            modules=(*DEFAULT_MODULES, "Internet-Based Research"),
        )
    )
    return path


def test_a_return_decided_but_not_sent_is_told_after_a_restart_once(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, driver, review_id = _returned(tmp_path, validator, clock)
    _crash_on(monkeypatch, app.services.messenger, "_carry_out")  # dies right after the decision
    with pytest.raises(Crash):
        driver.as_("reviewer").say(f"return {review_id} 2 1 the course is Biomedical")
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    fresh = Driver(again)
    review = again.store.review(review_id)
    assert review is not None and review.state == "returned"
    assert again.store.get("console:alice").steps["citi_training"].status == "reopened"  # type: ignore[union-attr]
    assert again.redeliver() >= 1
    told = fresh.dm_texts("alice")
    assert any("another course" in t and "the course is Biomedical" in t for t in told), told
    assert any("Returned for changes" in e.message.text for e in fresh.console.edits)
    assert again.redeliver() == 0, "each delivery is sent once"
    again.close()


def test_a_return_cut_short_between_its_records_is_finished_at_start_up(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, driver, review_id = _returned(tmp_path, validator, clock)
    # The operation is logged and the review written; the process dies before the applicant is.
    _crash_on(monkeypatch, app.services.store, "_put_applicant")
    with pytest.raises(Crash):
        driver.as_("reviewer").say(f"return {review_id} 2 2")
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    review = again.store.review(review_id)
    alice = again.store.get("console:alice")
    assert review is not None and review.state == "returned"
    assert alice is not None and alice.steps["citi_training"].status == "reopened", "both records, or none"
    assert alice.review_id == review_id
    fresh = Driver(again)
    again.redeliver()
    assert any("HIPAA" in t for t in fresh.dm_texts("alice"))
    again.close()


def test_a_package_back_after_a_return_is_reposted_on_the_same_post_after_a_crash(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, driver, review_id = _returned(tmp_path, validator, clock)
    post_id = app.store.review(review_id).posts[-1].message_id  # type: ignore[union-attr]
    driver.as_("reviewer").say(f"return {review_id} 2 4")
    assert app.store.review(review_id).state == "returned"  # type: ignore[union-attr]
    new_report = _new_report(tmp_path, clock)
    _crash_on(monkeypatch, app.services.messenger, "_carry_out")  # the come-back is decided, not sent
    with pytest.raises(Crash):
        driver.as_("alice").say(f"/upload {new_report}")
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    fresh = Driver(again)
    review = again.store.review(review_id)
    assert review is not None and review.state == "pending" and review.returned is not None
    assert review.returned.came_back
    assert again.redeliver() >= 1
    assert [p.message_id for p in again.store.review(review_id).posts] == [post_id]  # type: ignore[union-attr]
    top_level = [
        s
        for s in fresh.console.to("#reviewers")
        if s.destination.thread is None and s.ref.message_id != post_id
    ]
    assert top_level == [], "no second post"
    edited = [e for e in fresh.console.edits if e.ref.message_id == post_id]
    assert edited and "40512345 → 40588888" in edited[-1].message.text
    assert any("is back" in s.text and "@reviewer" in s.text for s in fresh.console.to("#reviewers"))
    assert any("back with the reviewers" in t for t in fresh.dm_texts("alice"))
    assert again.redeliver() == 0
    again.close()
