"""The whole applicant journey in the console, asserting where every reply went."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.application import Application
from bot.documents import Validator
from bot.models import Applicant, Review
from bot.workflow import current_step
from tests.conftest import Clock, make_bot
from tests.journey import Driver, complete_package, write_documents


def alice(bot: Application) -> Applicant:
    found = bot.store.get("console:alice")
    assert found is not None
    return found


def alices_review(bot: Application) -> Review:
    review = bot.store.review(alice(bot).review_id)
    assert review is not None
    return review


def current_id(bot: Application) -> str | None:
    step = current_step(bot.rules, alice(bot))
    return step.id if step else None


def test_status_shows_checklist_with_account_as_current_step(bot: Application, clock: Clock) -> None:
    driver = Driver(bot)
    replies = driver.say("what step am I on?")
    assert [s.where for s in replies] == ["DM → alice"]
    text = replies[0].text
    assert "👉 1. Create a PhysioNet account" in text
    assert "⬜ 2." in text and "https://physionet.org/register/" in text
    assert "What is your PhysioNet username?" in text


def test_korean_question_gets_korean_answer(bot: Application) -> None:
    driver = Driver(bot)
    replies = driver.say("지금 몇 단계야?")
    assert "PhysioNet 계정 만들기" in replies[0].text and "현재 단계" in replies[0].text
    assert alice(bot).lang == "ko"


def test_typos_and_unknown_text_still_get_helpful_answers(bot: Application) -> None:
    driver = Driver(bot)
    assert "your progress" in driver.say("stauts")[0].text
    reply = driver.say("what is the meaning of life, the universe and everything?")[0].text
    assert "did not understand" in reply and "help" in reply


def test_wrong_answer_gets_hint_and_keeps_step(bot: Application) -> None:
    driver = Driver(bot)
    driver.say("hi")
    reply = driver.say("my username is !!bad!!")[0].text
    assert "does not look like a PhysioNet username" in reply and "3 to 50 letters" in reply
    assert current_id(bot) == "physionet_account"


def test_done_on_document_step_asks_for_the_file(bot: Application) -> None:
    driver = Driver(bot)
    driver.say("jdoe")
    driver.say("yes")
    reply = driver.say("done")[0].text
    assert "CITI completion report as a file" in reply


def test_full_journey_reaches_reviewers_once_and_reviewer_approves(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    posts = [s for s in driver.console.to("#reviewers") if s.destination.thread is None]
    assert len(posts) == 1, [p.text for p in posts]
    post = posts[0]
    assert "@alice" in post.text and "alice_kim" in post.text and "40512345" in post.text
    assert "https://physionet.org/users/alice_kim/" in post.text  # reviewers can check the profile
    assert "alice@example.edu" not in post.text  # no e-mail unless rules.yaml allows it
    assert [b.action for b in post.message.buttons] == ["approve", "reject", "return_for_changes", "claim"]
    assert any("sent to the lab's reviewers" in t for t in driver.dm_texts("alice"))

    # Someone who is not a reviewer changes nothing.
    driver.as_("mallory").say("/react ✅")
    assert alices_review(bot).state == "pending"
    assert any("Only the lab's reviewers" in t for t in driver.dm_texts("mallory"))

    driver.as_("reviewer").say("/react white_check_mark")
    review = alices_review(bot)
    assert review.state == "approved" and review.decided_by == ["console:reviewer"]
    assert any(t.startswith("🎉 Your access is approved") for t in driver.dm_texts("alice"))
    assert current_id(bot) is None

    # Later reactions change nothing, and the reviewer is told so.
    driver.as_("reviewer2").say("/react ❌")
    assert alices_review(bot).state == "approved"
    assert any("already decided" in t for t in driver.dm_texts("reviewer2"))


def test_reject_with_reason_reopens_named_step(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react x")
    assert any("step to reopen" in t for t in driver.dm_texts("reviewer"))
    driver.say("2 the report is for another course")
    assert current_id(bot) == "citi_training"
    last = driver.dm_texts("alice")[-1]
    assert "the report is for another course" in last and "Complete the CITI course" in last
    status = driver.as_("alice").say("status")[0].text
    assert "👉 2." in status and "the report is for another course" in status


def test_review_survives_restart(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    data = tmp_path / "data"
    first = make_bot(data, validator, clock)
    driver = Driver(first)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    first.close()

    second = make_bot(data, validator, clock)
    try:
        again = Driver(second)
        again.as_("reviewer").say("/react ✅")  # no post in this run: the pending review's post is used
        assert alice(second).approved_at
        assert any("approved" in t for t in again.dm_texts("alice"))
    finally:
        second.close()


def test_repeated_event_is_processed_once(bot: Application) -> None:
    from bot.events import DirectMessage, UserRef

    driver = Driver(bot)
    event = DirectMessage(event_id="E1", user=UserRef("console", "alice"), text="hi")
    bot.dispatch(event)
    bot.dispatch(event)
    assert len(driver.console.to("alice")) == 1


def test_file_posted_in_a_channel_is_not_read_and_sender_told_privately(
    bot: Application, tmp_path: Path
) -> None:
    driver = Driver(bot)
    secret = tmp_path / "report.pdf"
    secret.write_bytes(b"%PDF-1.7 not even read")
    replies = driver.say(f"/post {secret}")
    assert [r.where for r in replies] == ["DM → alice"]
    assert "do not post documents in channels" in replies[0].text
    applicant = bot.store.get("console:alice")
    assert applicant is None or not applicant.documents


def test_rules_file_changed_on_disk_is_picked_up_and_admins_told(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    import os

    from tests.conftest import RULES

    path = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    bot = make_bot(tmp_path / "data", validator, clock, path)
    try:
        driver = Driver(bot)
        path.write_text(
            text.replace('en: "MIMIC-CXR access"', 'en: "MIMIC-CXR access (2027)"'), encoding="utf-8"
        )
        os.utime(path, (1, 1))  # a different mtime, whatever the file system's resolution
        driver.say("status")
        assert "MIMIC-CXR access (2027)" in driver.dm_texts("alice")[-1]
        assert any("reloaded" in t for t in driver.dm_texts("admin"))
        path.write_text("version: [", encoding="utf-8")
        os.utime(path, (2, 2))
        driver.say("status")
        assert "MIMIC-CXR access (2027)" in driver.dm_texts("alice")[-1]  # broken: old rules kept
        assert any("has errors, so I kept the previous rules" in t for t in driver.dm_texts("admin"))
    finally:
        bot.close()


def test_disk_full_mid_step_apologises_and_corrupts_nothing(
    bot: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import bot.storage as storage

    driver = Driver(bot)
    real_write = storage.write_atomically
    calls = {"n": 0}

    def full_disk(path: Path, payload: bytes) -> None:
        if path.name.startswith("applicants-"):
            calls["n"] += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, payload)

    driver.say("hi")  # alice exists
    driver.say("alice_kim")  # the bot asks to confirm it
    monkeypatch.setattr(storage, "write_atomically", full_disk)
    reply = driver.say("yes")[-1].text
    assert "something went wrong on our side" in reply and calls["n"] == 1
    assert current_id(bot) == "physionet_account"  # memory was rolled back to what is on disk
    monkeypatch.setattr(storage, "write_atomically", real_write)
    driver.say("yes")  # the question is still open: it was on disk
    assert current_id(bot) == "citi_training"
