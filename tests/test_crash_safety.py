"""Decisions survive a crash at any point: operations finished at start-up, outcomes told, posts not
doubled; reasons bound to their round; nobody approves their own package.

A "crash" here is an exception at a chosen point followed by a new Application on the same data
folder, which is what a restart after SIGKILL sees (tests/test_crash_loop.py kills a real process).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import assemble
from bot.application import Application
from bot.documents import Validator
from bot.rules_loader import RulesHolder
from bot.store import Store
from tests.citi_pdfs import make_png
from tests.conftest import RULES, Clock, _SharedValidator
from tests.journey import FORM_ANSWERS, Driver, complete_package, write_documents


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so no handler in the bot catches it."""


def _app(data: Path, validator: Validator, clock: Clock, rules: Path = RULES) -> Application:
    return assemble(
        rules=RulesHolder(rules),
        store=Store(data, clock=clock),
        validator=_SharedValidator(validator),  # type: ignore[arg-type]
        clock=clock,
    )


def _die(app: Application) -> None:
    """Let go of the folder the way a killed process does: nothing flushed beyond what was written."""
    app.services.store.close()


def _crash_on(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, after: int = 0) -> None:
    real: Callable[..., Any] = getattr(owner, name)
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise Crash(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, dying)


def _submitted(tmp_path: Path, validator: Validator, clock: Clock) -> tuple[Application, Driver]:
    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    return app, driver


