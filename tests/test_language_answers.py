"""The PhysioNet username, found inside sentences in both languages; stray words are refused."""

from __future__ import annotations

import pytest

from bot.language.answers import extract_username


@pytest.mark.parametrize(
    ("text", "username"),
    [
        ("kim_j", "kim_j"),
        ("jdoe", "jdoe"),
        ("my username is kim_j", "kim_j"),
        ("My PhysioNet username is kim_j.", "kim_j"),
        ("username: kim_j", "kim_j"),
        ("kim_j is my username", "kim_j"),
        ("it's jdoe42", "jdoe42"),
        ("its jdoe", "jdoe"),
        ("I registered as jdoe", "jdoe"),
        ("sure, it is minji.kim", "minji.kim"),
        ("`kim_j`", "kim_j"),
        ('"kim_j"', "kim_j"),
        ("제 아이디는 kim_j 입니다", "kim_j"),
        ("kim_j입니다", "kim_j"),
        ("kim_j예요", "kim_j"),
        ("아이디: kim_j", "kim_j"),
        ("PhysioNet 사용자 이름은 jdoe42 이에요", "jdoe42"),
        ("제 username은 kim_j입니다", "kim_j"),
        ("네 kim_j 맞아요", "kim_j"),
    ],
)
def test_finds_the_username(text: str, username: str) -> None:
    assert extract_username(text) == username


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "ok",
        "okay",
        "done",
        "dnoe",  # a typo of done
        "yse",
        "registered",
        "cancel",
        "approve",
        "lgtm",
        "pending",
        "show",
        "forget",
        "stats",
        "reset",
        "status",
        "help",
        "undo",
        "thanks",
        "hello",
        "username",
        "네",
        "김민지",  # Hangul is never a PhysioNet username
        "제 아이디는 김민지입니다",
        "",
        "a",
        "ab",  # too short for the pattern
        "kim j",  # two plain words, no label: unsure
        "the weather is nice today",
        "the meaning of life",
        "kim@snu.ac.kr",  # an e-mail address, not the username
        "https://physionet.org/users/kim_j/",
        "x" * 60,  # too long
    ],
)
def test_refuses_words_that_cannot_be_a_username(text: str) -> None:
    assert extract_username(text) is None


def test_the_answer_pattern_can_be_the_rules_one() -> None:
    assert extract_username("my username is kim_j", pattern=r"^[a-z]{3,10}$") is None
    assert extract_username("my username is jdoe", pattern=r"^[a-z]{3,10}$") == "jdoe"
