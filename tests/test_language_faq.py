"""FAQ matching: the questions people ask during the weeks of waiting, in English and Korean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.intents import Intent, understand
from bot.language.faq import FaqEntry, match_faq

FAQ_FILE = Path(__file__).parent / "faq_default.yaml"


def load_faq(path: Path = FAQ_FILE) -> list[FaqEntry]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        FaqEntry(item["id"], {k: tuple(v) for k, v in item["questions"].items()}, dict(item["answer"]))
        for item in data["faq"]
    ]


FAQ = load_faq()

ASKED = [
    # the issue's own examples
    ("how long does the MIT review take?", "how_long"),
    ("who should be my reference?", "reference_who"),
    ("my reference hasn't replied", "reference_silent"),
    ("심사 얼마나 걸려요?", "how_long"),
    # phrasings that are not in the FAQ file
    ("How long does PhysioNet take to approve?", "how_long"),
    ("how many days does the review take", "how_long"),
    ("why is my credentialing taking so long??", "how_long"),
    ("자격 인증 심사는 보통 얼마나 걸리나요?", "how_long"),
    ("언제쯤 승인될까요", "how_long"),
    ("can my labmate who is a student be my reference?", "reference_who"),
    ("who do I put as my reference", "reference_who"),
    ("추천인은 누구로 하면 되나요?", "reference_who"),
    ("what do I write in the research summary?", "research_summary"),
    ("연구 요약은 어떻게 써야 해요?", "research_summary"),
    ("my supervisor never got the email from physionet", "reference_silent"),
    ("reference is not responding, what do I do?", "reference_silent"),
    ("추천인이 아직 답이 없어요", "reference_silent"),
    ("교수님이 메일을 못 받았대요", "reference_silent"),
    ("which CITI course do I take?", "citi_course"),
    ("CITI 어떤 과정 들어야 해요?", "citi_course"),
    ("why was my report rejected?", "citi_refused"),
    ("CITI 보고서가 왜 거절됐어요?", "citi_refused"),
    ("how do I renew my CITI training?", "renew"),
    ("CITI 갱신은 어떻게 해요?", "renew"),
    ("who can I contact?", "contact"),
    ("담당자 연락처가 뭐예요?", "contact"),
]

NOT_ASKED = [
    "what step am I on?",
    "done",
    "thanks",
    "kim_j",
    "the meaning of life",
    "완료했어요",
    "안녕하세요",
    "I uploaded the file",
    "next",
]


@pytest.mark.parametrize(("text", "entry"), ASKED)
def test_finds_the_entry(text: str, entry: str) -> None:
    match = match_faq(text, FAQ)
    assert match is not None and match.entry.id == entry, match


@pytest.mark.parametrize("text", NOT_ASKED)
def test_says_nothing_when_unsure(text: str) -> None:
    assert match_faq(text, FAQ) is None


@pytest.mark.parametrize(("text", "entry"), ASKED)
def test_understand_answers_questions_from_the_faq(text: str, entry: str) -> None:
    understood = understand(text, faq=FAQ)
    assert understood.intent is Intent.QUESTION
    assert understood.faq is not None and understood.faq.entry.id == entry


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what should I do next", Intent.NEXT),
        ("done", Intent.DONE),
        ("I applied", Intent.APPLIED),
        ("change my username", Intent.CHANGE_ANSWER),
        ("완료", Intent.DONE),
    ],
)
def test_the_faq_does_not_take_over_other_intents(text: str, intent: Intent) -> None:
    assert understand(text, faq=FAQ).intent is intent


def test_every_entry_answers_in_both_languages_and_says_what_the_issue_asks() -> None:
    by_id = {e.id: e for e in FAQ}
    assert set(by_id) == {
        "how_long",
        "reference_who",
        "research_summary",
        "reference_silent",
        "citi_course",
        "citi_refused",
        "renew",
        "contact",
    }
    for entry in FAQ:
        assert entry.answer_in("en") and entry.answer_in("ko") != entry.answer_in("en")
        assert set(entry.questions) == {"en", "ko"}
    assert "several days" in by_id["how_long"].answer_in("en") and "weeks" in by_id["how_long"].answer_in(
        "en"
    )
    assert "supervisor" in by_id["reference_who"].answer_in("en")
    assert "another student" in by_id["reference_who"].answer_in("en")
    assert "20 words" in by_id["research_summary"].answer_in("en")
    # every entry's own phrases find it
    for entry in FAQ:
        for phrases in entry.questions.values():
            for phrase in phrases:
                match = match_faq(phrase, FAQ)
                assert match is not None and match.entry.id == entry.id, phrase