def test_an_approval_cut_short_between_its_records_is_finished_at_start_up(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, driver = _submitted(tmp_path, validator, clock)
    # The process dies after the operation is logged and the review is written, before the applicant.
    _crash_on(monkeypatch, app.services.store, "_put_applicant")
    with pytest.raises(Crash):
        driver.as_("reviewer").say("/react ✅")
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    alice = again.store.get("console:alice")
    review = next(r for r in again.store.reviews() if r.applicant == "console:alice")
    assert review.state == "approved"
    assert alice is not None and alice.approved_at, "the decision's effect on the applicant is there"
    fresh = Driver(again)
    again.redeliver()
    assert any("🎉" in t for t in fresh.dm_texts("alice")), "and she is told, after the restart"
    again.close()


def test_an_outcome_decided_but_never_sent_is_sent_after_a_restart(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, driver = _submitted(tmp_path, validator, clock)
    _crash_on(monkeypatch, app.services.messenger, "_carry_out")  # dies right after the decision
    with pytest.raises(Crash):
        driver.as_("reviewer").say("/react ❌")
        driver.say("2 the report has expired")
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    fresh = Driver(again)
    assert again.redeliver() >= 1
    told = fresh.dm_texts("alice")
    assert any("the report has expired" in t for t in told), told
    assert again.redeliver() == 0, "each outcome is sent once"
    again.close()


def test_a_review_post_sent_but_not_recorded_is_found_again_not_posted_twice(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = tmp_path / "console-posts.jsonl"
    app = _app(data, validator, clock)
    driver = Driver(app)
    driver.adapter.transcript = transcript
    report, proof = write_documents(tmp_path / "docs", clock().date())
    # The post goes out; the process dies before the review round records where it landed.
    _crash_on(monkeypatch, app.services.store, "update_review")
    with pytest.raises(Crash):
        complete_package(driver, report, proof)
    posted = driver.console.to("#reviewers")
    assert len(posted) == 1
    _die(app)
    monkeypatch.undo()

    again = _app(data, validator, clock)
    from bot.adapters.console.serve import console_for

    adapter, session = console_for(again, None, transcript=transcript)
    again.redeliver()
    review = next(r for r in again.store.reviews() if r.applicant == "console:alice")
    post_id = posted[0].ref.message_id
    assert [p.message_id for p in review.posts] == [post_id], "the post that went out is recorded"
    assert not [s for s in adapter.to("#reviewers") if "asks for approval" in s.text], "not posted again"
    assert transcript.read_text(encoding="utf-8").count('"key"') == 1
    session.feed("/as reviewer")
    session.feed(f"/react ✅ {post_id}")  # a reaction on that post is a vote
    assert again.store.get("console:alice").approved_at  # type: ignore[union-attr]
    again.close()


def _two_packages(tmp_path: Path, validator: Validator, clock: Clock) -> tuple[Application, Driver]:
    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    driver.adapter.names.update({"bob": "Bob Lee", "carol": "Carol Park"})
    for width, (user, name, record) in enumerate(
        (("bob", "Bob Lee", "40500001"), ("carol", "Carol Park", "40500002"))
    ):
        report, proof = write_documents(tmp_path / user, clock().date(), name=name, record_id=record)
        proof.write_bytes(make_png(width=40 + width))  # each person's own screenshot
        complete_package(driver, report, proof, user=user)
    return app, driver


def _round(app: Application, user: str) -> Any:
    return next(r for r in app.store.reviews() if r.applicant == f"console:{user}")


def test_a_reason_is_never_given_to_the_wrong_applicant(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app, driver = _two_packages(tmp_path, validator, clock)
    bob, carol = _round(app, "bob"), _round(app, "carol")
    bob_post, carol_post = bob.posts[-1].message_id, carol.posts[-1].message_id
    driver.as_("reviewer").say(f"/react ❌ {bob_post}")
    driver.say(f"/react ❌ {carol_post}")
    replies = driver.say("2 the name on the report does not match")  # meant for carol
    assert "which one" in replies[-1].text.lower() or "more than one" in replies[-1].text.lower()
    assert _round(app, "bob").state == "pending" and _round(app, "carol").state == "pending"
    assert not any("does not match" in t for t in driver.dm_texts("bob"))
    driver.say(f"/reply {carol_post} 2 the name on the report does not match")  # in carol's thread
    assert _round(app, "carol").state == "rejected" and _round(app, "bob").state == "pending"
    assert any("does not match" in t for t in driver.dm_texts("carol"))
    driver.say(f"reject {bob.id} 2 the report has expired")
    assert _round(app, "bob").state == "rejected"
    app.close()


def test_commands_pass_through_while_a_reason_is_awaited_and_the_prompt_expires(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app, driver = _submitted(tmp_path, validator, clock)
    driver.as_("reviewer").say("/react ❌")
    asked = driver.dm_texts("reviewer")[-1]
    assert "cancel" in asked and "30 minutes" in asked
    help_reply = driver.say("help")[-1].text
    assert "reviewer" in help_reply.lower()
    assert _round(app, "alice").state == "pending"
    clock.advance(minutes=31)
    driver.say("2 the report has expired")
    assert _round(app, "alice").state == "pending", "an old prompt does not swallow later messages"
    app.close()


def test_nobody_approves_their_own_package_admins_included(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date(), name="Admin Kim")
    complete_package(driver, report, proof, user="admin")
    reply = driver.as_("admin").say("approve admin")[-1].text
    assert "own package" in reply
    admin = app.store.get("console:admin")
    assert admin is not None and not admin.approved_at
    app.close()


def test_a_failure_after_a_save_says_what_was_saved_and_a_retry_finishes_only_the_rest(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    lines = ("hi", "alice_kim", "yes", f"/upload {report}", "done", "done", "done", f"/upload {proof}")
    for line in (*lines, "done", *FORM_ANSWERS[:-1]):  # the form answered; its summary asks "right?"
        driver.say(line)
    real_commit = app.services.store.commit

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(app.services.store, "commit", disk_full)
    reply = driver.say("yes")[-1].text  # the last step is saved; opening the review round fails
    assert "after I had saved this" in reply and "lab" in reply.lower(), reply
    assert app.store.get("console:alice").review_id == ""  # type: ignore[union-attr]
    monkeypatch.setattr(app.services.store, "commit", real_commit)
    again = driver.say("yes")
    assert any("already saved" in s.text for s in again), [s.text for s in again]
    alice = app.store.get("console:alice")
    assert alice is not None and alice.review_id, "the retry opened the review round"
    assert next(r for r in app.store.reviews() if r.applicant == "console:alice").posts
    done = [s.id for s in app.rules.steps if alice.is_done(s.id)]
    assert "lab_review" not in done and len(done) == len(app.rules.steps) - 1, "and nothing more"
    app.close()


def test_a_package_completed_just_before_a_crash_gets_its_review_round_at_start_up(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(tmp_path / "data", validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    _crash_on(monkeypatch, app.services.desk, "submit_if_complete", after=6)  # the last step's
    with pytest.raises(Crash):
        complete_package(driver, report, proof)
    _die(app)
    monkeypatch.undo()

    again = _app(tmp_path / "data", validator, clock)
    alice = again.store.get("console:alice")
    assert alice is not None and not alice.review_id, "the crash left a complete package without a round"
    fresh = Driver(again)
    assert again.repair() == 1  # what Application.start does
    again.redeliver()
    alice = again.store.get("console:alice")
    assert alice is not None and alice.review_id
    assert fresh.console.to("#reviewers"), "and the reviewers see it"
    again.close()
