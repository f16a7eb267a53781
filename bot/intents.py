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
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Understood:
    intent: Intent
    language: str | None = None
    """For LANGUAGE: the language asked for."""


_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_WORD = re.compile(r"[a-z0-9']+")

# Korean: substrings are reliable enough (particles attach to words, so exact words are not).
_KO = {
    Intent.STATUS: (
        "몇 단계",
        "몇단계",
        "어디까지",
        "진행 상황",
        "진행상황",
        "진행",
        "상태",
        "단계",
        "체크리스트",
        "현황",
    ),
    Intent.NEXT: ("다음", "뭐 해야", "뭘 해야", "뭐해야", "무엇을 해야", "어떻게 해야"),
    Intent.HELP: ("도움", "도와", "사용법", "명령어", "헬프"),
    Intent.DONE: ("완료", "했어", "했습니다", "했어요", "끝났", "끝냈", "마쳤", "다 했", "다했"),
    Intent.CANCEL: ("취소",),
    Intent.GREETING: ("안녕", "하이"),
}
_KO_ORDER = (Intent.CANCEL, Intent.DONE, Intent.HELP, Intent.NEXT, Intent.STATUS, Intent.GREETING)

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
    Intent.HELP: ("how does this work", "what can you do", "how do i"),
}
_EN_WORDS = {
    Intent.STATUS: ("status", "progress", "checklist", "step", "stage", "where"),
    Intent.NEXT: ("next",),
    Intent.HELP: ("help", "commands", "usage", "manual"),
    Intent.DONE: ("done", "finished", "complete", "completed", "submitted", "signed", "uploaded", "did"),
    Intent.CANCEL: ("cancel", "nevermind", "abort"),
    Intent.GREETING: ("hi", "hello", "hey", "start", "yo"),
}
_EN_ORDER = (Intent.CANCEL, Intent.DONE, Intent.NEXT, Intent.STATUS, Intent.HELP, Intent.GREETING)
_LANGUAGE_WORDS = {
    "ko": ("korean", "한국어", "한글", "ko", "kor", "한국말"),
    "en": ("english", "영어", "en", "eng"),
}
_FUZZY_VOCAB = sorted({w for words in _EN_WORDS.values() for w in words if len(w) >= 4})


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
        return Understood(Intent.UNKNOWN)
    if norm in ("lang", "language", "언어"):
        return Understood(Intent.LANGUAGE, None)
    lang = _language_request(norm)
    if lang is not None:
        return Understood(Intent.LANGUAGE, lang)
    if has_hangul(norm):
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
    for intent in _EN_ORDER:
        vocab = _EN_WORDS[intent]
        if intent in (Intent.GREETING, Intent.CANCEL) and len(words) > 3:
            continue
        if any(w in vocab for w in corrected):
            if intent is Intent.DONE and _negated(words):
                return Understood(Intent.UNKNOWN)
            return Understood(intent)
    return Understood(Intent.UNKNOWN)


def _correct(word: str) -> str:
    if len(word) < 4:
        return word
    match = difflib.get_close_matches(word, _FUZZY_VOCAB, n=1, cutoff=0.8)
    return match[0] if match else word


def _negated(words: list[str]) -> bool:
    return any(w in ("not", "didnt", "havent", "cant", "cannot", "dont", "no", "yet") for w in words)
