"""Issue 12, "What goes wrong today": each case, from a fresh data folder, in English and in Korean;
then the pieces around them (buttons, the pending question, the profile check, roles, rules.yaml's FAQ).
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.console.adapter import Sent
from bot.application import Application
from bot.documents import Validator
from bot.models import Applicant, StepState
from bot.rules_loader import RulesError, parse_rules
from tests import loopback_http
from tests.conftest import RULES, Clock, make_bot
from tests.journey import FORM_ANSWERS, Driver, complete_package, write_documents


def person(bot: Application, name: str = "alice") -> Applicant:
    found = bot.store.get(f"console:{name}")
    assert found is not None
    return found


def done_steps(bot: Application, name: str = "alice") -> list[str]:
    found = bot.store.get(f"console:{name}")
    return [s for s, st in found.steps.items() if st.status == "done"] if found else []


def on_step(bot: Application, steps: int, name: str = "alice", lang: str = "en") -> Driver:
    """`name` has finished the first `steps` steps (written straight into the store)."""
    driver = Driver(bot).as_(name)
    driver.say("안녕" if lang == "ko" else "hi")
    now = bot.store.now()

    def mark(a: Applicant) -> None:
        for step in bot.rules.steps[:steps]:
            evidence = {"answer": "alice_kim"} if step.id == "physionet_account" else {}
            a.steps[step.id] = StepState("done", now, evidence, by=a.key)

    bot.store.update(f"console:{name}", mark)
    return driver


def texts(replies: list[Sent]) -> str:
    return "\n".join(r.text for r in replies)


# -- negation and tense never complete a step ----------------------------------------------------


@pytest.mark.parametrize(
    "line", ["아직 안 했어요", "못 했어요", "신청했어요", "not yet", "I haven't done it", "I applied"]
)
def test_negated_or_applied_does_not_complete_a_confirm_step(bot: Application, line: str) -> None:
    driver = on_step(bot, 2, lang="ko" if not line.isascii() else "en")
    reply = texts(driver.say(line))
    assert done_steps(bot) == ["physionet_account", "citi_training"], reply
    assert "✅" not in reply


def test_a_hedge_is_asked_about_and_only_yes_records(bot: Application) -> None:
    driver = on_step(bot, 2, lang="ko")
    asked = texts(driver.say("확인했어요"))
    assert "마치셨나요" in asked and "PhysioNet에 CITI 보고서 올리기" in asked
    assert "citi_on_physionet" not in done_steps(bot)
    driver.say("네")
    assert "citi_on_physionet" in done_steps(bot)


def test_a_bare_yes_with_nothing_asked_completes_nothing(bot: Application) -> None:
    driver = on_step(bot, 2)
    assert "status" in texts(driver.say("yes"))
    assert "citi_on_physionet" not in done_steps(bot)


def test_the_question_expires(bot: Application, clock: Clock) -> None:
    driver = on_step(bot, 2)
    driver.say("I think I'm done")
    clock.advance(minutes=31)
    driver.say("yes")
    assert "citi_on_physionet" not in done_steps(bot)


def test_a_question_is_never_a_completion(bot: Application) -> None:
    driver = on_step(bot, 2, lang="ko")
    for line in ("다 했나요?", "did I finish?", "심사 얼마나 걸려요?", "is it done?"):
        driver.say(line)
    assert "citi_on_physionet" not in done_steps(bot)


# -- answers taken carefully ---------------------------------------------------------------------


@pytest.mark.parametrize("word", ["yes", "registered", "dnoe", "ok", "done", "cancel", "approve", "김철수"])
def test_words_that_are_not_usernames_are_never_recorded(bot: Application, word: str) -> None:
    driver = Driver(bot)
    driver.say("hi")
    driver.say(word)
    driver.say("yes")
    assert done_steps(bot) == []


@pytest.mark.parametrize(
    ("line", "lang"),
    [
        ("kim_j is my username", "en"),
        ("my username is kim_j", "en"),
        ("it's kim_j", "en"),
        ("제 아이디는 kim_j 입니다", "ko"),
        ("kim_j입니다", "ko"),
    ],
)
def test_the_username_is_found_in_a_sentence_and_confirmed(bot: Application, line: str, lang: str) -> None:
    driver = Driver(bot)
    driver.say("안녕" if lang == "ko" else "hi")
    asked = texts(driver.say(line))
    assert "**kim_j**" in asked and ("Right?" in asked if lang == "en" else "맞나요?" in asked)
    assert done_steps(bot) == []
    driver.say("네" if lang == "ko" else "yes")
    assert person(bot).steps["physionet_account"].evidence["answer"] == "kim_j"


@pytest.mark.parametrize(
    ("change", "undo", "lang"), [("change my username", "undo", "en"), ("아이디 바꿀래요", "되돌려 줘", "ko")]
)
def test_an_answer_can_be_changed_and_a_step_undone(
    bot: Application, change: str, undo: str, lang: str
) -> None:
    driver = on_step(bot, 3, lang=lang)
    driver.say(undo)
    assert "citi_on_physionet" not in done_steps(bot)
    driver.say(change)
    assert "physionet_account" not in done_steps(bot)
    driver.say("kim_j2")
    driver.say("네" if lang == "ko" else "yes")
    assert person(bot).steps["physionet_account"].evidence["answer"] == "kim_j2"


@pytest.mark.parametrize(("line", "said"), [("undo", "reviewers"), ("되돌려 줘", "검토자")])
def test_nothing_is_undone_while_the_review_is_pending(
    bot: Application, clock: Clock, tmp_path: Path, line: str, said: str
) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    if not line.isascii():
        driver.say("상태")  # two Korean messages in a row: the replies follow
    reply = texts(driver.say(line))
    assert said in reply and "lab_form" in done_steps(bot)


class _FakePhysioNet(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/users/kim_j/" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_physionet() -> Iterator[str]:
    server = loopback_http.serve(_FakePhysioNet)
    yield loopback_http.url(server)
    loopback_http.close(server)


def _checked_bot(
    tmp_path: Path, validator: Validator, clock: Clock, url: str, timeout: float = 2
) -> Application:
    text = RULES.read_text(encoding="utf-8").replace(
        '    # answer_check: "https://physionet.org/users/{answer}/"\n'
        "    # answer_check_timeout_seconds: 3\n",
        f'    answer_check: "{url}/users/{{answer}}/"\n    answer_check_timeout_seconds: {timeout}\n',
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return make_bot(tmp_path / "data", validator, clock, path)


def test_the_profile_check_mentions_a_missing_profile_and_never_refuses(
    tmp_path: Path, validator: Validator, clock: Clock, fake_physionet: str
) -> None:
    bot = _checked_bot(tmp_path, validator, clock, fake_physionet)
    try:
        driver = Driver(bot)
        driver.say("hi")
        assert "could not find" not in texts(driver.say("kim_j"))  # the profile exists
        asked = texts(driver.say("nobody_here"))
        assert "could not find a public PhysioNet profile" in asked and "/users/nobody_here/" in asked
        driver.say("yes")  # still taken
        assert person(bot).steps["physionet_account"].evidence["answer"] == "nobody_here"
    finally:
        bot.close()


def test_an_unreachable_profile_check_takes_the_answer(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    bot = _checked_bot(tmp_path, validator, clock, f"http://127.0.0.1:{port}", timeout=0.5)
    try:
        driver = Driver(bot)
        driver.say("hi")
        asked = texts(driver.say("kim_j"))
        assert "Right?" in asked and "could not find" not in asked
        driver.say("yes")
        assert done_steps(bot) == ["physionet_account"]
    finally:
        bot.close()


# -- staff are not applicants --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "lines"),
    [
        ("reviewer", ["cancel", "approve", "lgtm", "done", "kim_j", "취소", "좋아요"]),
        ("admin", ["show", "forget", "approve", "reset", "reject", "kim_j", "완료"]),
    ],
)
def test_staff_are_never_recorded_as_applicants(bot: Application, who: str, lines: list[str]) -> None:
    driver = Driver(bot).as_(who)
    for line in lines:
        assert driver.say(line), line  # always an answer
    assert bot.store.get(f"console:{who}") is None
    assert driver.as_("admin").say("stats")[0].text.startswith("0 people")


def test_each_role_gets_its_own_help(bot: Application) -> None:
    driver = Driver(bot)
    applicant = texts(driver.say("help"))  # someone new: the welcome and checklist, then the help
    reviewer = driver.as_("reviewer").say("help")[0].text
    admin = driver.as_("admin").say("help")[0].text
    assert "what step am I on?" in applicant and "As a reviewer" not in applicant
    assert "As a reviewer" in reviewer and "pending" in reviewer and "Admin commands" not in reviewer
    assert "Admin commands" in admin and "I want to apply" in admin
    assert "검토자 안내" in driver.as_("reviewer").say("도와주세요")[0].text


def test_staff_who_want_to_apply_become_applicants(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date(), name="Reviewer")
    complete_package(driver, report, proof, user="reviewer")
    me = person(bot, "reviewer")
    assert me.applying and me.review_id
    assert driver.as_("admin").say("stats")[0].text.startswith("1 people")


@pytest.mark.parametrize("command", ["show", "reset", "approve", "reject", "forget"])
def test_an_admin_command_without_arguments_gets_its_usage(bot: Application, command: str) -> None:
    reply = Driver(bot).as_("admin").say(command)[0].text
    assert reply.startswith("Usage:") and command in reply


def test_reviewers_list_what_waits_for_them(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    assert "Nothing is waiting" in driver.as_("reviewer").say("pending")[0].text
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    listed = driver.as_("reviewer").say("pending")[0].text
    review = person(bot).review_id
    assert "@alice" in listed and f"approve {review}" in listed
    assert bot.store.review(review) is not None and bot.store.review(review).state == "pending"  # type: ignore[union-attr]
    assert "admin command" in driver.say("show alice")[0].text  # reviewers read, admins act


def test_approve_refuses_an_incomplete_package_unless_forced(bot: Application) -> None:
    driver = on_step(bot, 1)
    reply = driver.as_("admin").say("approve alice")[0].text
    assert "not complete" in reply and "2. Complete the CITI course" in reply and "force" in reply
    assert not person(bot).approved_at
    driver.say("approve alice force")
    assert person(bot).approved_at


def test_nobody_approves_their_own_package(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date(), name="Admin")
    complete_package(driver, report, proof, user="admin")
    assert "own package" in driver.as_("admin").say("approve admin force")[0].text
    assert not person(bot, "admin").approved_at


def test_steps_are_named_by_number_in_reset_and_reject(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("admin").say("reject alice 3 please upload it again")
    assert "citi_on_physionet" not in done_steps(bot)
    assert "please upload it again" in driver.dm_texts("alice")[-1]
    driver.say("reset alice 2")
    assert "citi_training" not in done_steps(bot)
    assert "There is no step 9" in driver.say("reset alice 9")[0].text


def test_a_reviewer_who_rejected_can_still_ask_for_help_and_cancel(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ❌")
    assert "Waiting for a decision" in driver.say("pending")[0].text
    assert "검토자 안내" in driver.say("도와주세요")[0].text
    driver.say("취소")
    review = bot.store.review(person(bot).review_id)
    assert review is not None and review.state == "pending" and not review.awaiting_reason_from


# -- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["도와주세요", "안녕"])
def test_the_first_reply_is_in_the_language_of_the_first_message(bot: Application, first: str) -> None:
    reply = Driver(bot).say(first)[0].text
    assert "안녕하세요" in reply and "PhysioNet 계정 만들기" in reply
    assert person(bot).lang == "ko"


def test_i_dont_speak_korean_is_a_request_for_english(bot: Application) -> None:
    driver = Driver(bot)
    driver.say("안녕")
    assert "English" in driver.say("I don't speak Korean")[0].text
    assert person(bot).lang == "en"


def test_one_hangul_word_does_not_lock_an_english_speaker_into_korean(bot: Application) -> None:
    driver = Driver(bot)
    driver.say("hi")
    assert "your progress" in driver.say("안녕")[0].text
    assert person(bot).lang == "en"
    assert "진행 상황" in driver.say("지금 몇 단계야?")[0].text  # the second in a row: switch
    assert person(bot).lang == "ko"


def test_staff_without_a_record_are_answered_in_the_language_they_write(bot: Application) -> None:
    driver = Driver(bot).as_("admin")
    assert "관리자 명령" in driver.say("도와주세요")[0].text
    assert "Admin commands" in driver.say("help")[0].text
    assert bot.store.get("console:admin") is None


def test_korean_particles_follow_the_noun(bot: Application) -> None:
    driver = on_step(bot, 5, lang="ko")
    reply = driver.say("완료")[0].text
    assert "PhysioNet 승인 증빙을" in reply and "증빙를" not in reply and "증빙가" not in reply


# -- the weeks of waiting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how long does the MIT review take?", "several days once your reference has responded"),
        ("who should be my reference?", "supervisor"),
        ("my reference hasn't replied", "spam folder"),
        ("what should the research summary say?", "20 words"),
        ("which CITI course should I take?", "Data or Specimens Only Research"),
        ("how do I renew my training?", "Refresher"),
        ("who can I contact?", "#data-access"),
        ("심사 얼마나 걸려요?", "몇 주"),
        ("추천인은 누구로 해야 하나요?", "지도교수님"),
        ("추천인이 답이 없어요", "스팸함"),
    ],
)
def test_questions_while_waiting_are_answered_from_any_step(
    bot: Application, question: str, expected: str
) -> None:
    driver = on_step(bot, 3, lang="ko" if not question.isascii() else "en")
    assert expected in driver.say(question)[0].text
    assert "credentialing" not in done_steps(bot)


def test_applied_is_a_date_the_step_stays_open_and_reminders_count_from_it(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = on_step(bot, 3)
    clock.advance(days=10)
    assert "applied on 2026-03-12" in driver.say("I applied")[0].text
    assert "credentialing" not in done_steps(bot)
    status = driver.say("status")[0].text
    assert "👉 4. Get credentialed on PhysioNet  ← you are here (applied on 2026-03-12)" in status
    clock.advance(days=13)
    assert bot.tick() == 0  # 23 days on the step, but 13 since applying
    clock.advance(days=1)
    assert bot.tick() == 1
    assert "you applied on 2026-03-12 (14 days ago)" in driver.dm_texts("alice")[-1]
    proof = write_documents(tmp_path / "d", clock().date())[1]
    for line in ("done", "done", f"/upload {proof}", "done", *FORM_ANSWERS):
        driver.say(line)
    post = driver.console.last_post("reviewers")
    assert post is not None and "applied 2026-03-12, credentialed" in post.text


def test_the_credentialing_step_is_called_get_credentialed() -> None:
    rules = parse_rules(RULES.read_text(encoding="utf-8"))
    step = rules.step("credentialing")
    assert step is not None and step.records_applied
    assert step.title.get("en") == "Get credentialed on PhysioNet"
    assert step.title.get("ko") == "PhysioNet 자격 인증 받기"


# -- nothing falls on the floor ------------------------------------------------------------------


def test_a_reply_to_something_not_understood_names_the_likeliest_things(bot: Application) -> None:
    driver = on_step(bot, 2)
    reply = driver.say("zzzz qqqq")[0].text
    assert "Did you mean" in reply and reply.count('"') >= 4
    ko = on_step(bot, 2, name="minji", lang="ko").say("ㅁㄴㅇㄹ")[0].text
    assert "이런 뜻이었나요" in ko


# -- buttons (the console shows them; /press works) ----------------------------------------------


def test_step_buttons_done_not_yet_help(bot: Application) -> None:
    driver = on_step(bot, 2)
    shown = driver.say("status")[0]
    assert [b.action for b in shown.message.buttons] == ["done", "not_yet", "help"]
    assert [b.label for b in shown.message.buttons] == ["I've done this", "Not yet", "Help"]
    assert "No problem" in driver.say("/press not_yet")[0].text
    assert "what step am I on?" in driver.say("/press help")[0].text
    assert "citi_on_physionet" not in done_steps(bot)
    driver.say("/press done")
    assert "citi_on_physionet" in done_steps(bot)
    old = shown.ref.message_id
    stale = driver.say(f"/press done {old}")[0].text  # a button left on an older message
    assert "not your current step" in stale and "credentialing" not in done_steps(bot)


def test_korean_buttons(bot: Application) -> None:
    shown = on_step(bot, 2, lang="ko").say("상태")[0]
    assert [b.label for b in shown.message.buttons] == ["완료했어요", "아직이요", "도움말"]


# -- records on disk and rules.yaml --------------------------------------------------------------


def test_a_record_written_before_these_fields_still_loads() -> None:
    old = {"key": "console:x", "lang": "ko", "created": "2025-01-01", "updated": "2025-01-01", "steps": {}}
    applicant = Applicant.from_dict(old)
    assert (
        applicant.pending is None
        and applicant.applied == {}
        and applicant.lang_set
        and not applicant.applying
    )
    assert Applicant.from_dict(applicant.to_dict()) == applicant


def test_faq_problems_are_reported_with_their_line() -> None:
    text = RULES.read_text(encoding="utf-8")
    broken = text.replace("  - id: contact\n", "  - id: citi_course\n").replace(
        "        - who can be my reference\n",
        "        - who can be my reference\n        - how can I\n"
        "        - how long does credentialing take\n",
    )
    with pytest.raises(RulesError) as caught:
        parse_rules(broken)
    message = str(caught.value)
    assert "faq[7].id 'citi_course' is already used by faq[4]" in message
    assert "'how can I' can never match" in message
    assert "'how long does credentialing take' matches another entry just as well" in message
    assert all(
        line.startswith("rules.yaml:") and line.split(":")[1].isdigit() for line in message.splitlines()
    )
