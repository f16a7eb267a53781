"""A form step answered one question at a time in the console (as in a DM), in English and Korean.

The shipped rules.yaml's usage-authorization form (step 7), plus, where a test needs them, an
optional yes / no question. Nothing is guessed: an unclear answer gets the question again; the state
is on the record after every answer, so a new process resumes at the next question; a question left
open past the timeout is not answered by a later message.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from bot.application import Application
from bot.documents import Validator
from bot.forms import CONVERSATION_MINUTES
from tests.conftest import RULES, Clock, make_bot
from tests.journey import Driver
from tests.test_conversation import on_step

FORM_STEPS_DONE = 6  # the form is step 7 of the shipped rules


def texts(driver: Driver, line: str) -> str:
    return "\n".join(s.text for s in driver.say(line))


def with_irb_question(tmp_path: Path) -> Path:
    """The shipped rules with an optional yes / no question added to the form."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    form = next(s for s in data["steps"] if s["id"] == "lab_form")
    form["questions"].append(
        {
            "id": "irb",
            "type": "yes_no",
            "required": False,
            "label": {"en": "Does the project have IRB approval?", "ko": "IRB 승인을 받았나요?"},
        }
    )
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def answers_of(bot: Application, name: str = "alice") -> dict[str, str]:
    applicant = bot.store.get(f"console:{name}")
    assert applicant is not None
    state = applicant.steps.get("lab_form")
    return dict(state.evidence["answers"]) if state is not None and state.status == "done" else {}


def draft_of(bot: Application, name: str = "alice") -> dict[str, str]:
    applicant = bot.store.get(f"console:{name}")
    assert applicant is not None and applicant.form is not None
    return dict(applicant.form.answers)


def test_english_one_by_one_with_an_unclear_choice_a_bad_date_back_and_the_summary(bot: Application) -> None:
    driver = on_step(bot, FORM_STEPS_DONE)
    assert 'Say "start"' in texts(driver, "status")
    first = texts(driver, "start")
    assert "Question 1 of 4: Project title" in first and '"cancel" to stop' in first
    assert "Question 2 of 4" in texts(driver, "Chest X-ray triage")
    unclear = texts(driver, "the big one")
    assert "Please answer with one of the numbers, 1 to 3" in unclear and "Question 2 of 4" in unclear
    assert "Question 3 of 4" in texts(driver, "university hpc")  # a label is as good as its number
    back = texts(driver, "back")
    assert "Question 2 of 4" in back and "Your answer now: The university's HPC cluster" in back
    assert "Question 3 of 4" in texts(driver, "keep")
    assert "Question 4 of 4" in texts(driver, "Prof. Lee (lee@example.org)")
    bad = texts(driver, "next June")
    assert "does not look right" in bad and "Question 4 of 4" in bad
    summary = texts(driver, "2027-06-30")
    assert "Where will the data be stored?: The university's HPC cluster" in summary
    assert 'Say "yes" to save them' in summary
    assert answers_of(bot) == {}  # nothing is saved before the yes
    assert "Question 1 of 4" in texts(driver, "1")
    assert "Project title: Chest X-ray triage v2" in texts(driver, "Chest X-ray triage v2")
    assert "Which one should I change?" in texts(driver, "no")
    saved = texts(driver, "yes")
    assert "are saved" in saved and "sent to the lab's reviewers" in saved
    assert answers_of(bot) == {
        "project": "Chest X-ray triage v2",
        "storage": "university_hpc",
        "supervisor": "Prof. Lee (lee@example.org)",
        "end_date": "2027-06-30",
    }
    post = driver.console.last_post("reviewers")
    assert post is not None and "Project title: Chest X-ray triage v2" in post.text
    after = texts(driver, "change my answers")
    assert "reviewers" in after and "Project title" not in after  # with the reviewers: locked


