"""Korean particles follow the sound of the word before them, in the helper and in every sentence."""

from __future__ import annotations

import re

import pytest

from bot.i18n import Translator, load_catalog
from bot.language.particles import PAIRS, Final, attach, final_of, particle


@pytest.mark.parametrize(
    ("word", "final"),
    [
        ("증빙", Final.CONSONANT),
        ("보고서", Final.VOWEL),
        ("서울", Final.RIEUL),
        ("PhysioNet", Final.CONSONANT),  # 피지오넷
        ("CITI", Final.VOWEL),  # 씨티
        ("PDF", Final.VOWEL),  # 피디에프
        ("pdf", Final.VOWEL),
        ("MIT", Final.VOWEL),  # 엠아이티
        ("HTML", Final.RIEUL),  # 에이치티엠엘
        ("Slack", Final.CONSONANT),  # 슬랙
        ("Discord", Final.VOWEL),  # 디스코드
        ("Google", Final.RIEUL),  # 구글
        ("report", Final.VOWEL),  # 리포트
        ("step", Final.CONSONANT),  # 스텝
        ("form", Final.CONSONANT),  # 폼
        ("name", Final.CONSONANT),  # 네임
        ("jdoe", Final.VOWEL),
        ("kim_j", Final.VOWEL),  # 킴 제이
        ("kim", Final.CONSONANT),
        ("jdoe42", Final.VOWEL),  # 이
        ("1", Final.RIEUL),  # 일
        ("3", Final.CONSONANT),  # 삼
        ("5", Final.VOWEL),  # 오
        ("10", Final.CONSONANT),  # 십
        ("2026-01-31", Final.RIEUL),  # 일
        ('"증빙"', Final.CONSONANT),  # quotes are skipped
        ("🙂", Final.UNKNOWN),
        ("", Final.UNKNOWN),
    ],
)
def test_reads_the_last_sound(word: str, final: Final) -> None:
    assert final_of(word) is final


@pytest.mark.parametrize(
    ("word", "written", "expected"),
    [
        ("증빙", "가", "증빙이"),
        ("증빙", "를", "증빙을"),
        ("보고서", "을", "보고서를"),
        ("보고서", "이", "보고서가"),
        ("증빙", "는", "증빙은"),
        ("보고서", "은", "보고서는"),
        ("서울", "으로", "서울로"),  # ㄹ takes 로
        ("증빙", "로", "증빙으로"),
        ("보고서", "으로", "보고서로"),
        ("증빙", "와", "증빙과"),
        ("보고서", "과", "보고서와"),
        ("민준", "야", "민준아"),
        ("지수", "아", "지수야"),
        ("kim_j", "(으)로", "kim_j로"),
        ("Slack", "을(를)", "Slack을"),
        ("🙂", "을", "🙂을(를)"),
        ("🙂", "로", "🙂(으)로"),
        ("2026-01-31", "이며", "2026-01-31이며"),
        ("2026-01-02", "이며", "2026-01-02며"),
    ],
)
def test_attach(word: str, written: str, expected: str) -> None:
    assert attach(word, written) == expected


def test_rejects_what_is_not_a_particle() -> None:
    with pytest.raises(ValueError):
        particle("증빙", "에서")


TRANSLATOR = Translator()
NOUNS = {"vowel": "나무", "consonant": "수박", "rieul": "서울", "latin": "Slack", "digit": "7"}
_CLOSERS = "\"'”’」』*_`"
_HANGUL = "[\uac00-\ud7a3]"


def _wrong_forms(noun: str) -> list[str]:
    final = final_of(noun)
    wrong = []
    for consonant_form, vowel_form in PAIRS:
        takes_vowel_form = final is Final.VOWEL or (
            final is Final.RIEUL and consonant_form.startswith("으로")
        )
        wrong.append(consonant_form if takes_vowel_form else vowel_form)
    return wrong


def _korean_sentences() -> list[tuple[str, str]]:
    catalog = load_catalog()
    return sorted((k, v) for k, v in catalog["ko"].items() if re.search(r"\{\w+(:[^}]*)?\}", v))


@pytest.mark.parametrize(("key", "template"), _korean_sentences())
@pytest.mark.parametrize("kind", sorted(NOUNS))
def test_every_korean_sentence_gets_its_particles_right(key: str, template: str, kind: str) -> None:
    noun = NOUNS[kind]
    names = set(re.findall(r"\{(\w+)(?::[^}]*)?\}", template))
    text = TRANSLATOR.t("ko", key, **dict.fromkeys(names, noun))
    assert "{" not in text, text
    for hedge in ("을(를)", "를(을)", "이(가)", "가(이)", "은(는)", "는(은)", "(으)로", "과(와)", "와(과)"):
        assert hedge not in text, (key, text)
    assert _wrong_particle(noun, text) is None, (key, text)


def _wrong_particle(noun: str, text: str) -> str | None:
    for wrong in _wrong_forms(noun):
        pattern = re.escape(noun) + f"[{re.escape(_CLOSERS)}]*" + re.escape(wrong) + f"(?!{_HANGUL})"
        if re.search(pattern, text):
            return wrong
    return None


def test_the_check_catches_the_bugs_it_is_for() -> None:
    template = load_catalog()["ko"]["upload.accepted"]
    assert _wrong_particle("수박", template.replace("{document}", "수박")) == "가"  # no translator: 수박가
    assert _wrong_particle("나무", '"나무"으로 기록') == "으로"
    assert _wrong_particle("서울", "서울으로") == "으로"
    assert _wrong_particle("수박", "수박이 접수") is None


def test_the_sentences_the_issue_names_are_fixed() -> None:
    t = Translator()
    proof = {"en": "proof of PhysioNet approval", "ko": "PhysioNet 승인 증빙"}
    assert "증빙이 확인되었습니다" in t.t("ko", "upload.accepted", document=proof)
    assert "증빙을 이 대화창에" in t.t("ko", "status.finish_document", document=proof)
    report = {"en": "CITI completion report", "ko": "CITI 수료 보고서"}
    assert "보고서가 확인되었습니다" in t.t("ko", "upload.accepted", document=report)
    assert "보고서를 이 대화창에" in t.t("ko", "steps.need_document", title="x", document=report)
