"""Which FAQ entry a message asks about, if any: predictable token matching, no model.

An entry has question phrases per language and an answer per language (rules.yaml's `faq`). A message
matches a phrase by its content words: everyday words (the lexicon's `common` list) are ignored, and
two words match when they are equal or share a long enough beginning ("replied"/"reply",
"추천인이"/"추천인", "걸려요"/"걸리나요", compared letter by letter after splitting Hangul into its
letters). The score weighs how much of the phrase the message covers (most) and how much of the
message the phrase explains; below the threshold, or when two entries tie, the answer is None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.language.lexicon import Lexicon, default_lexicon
from bot.language.text import cap, jamo, normalise

THRESHOLD = 0.6
_HANGUL_LETTER = re.compile(r"[\u1100-\u11ff]")
_TIE = 0.05


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: Mapping[str, Sequence[str]]
    """Phrases people use to ask it, per language."""
    answer: Mapping[str, str]
    """The answer, per language."""

    def answer_in(self, lang: str, fallback: str = "en") -> str:
        if lang in self.answer:
            return self.answer[lang]
        return self.answer.get(fallback) or next(iter(self.answer.values()), "")


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float
    phrase: str
    """The question phrase that matched best."""


def match_faq(
    text: str,
    entries: Sequence[FaqEntry],
    lexicon: Lexicon | None = None,
    *,
    threshold: float = THRESHOLD,
) -> FaqMatch | None:
    lexicon = lexicon or default_lexicon()
    ignore = _ignored(lexicon)
    message = _content(text, ignore)
    if not message:
        return None
    best: dict[str, FaqMatch] = {}
    for entry in entries:
        for phrases in entry.questions.values():
            for phrase in phrases:
                score = _score(message, _content(phrase, ignore))
                current = best.get(entry.id)
                if current is None or score > current.score:
                    best[entry.id] = FaqMatch(entry, score, phrase)
    ranked = sorted(best.values(), key=lambda m: m.score, reverse=True)
    if not ranked or ranked[0].score < threshold:
        return None
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < _TIE:
        return None
    return ranked[0]


def _ignored(lexicon: Lexicon) -> frozenset[str]:
    out: set[str] = set()
    for words in lexicon.languages.values():
        out.update(c.strip() for c in words.common)
    return frozenset(out)


def _content(text: str, ignore: frozenset[str]) -> list[str]:
    tokens = normalise(cap(text)).split()
    return [jamo(t) for t in dict.fromkeys(tokens) if t not in ignore]


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < 3:
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    # Hangul letters come two or three to a syllable, so half of a Korean word is its stem.
    ratio = 0.5 if _HANGUL_LETTER.match(a) else 0.6
    return common >= max(3, math.ceil(ratio * shorter))


def _score(message: list[str], phrase: list[str]) -> float:
    if not phrase:
        return 0.0
    covered = sum(1 for p in phrase if any(_same(p, m) for m in message))
    explained = sum(1 for m in message if any(_same(p, m) for p in phrase))
    if covered == 0:
        return 0.0
    recall = covered / len(phrase)
    precision = explained / len(message)
    if covered == 1 and len(phrase) > 1:
        recall *= 0.8  # one shared word is weak evidence
    return 0.75 * recall + 0.25 * precision