def test_yes_no_understands_not_yet_asks_again_when_unclear_and_optional_skips(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    bot = make_bot(tmp_path / "data", validator, clock, with_irb_question(tmp_path))
    try:
        driver = on_step(bot, FORM_STEPS_DONE)
        for line in ("start", "Chest X-ray triage", "1", "Prof. Lee", "2027-06-30"):
            driver.say(line)
        asked = driver.dm_texts("alice")[-1]
        assert "Question 5 of 5: Does the project have IRB approval?" in asked and '"skip"' in asked
        unclear = texts(driver, "hmm, maybe?")
        assert "Please answer yes or no" in unclear and "Question 5 of 5" in unclear
        assert "IRB approval?: No" in texts(driver, "not yet")
        assert "Question 5 of 5" in texts(driver, "5")
        assert "IRB approval?: (skipped)" in texts(driver, "skip")
        assert "Question 1 of 5" in texts(driver, "1")
        assert "cannot be skipped" in texts(driver, "skip")  # a required question
        texts(driver, "keep")
        assert "are saved" in texts(driver, "yes")
        assert answers_of(bot)["irb"] == ""
    finally:
        bot.close()


def test_korean_one_by_one_with_no_as_a_negation(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    bot = make_bot(tmp_path / "data", validator, clock, with_irb_question(tmp_path))
    try:
        driver = on_step(bot, FORM_STEPS_DONE, name="minji", lang="ko")
        first = texts(driver, "시작")
        assert "질문 1/5: 프로젝트 이름" in first and '"취소"' in first
        assert "질문 2/5" in texts(driver, "흉부 X선 분류")
        assert "1. 연구실 서버" in driver.dm_texts("minji")[-1]
        assert "질문 3/5" in texts(driver, "2")
        assert "질문 4/5" in texts(driver, "이교수 (lee@example.org)")
        assert "2027-06-30처럼" in texts(driver, "내년 6월")
        assert "질문 5/5" in texts(driver, "2027-06-30")
        summary = texts(driver, "아직 안 했어요")
        assert "IRB 승인을 받았나요?: 아니요" in summary and '저장하려면 "네"' in summary
        assert "질문 5/5" in texts(driver, "뒤로")  # from the summary, back is the last question
        assert "저장하려면" in texts(driver, "그대로")  # kept: back to the summary
        assert "답변을 저장했습니다" in texts(driver, "네")
        assert answers_of(bot, "minji") == {
            "project": "흉부 X선 분류",
            "storage": "university_hpc",
            "supervisor": "이교수 (lee@example.org)",
            "end_date": "2027-06-30",
            "irb": "no",
        }
    finally:
        bot.close()


def test_a_restart_in_the_middle_resumes_at_the_next_question(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    first = make_bot(tmp_path / "data", validator, clock)
    driver = on_step(first, FORM_STEPS_DONE)
    for line in ("start", "Chest X-ray triage", "2"):
        driver.say(line)
    assert "Question 3 of 4" in driver.dm_texts("alice")[-1]
    first.close()  # the process ends here; the draft is on the record

    again = make_bot(tmp_path / "data", validator, clock)
    try:
        driver = Driver(again).as_("alice")
        assert "Question 4 of 4" in texts(driver, "Prof. Lee")  # taken as question 3's answer
        assert draft_of(again) == {
            "project": "Chest X-ray triage",
            "storage": "university_hpc",
            "supervisor": "Prof. Lee",
        }
        assert "Are they right?" in texts(driver, "2027-06-30")
        assert "are saved" in texts(driver, "yes")
        assert answers_of(again)["supervisor"] == "Prof. Lee"
    finally:
        again.close()


def test_after_the_timeout_the_next_message_shows_where_they_were(bot: Application, clock: Clock) -> None:
    driver = on_step(bot, FORM_STEPS_DONE)
    for line in ("start", "Chest X-ray triage"):
        driver.say(line)
    clock.advance(minutes=CONVERSATION_MINUTES + 1)
    back = texts(driver, "Prof. Lee")
    assert "We were filling in" in back and "1 of 4 answered" in back and "Question 2 of 4" in back
    assert draft_of(bot) == {"project": "Chest X-ray triage"}  # the late message was not an answer
    assert "Question 3 of 4" in texts(driver, "1")  # the conversation is open again


def test_cancel_keeps_the_answers_and_start_goes_on(bot: Application) -> None:
    driver = on_step(bot, FORM_STEPS_DONE)
    for line in ("start", "Chest X-ray triage"):
        driver.say(line)
    assert "answers so far are kept" in texts(driver, "cancel")
    late = texts(driver, "Prof. Lee")  # no question is open: not an answer
    assert "Question" not in late and "Sorry, I did not understand" in late
    assert draft_of(bot) == {"project": "Chest X-ray triage"}
    resumed = texts(driver, "start")
    assert "1 of 4 answered" in resumed and "Question 2 of 4" in resumed


def test_answers_are_editable_until_the_package_is_submitted(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    steps = data["steps"]
    form = next(s for s in steps if s["id"] == "lab_form")
    steps.remove(form)
    steps.insert(4, form)  # the form before the DUA: more steps follow it
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    bot = make_bot(tmp_path / "data", validator, clock, path)
    try:
        driver = on_step(bot, 4)
        for line in ("start", "Chest X-ray triage", "1", "Prof. Lee", "2027-06-30"):
            driver.say(line)
        saved = texts(driver, "yes")
        assert "are saved" in saved and 'say "change my answers"' in saved
        summary = texts(driver, "change my answers")
        assert "Project title: Chest X-ray triage" in summary and "Are they right?" in summary
        assert "Your answer now: Prof. Lee" in texts(driver, "3")
        texts(driver, "Prof. Kim")
        assert "are updated" in texts(driver, "yes")
        assert answers_of(bot)["supervisor"] == "Prof. Kim"
        applicant = bot.store.get("console:alice")
        assert applicant is not None and applicant.form is None
        assert bot.rules.steps[4].id == "lab_form" and applicant.is_done("lab_form")
    finally:
        bot.close()


def test_show_lists_the_answers_forget_removes_them_and_no_log_carries_them(
    bot: Application, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver = on_step(bot, FORM_STEPS_DONE)
    for line in ("start", "Secret Project Zeta", "1", "Prof. Quixotic", "2027-06-30", "yes"):
        driver.say(line)
    driver.as_("admin")
    shown = texts(driver, "show console:alice")
    assert "lab_form answers:" in shown and "Secret Project Zeta" in shown
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Secret Project Zeta" not in logged and "Quixotic" not in logged
    audit = "\n".join(str(e) for e in bot.store.audit_entries())
    assert "Secret Project Zeta" not in audit
    bot.store.forget("console:alice")
    assert bot.store.get("console:alice") is None


def test_the_form_button_where_no_modal_can_be_shown_asks_in_the_conversation(bot: Application) -> None:
    driver = on_step(bot, FORM_STEPS_DONE)
    status = driver.say("status")[-1]
    assert status.message.buttons[0].label == "Fill in the form"
    assert "Question 1 of 4: Project title" in texts(driver, "/press done")  # the console has no modals
