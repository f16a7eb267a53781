"""Which FAQ entry a message asks about, if any: predictable token matching, no model.

An entry has question phrases per language and an answer per language (rules.yaml's `faq`). A message
matches a phrase by its words: everyday and question words (the lexicon's `common` and
`question_words`) weigh a third of a topic word, at least one topic word must be shared, and
two words match when they are equal or share a long enough beginning ("replied"/"reply",
"추천인이"/"추천인", "걸려요"/"걸리나요", compared letter by letter after splitting Hangul into its
letters). The score weighs how much of the phrase the message covers (most) and how much of the
message the phrase explains; below the threshold, or when two entries tie, the answer is None.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.language.lexicon import Lexicon, default_lexicon
from bot.language.text import cap, jamo, normalise
from bot.memo import per_object

THRESHOLD = 0.6
_HANGUL_LETTER = re.compile(r"[\u1100-\u11ff]")
_TIE = 0.05
_LIGHT = 0.3


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
    light = _light_words(lexicon)
    message = _tokens(text, light)
    if not any(weight == 1.0 for _, weight in message):
        return None
    compiled = _compiled(entries, light)
    candidates: set[int] = set()
    for token, _ in message:
        candidates.update(compiled.by_stem.get(_stem_key(token), ()))
    best: dict[str, FaqMatch] = {}
    for number in sorted(candidates):  # only phrases sharing a topic word's stem can score
        entry, phrase, tokens = compiled.phrases[number]
        score = _score(message, tokens)
        current = best.get(entry.id)
        if current is None or score > current.score:
            best[entry.id] = FaqMatch(entry, score, phrase)
    ranked = sorted(best.values(), key=lambda m: m.score, reverse=True)
    if not ranked or ranked[0].score < threshold:
        return None
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < _TIE:
        return None
    return ranked[0]


@dataclass(frozen=True, eq=False)
class _Light:
    """Compared and hashed by identity: it keys the phrase cache, and comparing two sets of a few
    hundred words for every phrase of every message cost more than the matching itself."""

    words: frozenset[str]
    prefixes: tuple[str, ...]


@per_object
def _light_words(lexicon: Lexicon) -> _Light:
    """Everyday and question words: they count, but much less than the words of the topic (worked
    out once per lexicon)."""
    words: set[str] = set()
    prefixes: list[str] = []
    for vocabulary in lexicon.languages.values():
        words.update(c.strip() for c in vocabulary.common)
        if vocabulary.match == "words":
            words.update(q.strip() for q in vocabulary.question_words)
        else:
            prefixes += [q.strip() for q in vocabulary.question_words]
    return _Light(frozenset(words), tuple(prefixes))


@dataclass(frozen=True, eq=False)
class _Compiled:
    """Every phrase of a set of entries, tokenised once, and which phrases each stem key leads to."""

    entries: Sequence[FaqEntry]
    light: _Light
    phrases: tuple[tuple[FaqEntry, str, tuple[tuple[str, float], ...]], ...]
    by_stem: Mapping[str, tuple[int, ...]]


_COMPILED: dict[tuple[int, int], _Compiled] = {}
_COMPILED_KEPT = 32


def _stem_key(token: str) -> str:
    """Two words `_same` calls the same share their first three letters (or are equal and shorter)."""
    return token[:3]


def _compiled(entries: Sequence[FaqEntry], light: _Light) -> _Compiled:
    """The phrases of `entries` (rules.yaml's, the same tuple for every message), compiled once."""
    key = (id(entries), id(light))
    found = _COMPILED.get(key)
    if found is not None and found.entries is entries and found.light is light:
        return found
    phrases: list[tuple[FaqEntry, str, tuple[tuple[str, float], ...]]] = []
    by_stem: dict[str, list[int]] = {}
    for entry in entries:
        for group in entry.questions.values():
            for phrase in group:
                tokens = _phrase_tokens(phrase, light)
                for token, weight in tokens:
                    if weight == 1.0:
                        numbers = by_stem.setdefault(_stem_key(token), [])
                        if not numbers or numbers[-1] != len(phrases):
                            numbers.append(len(phrases))
                phrases.append((entry, phrase, tokens))
    found = _Compiled(entries, light, tuple(phrases), {k: tuple(v) for k, v in by_stem.items()})
    if len(_COMPILED) >= _COMPILED_KEPT:
        _COMPILED.clear()
    _COMPILED[key] = found
    return found


@functools.lru_cache(maxsize=4096)
def _phrase_tokens(phrase: str, light: _Light) -> tuple[tuple[str, float], ...]:
    """A rules.yaml phrase's tokens: the same few hundred phrases for every message (cached)."""
    return tuple(_tokens(phrase, light))


def _tokens(text: str, light: _Light) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for token in dict.fromkeys(normalise(cap(text)).split()):
        is_light = token in light.words or (bool(light.prefixes) and token.startswith(light.prefixes))
        out.append((jamo(token), _LIGHT if is_light else 1.0))
    return out


@functools.lru_cache(maxsize=65536)
def _same(a: str, b: str) -> bool:
    """Whether two words share a stem (pure, and asked for the same pairs over and over by
    `rules check`'s every-phrase-against-every-entry pass: cached)."""
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
    # Latin stems need four letters in common: "reply"/"replied", never "apply"/"approved".
    hangul = bool(_HANGUL_LETTER.match(a))
    ratio = 0.5 if hangul else 0.6
    return common >= max(3 if hangul else 4, math.ceil(ratio * shorter))


def _score(message: Sequence[tuple[str, float]], phrase: Sequence[tuple[str, float]]) -> float:
    if not phrase:
        return 0.0
    covered = [(p, w) for p, w in phrase if any(_same(p, m) for m, _ in message)]
    if not any(w == 1.0 for _, w in covered):
        return 0.0  # sharing only "how" or "my" is no evidence
    explained = sum(w for m, w in message if any(_same(p, m) for p, _ in phrase))
    recall = sum(w for _, w in covered) / sum(w for _, w in phrase)
    precision = explained / sum(w for _, w in message)
    return 0.75 * recall + 0.25 * precision
