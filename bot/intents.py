"""What a person means, in any language the lexicon knows, tolerant of wording and typos.

Deliberately small and predictable: phrases and words from bot/locales/words.<lang>.yaml, read with
a few rules, no model, no network, at most MAX_CHARS of a message analysed.

- Negation and tense: "not yet", "I haven't", "아직 안 했어요", "내일 할게요" are NOT_YET, never DONE.
- A question is never a completion: "did I finish?", "다 했나요?" ask for the STATUS.
- DONE only when unambiguous; a hedge ("I think I'm done", "끝난 것 같아요"), a bare verb that may
  mean something else ("확인했어요"), or a typo ("dnoe") is MAYBE_DONE: the caller asks first.
- "I applied", "신청했어요" is APPLIED: applying is not being credentialed.
- A message of several sentences is read sentence by sentence: "Done! What's next?" is DONE;
  a completion contradicted in another sentence ("Done. Wait, not yet") is MAYBE_DONE.
- Typos of the words listed under `typos` are corrected: "stauts", "whats my stpe".
- UNKNOWN (and an unanswered QUESTION) come with the two or three likeliest intents, for
  "did you mean ...?".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from bot.language.detect import language_request, message_language
from bot.language.faq import FaqEntry, FaqMatch, match_faq
from bot.language.lexicon import Lexicon, LexiconError, default_lexicon
from bot.language.text import cap, has_hangul, normalise, padded, typo_of
from bot.memo import per_object

__all__ = ["Intent", "Understood", "has_hangul", "normalise", "understand"]


class Intent(Enum):
    DONE = "done"
    """The current step is finished, unambiguously."""
    MAYBE_DONE = "maybe_done"
    """Perhaps finished: ask "Did you finish X? yes / no" before recording anything."""
    NOT_YET = "not_yet"
    APPLIED = "applied"
    """Applied (for credentialing): recorded as applied, the step stays open."""
    YES = "yes"
    NO = "no"
    UNDO = "undo"
    CHANGE_ANSWER = "change_answer"
    STATUS = "status"
    NEXT = "next"
    HELP = "help"
    GREETING = "greeting"
    THANKS = "thanks"
    CANCEL = "cancel"
    LANGUAGE = "language"
    QUESTION = "question"
    """A question about the process; `faq` holds the matching FAQ entry when one was given."""
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Understood:
    intent: Intent
    language: str | None = None
    """For LANGUAGE: the language asked for (None: ask which)."""
    message_language: str | None = None
    """The language the message is written in; None for a neutral one ("ok", "kim_j", "👍")."""
    alternatives: tuple[Intent, ...] = ()
    """For UNKNOWN and an unanswered QUESTION: the likeliest intents, best first."""
    faq: FaqMatch | None = None
    question: bool = False
    """The message asks something."""


class _Strength(IntEnum):
    WEAK = 1  # a how-to or waiting phrase: an FAQ answer is better when there is one
    WORD = 2  # one word
    PHRASE = 3  # several words, or a reading of negation and tense


_SHORT = 4  # greetings, thanks, yes, no and cancel as single words only count in short sentences
_SHORT_ONLY = frozenset({Intent.GREETING, Intent.THANKS, Intent.CANCEL, Intent.YES, Intent.NO})
_QUESTION_START_MIN_WORDS = 3  # "will do" is not a question, "will it take long" is
_MAX_CLAUSES = 8
_CLAUSE = re.compile(r"(?<=[.!?。！？;])\s+|\n+")
_NOT_IN_VOCABULARY = frozenset({Intent.UNKNOWN, Intent.LANGUAGE})
_FAQ_MAY_REPLACE = frozenset(
    {
        Intent.QUESTION,
        Intent.UNKNOWN,
        Intent.STATUS,
        Intent.NEXT,
        Intent.HELP,
        Intent.NOT_YET,
        Intent.GREETING,
        Intent.THANKS,
    }
)
_FAQ_SURE = 0.85
_OFFERABLE = (
    Intent.STATUS,
    Intent.DONE,
    Intent.HELP,
    Intent.NEXT,
    Intent.UNDO,
    Intent.CHANGE_ANSWER,
    Intent.APPLIED,
    Intent.CANCEL,
)
_DEFAULT_ALTERNATIVES = (Intent.STATUS, Intent.DONE, Intent.HELP)
# Several sentences: the first of these found wins.
_COMBINE = (
    Intent.UNDO,
    Intent.CHANGE_ANSWER,
    Intent.CANCEL,
    Intent.DONE,
    Intent.APPLIED,
    Intent.MAYBE_DONE,
    Intent.YES,
    Intent.NO,
    Intent.NOT_YET,
    Intent.HELP,
    Intent.NEXT,
    Intent.STATUS,
    Intent.QUESTION,
    Intent.GREETING,
    Intent.THANKS,
    Intent.UNKNOWN,
)


@dataclass(frozen=True)
class _Needle:
    text: str
    intent: Intent
    strength: _Strength
    consume: bool
    """Whole-word phrases hide the words inside them ("no problem" is not "no"); parts of words
    (substring languages) do not, so "신청했어요" is both 신청했 and 했어요."""


@dataclass
class _Hit:
    strength: _Strength
    typo: bool


@dataclass
class _Clause:
    intent: Intent
    strength: _Strength
    question: bool
    completion: bool


@dataclass
class _Analyser:
    lexicon: Lexicon
    needles: list[_Needle] = field(default_factory=list)
    negation: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    hedge: list[str] = field(default_factory=list)
    contrast: list[str] = field(default_factory=list)
    question_needles: list[str] = field(default_factory=list)
    question_starts: set[str] = field(default_factory=set)
    question_endings: tuple[str, ...] = ()
    topics: list[str] = field(default_factory=list)
    typo_targets: list[str] = field(default_factory=list)
    known: frozenset[str] = frozenset()
    fuzzy: dict[str, set[Intent]] = field(default_factory=dict)
    leads: dict[str, list[int]] = field(default_factory=dict)
    """A needle's first two characters (one, when it has one) -> its places in `needles`: a message
    is compared only with the needles whose beginning it holds (700 needles, a few dozen each)."""

    @classmethod
    def build(cls, lexicon: Lexicon) -> _Analyser:
        self = cls(lexicon)
        names = {i.value: i for i in Intent if i not in _NOT_IN_VOCABULARY}
        endings: list[str] = []
        for words in lexicon.languages.values():
            for name, vocabulary in words.intents.items():
                if name not in names:
                    raise LexiconError(
                        f"words.{words.lang}.yaml: unknown intent {name!r}; known: {sorted(names)}"
                    )
                intent = names[name]
                consume = words.match == "words"
                for entry in vocabulary.phrases + vocabulary.words:
                    strength = _Strength.PHRASE if len(entry.split()) > 1 else _Strength.WORD
                    self.needles.append(_Needle(words.needle(entry), intent, strength, consume))
                    if len(entry.strip()) >= 3:
                        self.fuzzy.setdefault(entry.strip(), set()).add(intent)
                for entry in vocabulary.weak:
                    self.needles.append(_Needle(words.needle(entry), intent, _Strength.WEAK, consume))
            self.negation += [words.needle(e) for e in words.negation]
            self.future += [words.needle(e) for e in words.future]
            self.hedge += [words.needle(e) for e in words.hedge]
            self.contrast += [words.needle(e) for e in words.contrast]
            self.topics += [words.needle(e) for e in words.topics]
            if words.match == "words":
                self.question_starts.update(e.strip() for e in words.question_words)
                self.typo_targets += [e.strip() for e in words.typos]
            else:
                self.question_needles += [words.needle(e) for e in words.question_words]
            endings += [e.strip() for e in words.question_endings]
        self.needles.sort(key=lambda n: len(n.text.strip()), reverse=True)
        for place, needle in enumerate(self.needles):
            if needle.text:
                self.leads.setdefault(needle.text[:2], []).append(place)
        self.question_endings = tuple(endings)
        self.known = lexicon.all_words()
        return self

    def correct(self, token: str) -> str:
        if token in self.known or not token.isascii() or not token.isalpha():
            return token
        close = [t for t in self.typo_targets if typo_of(token, t)]
        if not close:
            return token
        # "helo": one edit from both help and hello; the closer spelling wins
        return max(close, key=lambda t: difflib.SequenceMatcher(None, token, t).ratio())

    def clause(self, raw: str, extra: Iterable[Intent] = ()) -> _Clause | None:
        tokens = normalise(raw).split()
        hits: dict[Intent, _Hit] = {i: _Hit(_Strength.WORD, False) for i in extra}
        if not tokens and not hits:
            return None
        original = padded(" ".join(tokens))
        text = padded(" ".join(self.correct(t) for t in tokens))
        short = len(tokens) <= _SHORT
        work = text
        for needle in self._needles_in(text):
            if needle.intent in _SHORT_ONLY and needle.strength is _Strength.WORD and not short:
                continue
            if needle.text in work:
                typo = needle.text not in original
                hit = hits.get(needle.intent)
                if hit is None:
                    hits[needle.intent] = _Hit(needle.strength, typo)
                else:
                    hit.strength = max(hit.strength, needle.strength)
                    hit.typo = hit.typo and typo
                if needle.consume:
                    work = work.replace(needle.text, " | ")
        question = (
            "?" in raw
            or "？" in raw
            or (len(tokens) >= _QUESTION_START_MIN_WORDS and tokens[0] in self.question_starts)
            or _any_in(self.question_needles, text)
            or any(t.endswith(self.question_endings) for t in tokens if self.question_endings)
        )
        intent, strength = _decide(
            hits,
            question=question,
            negated=_any_in(self.negation, text),
            future=_any_in(self.future, text),
            hedged=_any_in(self.hedge, text),
            contrast=_any_in(self.contrast, text),
            topic=_any_in(self.topics, text),
        )
        completion = any(i in hits for i in (Intent.DONE, Intent.MAYBE_DONE, Intent.APPLIED))
        return _Clause(intent, strength, question, completion)

    def _needles_in(self, text: str) -> list[_Needle]:
        """The needles that may be in `text`, in `needles`' order (consuming one only removes text,
        so a needle not in the text at first never appears later)."""
        places: set[int] = set()
        for start in range(len(text)):
            for lead in (text[start : start + 2], text[start]):
                found = self.leads.get(lead)
                if found is not None:
                    places.update(found)
        return [self.needles[place] for place in sorted(places)]

    def alternatives(self, text: str) -> tuple[Intent, ...]:
        scores: dict[Intent, float] = {}
        norm = normalise(text)
        tokens = [self.correct(t) for t in norm.split()][:12]
        candidates = list(self.fuzzy)
        for probe in [*tokens, norm]:
            if len(probe) < 3:
                continue
            for entry in difflib.get_close_matches(probe, candidates, n=6, cutoff=0.6):
                ratio = difflib.SequenceMatcher(None, probe, entry).ratio()
                for intent in self.fuzzy[entry]:
                    offer = Intent.DONE if intent is Intent.MAYBE_DONE else intent
                    if offer in _OFFERABLE:
                        scores[offer] = max(scores.get(offer, 0.0), ratio)
        ranked = sorted(scores, key=lambda i: (-scores[i], _OFFERABLE.index(i)))
        for default in _DEFAULT_ALTERNATIVES:
            if len(ranked) >= 3:
                break
            if default not in ranked:
                ranked.append(default)
        return tuple(ranked[:3])


def _any_in(needles: Sequence[str], text: str) -> bool:
    return any(n in text for n in needles)


def _decide(
    hits: dict[Intent, _Hit],
    *,
    question: bool,
    negated: bool,
    future: bool,
    hedged: bool,
    contrast: bool,
    topic: bool,
) -> tuple[Intent, _Strength]:
    def strong(intent: Intent) -> bool:
        hit = hits.get(intent)
        return hit is not None and hit.strength >= _Strength.WORD

    derived = _Strength.PHRASE
    for intent in (Intent.UNDO, Intent.CHANGE_ANSWER, Intent.CANCEL):
        if intent in hits:
            return intent, hits[intent].strength
    completion = any(i in hits for i in (Intent.DONE, Intent.MAYBE_DONE, Intent.APPLIED))
    if question:
        if completion:
            return Intent.STATUS, _Strength.WORD  # "did I finish?", "다 했나요?" ask, they do not report
        for intent in (Intent.NEXT, Intent.STATUS, Intent.HELP, Intent.GREETING):
            if strong(intent):
                return intent, hits[intent].strength
        if Intent.NEXT in hits:
            return Intent.NEXT, _Strength.WEAK
        return Intent.QUESTION, _Strength.WEAK
    if Intent.APPLIED in hits:
        return (Intent.NOT_YET if negated or future else Intent.APPLIED), derived
    if Intent.DONE in hits or Intent.MAYBE_DONE in hits:
        if hedged:
            return Intent.MAYBE_DONE, derived
        if strong(Intent.NOT_YET):
            return Intent.NOT_YET, derived
        if negated or future:
            return (Intent.MAYBE_DONE if contrast else Intent.NOT_YET), derived
        done = hits.get(Intent.DONE)
        if done is None or done.typo:
            return Intent.MAYBE_DONE, derived
        return Intent.DONE, done.strength
    for intent in (
        Intent.NOT_YET,
        Intent.NO,
        Intent.YES,
        Intent.NEXT,
        Intent.STATUS,
        Intent.HELP,
        Intent.GREETING,
        Intent.THANKS,
        Intent.QUESTION,
    ):
        if strong(intent):
            return intent, hits[intent].strength
    for intent in (Intent.NOT_YET, Intent.NEXT):
        if intent in hits:
            return intent, _Strength.WEAK
    if topic:
        return Intent.QUESTION, _Strength.WEAK
    if negated or future:
        return Intent.NOT_YET, _Strength.WEAK  # "I can't", "I'll send it tonight"
    return Intent.UNKNOWN, _Strength.WEAK


def _combine(clauses: list[_Clause]) -> _Clause:
    if len(clauses) == 1:
        return clauses[0]
    found = {c.intent: c for c in reversed(clauses)}
    reported = any(i in found for i in (Intent.DONE, Intent.APPLIED))
    if reported and (Intent.NOT_YET in found or Intent.NO in found):
        return _Clause(Intent.MAYBE_DONE, _Strength.PHRASE, False, True)  # "Done. Wait, not yet."
    for intent in _COMBINE:
        if intent in found:
            return found[intent]
    return clauses[0]


_analyser = per_object(_Analyser.build)
"""The analyser of a lexicon, built once."""


def understand(text: str, lexicon: Lexicon | None = None, faq: Sequence[FaqEntry] = ()) -> Understood:
    """What `text` means. Give the FAQ entries (rules.yaml) to have questions matched to them."""
    lexicon = lexicon or default_lexicon()
    analyser = _analyser(lexicon)
    text = cap(text)
    written = message_language(text, lexicon)
    request = language_request(text, lexicon)
    if request is not None:
        return Understood(Intent.LANGUAGE, request.lang, written)
    if not normalise(text):
        stripped = text.strip()
        if stripped in ("?", "？"):
            return Understood(Intent.HELP, message_language=written, question=True)
    emoji = _emoji(text, lexicon)
    parts = [p for p in _CLAUSE.split(text) if p.strip()][:_MAX_CLAUSES]
    clauses = [
        c for i, p in enumerate(parts) if (c := analyser.clause(p, emoji if i == 0 else ())) is not None
    ]
    if not clauses:
        if emoji:
            return Understood(emoji[0], message_language=written)
        return Understood(Intent.UNKNOWN, message_language=written, alternatives=analyser.alternatives(text))
    result = _combine(clauses)
    question = any(c.question for c in clauses)
    match: FaqMatch | None = None
    if faq and result.intent in _FAQ_MAY_REPLACE:
        match = match_faq(text, faq, lexicon)
        if match is not None and (
            result.intent in (Intent.QUESTION, Intent.UNKNOWN)
            or result.strength < _Strength.PHRASE
            or match.score >= _FAQ_SURE
        ):
            return Understood(Intent.QUESTION, message_language=written, faq=match, question=question)
    alternatives: tuple[Intent, ...] = ()
    if result.intent in (Intent.UNKNOWN, Intent.QUESTION):
        alternatives = analyser.alternatives(text)
    return Understood(result.intent, message_language=written, alternatives=alternatives, question=question)


def _emoji(text: str, lexicon: Lexicon) -> list[Intent]:
    neutral = lexicon.neutral
    found: list[Intent] = []
    for intent, emoji in (
        (Intent.THANKS, neutral.thanks_emoji),
        (Intent.YES, neutral.yes_emoji),
        (Intent.NO, neutral.no_emoji),
    ):
        if any(e in text for e in emoji):
            found.append(intent)
    return found
