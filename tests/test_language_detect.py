"""Which language a message is in, what it asks for, and which language the bot replies in."""

from __future__ import annotations

import pytest

from bot.intents import Intent, understand
from bot.language.detect import LanguageState, language_request, message_language, next_language

SUPPORTED = ("en", "ko")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("도와주세요", "ko"),
        ("안녕", "ko"),
        ("hello", "en"),
        ("what step am I on?", "en"),
        ("I don't speak 한국어", "en"),  # one Hangul word in an English sentence
        ("PhysioNet에 CITI 보고서 올리기", "ko"),
        ("ok", None),
        ("okay", None),
        ("kim_j", None),
        ("jdoe42", None),
        ("👍", None),
        ("🙏", None),
        ("2", None),
        ("PDF", None),
        ("CITI", None),
        ("done", None),  # a command word shows no language
        ("", None),
    ],
)
def test_message_language(text: str, language: str | None) -> None:
    assert message_language(text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("한국어", "ko"),
        ("한국어로", "ko"),
        ("한국어로 해줘", "ko"),
        ("한국어로 말해 주세요", "ko"),
        ("korean", "ko"),
        ("Korean please", "ko"),
        ("can you speak korean", "ko"),
        ("switch to Korean", "ko"),
        ("English", "en"),
        ("english", "en"),
        ("in English please", "en"),
        ("English please", "en"),
        ("englsh pls", "en"),
        ("영어", "en"),
        ("영어로 해주세요", "en"),
        ("I don't speak Korean", "en"),
        ("I can't read Korean", "en"),
        ("한국어 못해요", "en"),
        ("영어 잘 못해요", "ko"),
        ("in 한국어 please", "ko"),
        ("language", None),
        ("change language", None),
        ("언어 변경", None),
        ("English or Korean?", None),
    ],
)
def test_language_requests(text: str, language: str | None) -> None:
    understood = understand(text)
    assert (understood.intent, understood.language) == (Intent.LANGUAGE, language)


@pytest.mark.parametrize(
    "text",
    [
        "Is the CITI course available in Korean?",
        "영어로 된 자료 있어요?",
        "my English is not good but I finished",
        "Korean university e-mail is fine?",
        "done",
        "hello",
    ],
)
def test_not_language_requests(text: str) -> None:
    assert language_request(text) is None


def _run(messages: list[str], state: LanguageState | None = None) -> list[str]:
    state = state or LanguageState()
    replies = []
    for text in messages:
        understood = understand(text)
        requested = understood.language if understood.intent is Intent.LANGUAGE else None
        state = next_language(
            state, written=understood.message_language, requested=requested, supported=SUPPORTED
        )
        replies.append(state.reply_language("en"))
    return replies


def test_first_reply_in_the_language_of_the_first_message() -> None:
    assert _run(["도와주세요"]) == ["ko"]
    assert _run(["안녕"]) == ["ko"]
    assert _run(["hello"]) == ["en"]


def test_a_neutral_first_message_waits_for_one_that_shows_a_language() -> None:
    assert _run(["ok", "kim_j", "안녕하세요"]) == ["en", "en", "ko"]


def test_one_hangul_word_does_not_lock_an_english_speaker_into_korean() -> None:
    assert _run(["hello", "감사", "what step am I on?", "네", "thanks"]) == ["en", "en", "en", "en", "en"]


def test_two_messages_in_a_row_in_the_other_language_switch() -> None:
    assert _run(["hello", "안녕하세요", "도와주세요"]) == ["en", "en", "ko"]
    assert _run(["hello", "안녕하세요", "👍", "도와주세요"]) == ["en", "en", "en", "ko"]  # neutral: no break


def test_an_explicit_request_switches_at_once() -> None:
    assert _run(["안녕하세요", "English please"]) == ["ko", "en"]
    assert _run(["hello", "한국어로"]) == ["en", "ko"]
    assert _run(["안녕하세요", "I don't speak Korean"]) == ["ko", "en"]


def test_an_unsupported_language_changes_nothing() -> None:
    state = next_language(LanguageState("en"), written="fr", requested="fr", supported=SUPPORTED)
    assert state == LanguageState("en")
