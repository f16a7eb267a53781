"""What an applicant means, in English or Korean, tolerant of wording and typos.

Deliberately small and predictable: phrases and keywords, with fuzzy matching of English words
(difflib) so "stauts" and "whats my stpe" still work. No model, no network.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class Intent(Enum):
    STATUS = "status"
    NEXT = "next"
    HELP = "help"
    DONE = "done"
    LANGUAGE = "language"
    CANCEL = "cancel"
    GREETING = "greeting"
    THANKS = "thanks"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Understood:
    intent: Intent
    language: str | None = None
    """For LANGUAGE: the language asked for."""


_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_WORD = re.compile(r"[a-z0-9']+")

# Korean: substrings are reliable enough (particles attach to words, so exact words are not).
# Unmistakable questions about progress come first: "어디까지 했어?" asks, it does not report.
_KO_STATUS_QUESTION = ("몇 단계", "몇단계", "어디까지", "진행 상황", "진행상황", "체크리스트", "현황")
_KO = {
    Intent.STATUS: ("진행", "상태", "단계"),
    Intent.NEXT: ("다음", "뭐 해야", "뭘 해야", "뭐해야", "무엇을 해야", "어떻게 해", "어디서", "어디에"),
    Intent.HELP: ("도움", "도와", "사용법", "명령어", "헬프"),
    Intent.DONE: ("완료", "했어", "했습니다", "했어요", "끝났", "끝냈", "마쳤", "다 했", "다했"),
    Intent.CANCEL: ("취소",),
    Intent.GREETING: ("안녕", "하이"),
    Intent.THANKS: ("고마", "감사", "알겠", "알았"),
}
_KO_ORDER = (
    Intent.CANCEL,
    Intent.HELP,
    Intent.NEXT,
    Intent.DONE,
    Intent.STATUS,
    Intent.THANKS,
    Intent.GREETING,
)

_EN_PHRASES = {
    Intent.STATUS: (
        "what step am i on",
        "which step am i on",
        "where am i",
        "what step",
        "which step",
        "my status",
        "my progress",
        "show progress",
        "how far",
    ),
    Intent.NEXT: ("what next", "what now", "what do i do", "what should i do", "next step", "whats next"),
    Intent.DONE: (
        "i finished",
        "i did it",
        "i have done",
        "ive done",
        "i am done",
        "im done",
        "finished this",
    ),
    Intent.HELP: ("how does this work", "what can you do", "what is this", "who are you"),
    Intent.THANKS: ("thank you", "thanks a lot", "got it", "sounds good"),
}
_EN_WORDS = {
    Intent.STATUS: ("status", "progress", "checklist", "step", "stage", "where"),
    Intent.NEXT: ("next",),
    Intent.HELP: ("help", "commands", "usage", "manual"),
    Intent.DONE: ("done", "finished", "complete", "completed", "submitted", "signed", "uploaded", "did"),
    Intent.CANCEL: ("cancel", "nevermind", "abort"),
    Intent.GREETING: ("hi", "hello", "hey", "start", "yo"),
    Intent.THANKS: ("thanks", "thx", "ty", "ok", "okay", "cool", "great", "perfect", "nice"),
}
_EN_ORDER = (
    Intent.CANCEL,
    Intent.DONE,
    Intent.NEXT,
    Intent.STATUS,
    Intent.HELP,
    Intent.GREETING,
    Intent.THANKS,
)
_SHORT_ONLY = (Intent.GREETING, Intent.CANCEL, Intent.THANKS)  # "ok" inside a long sentence means little
_QUESTION_WORDS = ("how", "where", "what", "which", "can", "could", "do", "does", "should", "is", "why")
_LANGUAGE_WORDS = {
    "ko": ("korean", "한국어", "한글", "ko", "kor", "한국말"),
    "en": ("english", "영어", "en", "eng"),
}
# Typos are corrected only towards these: never "upload" into "uploaded", nor "there" into "where".
_FUZZY_VOCAB = (
    "status",
    "progress",
    "checklist",
    "help",
    "next",
    "done",
    "finished",
    "complete",
    "cancel",
    "hello",
)


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _language_request(norm: str) -> str | None:
    words = norm.replace("'", "").split()
    if not words or len(words) > 6:
        return None
    switch_words = {
        "language",
        "lang",
        "speak",
        "in",
        "switch",
        "use",
        "please",
        "to",
        "언어",
        "로",
        "으로",
        "말해줘",
    }
    for lang, names in _LANGUAGE_WORDS.items():
        for name in names:
            hit = name in words or any(w.startswith(name) and has_hangul(name) for w in words)
            if hit and (len(words) == 1 or any(w in switch_words or has_hangul(w) for w in words)):
                return lang
    return None


def understand(text: str) -> Understood:
    norm = normalise(text)
    if not norm:
        return Understood(Intent.HELP if text.strip() in ("?", "？") else Intent.UNKNOWN)
    if norm in ("lang", "language", "언어"):
        return Understood(Intent.LANGUAGE, None)
    lang = _language_request(norm)
    if lang is not None:
        return Understood(Intent.LANGUAGE, lang)
    if has_hangul(norm):
        if any(k in norm for k in _KO_STATUS_QUESTION):
            return Understood(Intent.STATUS)
        for intent in _KO_ORDER:
            if any(k in norm for k in _KO[intent]):
                return Understood(intent)
    squashed = norm.replace("'", "")
    for intent, phrases in _EN_PHRASES.items():
        if any(p in squashed for p in phrases):
            return Understood(intent)
    words = _WORD.findall(squashed)
    if not words or len(words) > 12:
        return Understood(Intent.UNKNOWN)
    corrected = [_correct(w) for w in words]
    question = text.strip().endswith(("?", "？")) or words[0] in _QUESTION_WORDS
    for intent in _EN_ORDER:
        vocab = _EN_WORDS[intent]
        if intent in _SHORT_ONLY and len(words) > 3:
            continue
        if any(w in vocab for w in corrected):
            if intent is Intent.DONE and (_negated(words) or question):
                # "where do I upload it?" asks how to do the step; "not done yet" reports nothing
                return Understood(Intent.NEXT if question else Intent.UNKNOWN)
            return Understood(intent)
    if question and words[0] in ("how", "where"):
        return Understood(Intent.NEXT)  # how/where questions are about the current step
    return Understood(Intent.UNKNOWN)


def _correct(word: str) -> str:
    if len(word) < 4:
        return word
    match = difflib.get_close_matches(word, _FUZZY_VOCAB, n=1, cutoff=0.8)
    return match[0] if match else word


def _negated(words: list[str]) -> bool:
    return any(w in ("not", "didnt", "havent", "cant", "cannot", "dont", "no", "yet") for w in words)
