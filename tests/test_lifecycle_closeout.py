"""The close-out conversation (issue 15, item 3), through the real bot on the console: asked by an
admin or started by the member, answered yes or not yet in English or Korean (never guessed), the
answer and its date in the audit log, the entitlements removed, the admins told, and "not yet"
asked again by the reminder tick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.documents import Validator
from tests.conftest import Clock
from tests.journey import Driver
from tests.test_access_commands import GRANTED, REMOVED, approved_alice, audit_of, last

WHERE_EN = "every computer, server, external drive and cloud folder you copied them to"


@pytest.fixture
def alice(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[Driver]:
    driver = approved_alice(tmp_path, validator, clock)
    yield driver
    driver.bot.close()


def test_an_admin_asks_the_member_confirms_and_access_ends(alice: Driver, clock: Clock) -> None:
    bot = alice.bot
    reply = alice.as_("admin").say("closeout alice project ended")
    asked = last(alice, "alice")
    assert [s.where for s in reply] == ["DM → alice", "DM → admin"]
    assert "(project ended)" in asked and f"deleted the MIMIC-CXR files from {WHERE_EN}" in asked
    assert alice.console.grants == [GRANTED], "access stays until they answer"
    shown = alice.as_("admin").say("show alice")[-1].text
    assert "close-out: asked 2026-03-02 by console:admin, 1 time(s), no yes yet" in shown

    clock.advance(days=2)
    sent = alice.as_("alice").say("Yes, I deleted all of them")
    assert {s.where for s in sent} == {"DM → alice", "DM → admin"}
    assert "answer is recorded (2026-03-04)" in last(alice, "alice")
    assert "@alice confirmed on 2026-03-04 that they deleted the MIMIC-CXR files" in last(alice, "admin")
    assert alice.console.grants == [GRANTED, REMOVED]
    record = bot.store.get("console:alice")
    assert record is not None and record.access.state == "closed" and not record.access.closeout
    [closed] = [e for e in record.access.history if e.action == "closed"]
    assert closed.at.startswith("2026-03-04") and "Yes, I deleted all of them" in closed.reason
    [entry] = audit_of(bot, "access.closeout_answered")
    assert entry["answer"] == "deleted" and entry["date"] == "2026-03-04"
    assert entry["actor"] == bot.store.pseudonym("console:alice")
    assert "Yes, I deleted" not in str(entry), "the audit keeps the answer, not the member's words"
    assert not list(bot.store.oplog.undelivered())
    # answered: "yes" is an ordinary word again
    assert "answer is recorded" not in alice.as_("alice").say("yes")[-1].text


@pytest.mark.parametrize(
    "words",
    ["yes", "I deleted them", "done, all removed", "네", "네, 다 지웠어요", "삭제했습니다", "모두 삭제 완료"],
)
def test_yes_in_english_and_korean(alice: Driver, words: str) -> None:
    alice.as_("admin").say("closeout alice")
    alice.as_("alice").say(words)
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "closed", words
    assert alice.console.grants == [GRANTED, REMOVED]


@pytest.mark.parametrize(
    "words",
    [
        "not yet",
        "no",
        "I haven't deleted them yet",
        "I'll delete them tomorrow",
        "아직 안 했어요",
        "아직이요",
        "아니요",
    ],
)
def test_not_yet_in_english_and_korean_removes_nothing_and_tells_the_admins(
    alice: Driver, words: str
) -> None:
    alice.as_("admin").say("closeout alice")
    alice.as_("alice").say(words)
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "active" and record.access.closeout, words
    assert record.access.closeout_next.startswith("2026-03-09")
    assert alice.console.grants == [GRANTED]
    assert "has not deleted the MIMIC-CXR files yet" in last(alice, "admin")
    assert [e["answer"] for e in audit_of(alice.bot, "access.closeout_answered")] == ["not_yet"]


@pytest.mark.parametrize(
    "words", ["which files?", "I think I deleted them", "maybe", "hmm", "삭제했나요?", "지운 것 같아요"]
)
def test_an_unclear_answer_gets_the_question_back_and_records_nothing(alice: Driver, words: str) -> None:
    alice.as_("admin").say("closeout alice")
    sent = alice.as_("alice").say(words)
    assert [s.where for s in sent] == ["DM → alice"], words
    assert "I need a clear answer" in sent[0].text or "분명한 답이 필요합니다" in sent[0].text
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "active" and record.access.closeout
    assert audit_of(alice.bot, "access.closeout_answered") == []


def test_a_korean_member_is_asked_and_answered_in_korean(alice: Driver) -> None:
    alice.as_("alice").say("한국어로 해 주세요")
    alice.as_("admin").say("closeout alice")
    assert "복사해 둔 모든 컴퓨터, 서버, 외장 드라이브와 클라우드 폴더에서 MIMIC-CXR 파일을" in last(
        alice, "alice"
    )
    alice.as_("alice").say("아직 안 했어요")
    assert "2026-03-09에 다시 여쭤보겠습니다" in last(alice, "alice")
    alice.as_("alice").say("이제 다 지웠어요")
    assert "답변을 기록했고" in last(alice, "alice")
    assert alice.console.grants == [GRANTED, REMOVED]


def test_not_yet_is_asked_again_by_the_tick_and_the_admins_hear_from_the_second_reminder(
    alice: Driver, clock: Clock
) -> None:
    bot = alice.bot
    alice.as_("admin").say("closeout alice")
    alice.as_("alice").say("not yet")
    admin_before = len(alice.dm_texts("admin"))
    clock.advance(days=6)
    bot.tick()
    assert "A reminder" not in last(alice, "alice"), "not before the day"
    clock.advance(days=1, hours=1)
    assert bot.tick() == 1
    assert last(alice, "alice").startswith("A reminder (asked first on 2026-03-02)")
    assert len(alice.dm_texts("admin")) == admin_before, "the first reminder is the member's alone"
    assert bot.tick() == 0, "once"
    clock.advance(days=7)
    bot.tick()
    assert "asked 3 times since 2026-03-02" in last(alice, "admin")
    shown = alice.as_("admin").say("show alice")[-1].text
    assert "3 time(s), no yes yet; asked again on 2026-03-23" in shown
    alice.as_("alice").say("I deleted them")
    record = bot.store.get("console:alice")
    assert record is not None and record.access.state == "closed" and not record.access.closeout_next


def test_silence_is_asked_again_too_and_zero_days_never_asks_again(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    driver = approved_alice(tmp_path, validator, clock, "access:\n  closeout_remind_days: 0\n")
    try:
        driver.as_("admin").say("closeout alice")
        driver.as_("alice").say("not yet")
        assert "follow it up yourselves" in last(driver, "admin")
        assert "I will ask again" not in last(driver, "alice")
        clock.advance(days=60)
        driver.bot.tick()
        assert "A reminder" not in last(driver, "alice")
    finally:
        driver.bot.close()


def test_the_member_starts_it_themselves(alice: Driver) -> None:
    alice.as_("alice").say("I'm leaving the lab")
    assert "please confirm you deleted the MIMIC-CXR files" in last(alice, "alice")
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.closeout_by == "console:alice"
    alice.as_("alice").say("yes")
    assert alice.console.grants == [GRANTED, REMOVED]
    alice.as_("bob").say("hi")
    assert "no access to close" in alice.as_("bob").say("closeout")[-1].text
    alice.as_("bob").say("안녕하세요")  # the conversation follows a language after two messages
    alice.as_("bob").say("연구실을 떠나요")
    assert "종료할 접근 권한이 없어" in last(alice, "bob")


def test_closeout_answers_plainly_when_it_cannot(alice: Driver) -> None:
    admin = alice.as_("admin")
    assert "Usage: `closeout USER [REASON]`" in admin.say("closeout")[-1].text
    assert "I do not know console:ghost" in admin.say("closeout ghost")[-1].text
    alice.as_("bob").say("hi")
    assert "never had access" in alice.as_("admin").say("closeout bob")[-1].text
    alice.say("closeout alice")
    assert "already asked on 2026-03-02" in alice.say("closeout alice")[-1].text
    assert "you are not an admin" in alice.as_("reviewer").say("closeout alice")[-1].text


def test_a_blocked_member_can_still_confirm_the_deletion(alice: Driver) -> None:
    alice.as_("admin").say("closeout alice")
    alice.as_("admin").say("block alice shared the data")
    assert alice.console.grants == [GRANTED, REMOVED]
    alice.as_("alice").say("yes, deleted")
    assert "answer is recorded" in last(alice, "alice")
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "closed"
    assert alice.console.grants == [GRANTED, REMOVED], "nothing removed twice"
    assert "you are blocked" in alice.as_("alice").say("status")[-1].text
