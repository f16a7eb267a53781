"""What people write, in English and Korean, and what the bot takes it to mean."""

from __future__ import annotations

import pytest

from bot.intents import Intent, understand

CASES = [
    ("what step am I on?", Intent.STATUS),
    ("whats my status", Intent.STATUS),
    ("stauts", Intent.STATUS),  # typo
    ("progress pls", Intent.STATUS),
    ("next", Intent.NEXT),
    ("what should I do next", Intent.NEXT),
    ("how do I get the completion report", Intent.NEXT),
    ("help", Intent.HELP),
    ("?", Intent.HELP),
    ("what is this bot", Intent.HELP),
    ("done", Intent.DONE),
    ("I finished this step", Intent.DONE),
    ("okay I signed the DUA", Intent.DONE),
    ("I did not finish yet", Intent.NOT_YET),  # a negation is not a completion (issue 12: NOT_YET)
    ("is it done?", Intent.STATUS),  # a question is not a completion: it asks for the status
    ("hello there", Intent.GREETING),
    ("thanks!", Intent.THANKS),
    ("cancel", Intent.CANCEL),
    ("지금 몇 단계야?", Intent.STATUS),
    ("어디까지 했어?", Intent.STATUS),  # asks about progress, does not report it
    ("다음은 뭐야", Intent.NEXT),
    ("어디서 다운로드해요?", Intent.NEXT),
    ("도와줘", Intent.HELP),
    ("완료", Intent.DONE),
    ("이 단계 완료했어요", Intent.DONE),
    ("끝났어요", Intent.DONE),
    ("안녕하세요", Intent.GREETING),
    ("고마워요", Intent.THANKS),
    ("취소", Intent.CANCEL),
    ("jdoe", Intent.UNKNOWN),  # an answer, left to the answer handler
    ("the meaning of life", Intent.UNKNOWN),
]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_understands(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    ("text", "language"),
    [("한국어", "ko"), ("한국어로 해줘", "ko"), ("korean", "ko"), ("English please", "en"), ("영어", "en")],
)
def test_language_requests(text: str, language: str) -> None:
    understood = understand(text)
    assert understood.intent is Intent.LANGUAGE and understood.language == language


def test_nothing_raises_on_odd_input() -> None:
    for text in ("", " ", "\u200b", "🙂", "a" * 10_000, "\x00", "?" * 50, "  done  \n"):
        understand(text)
