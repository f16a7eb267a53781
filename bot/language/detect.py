"""Which language a message is written in, which language it asks for, and which to reply in.

All words come from the lexicon (bot/locales/words.*.yaml). A message shows its language by its
script (Hangul) or by known words of a language (English everyday words); brand names, "ok",
usernames, numbers and emoji show nothing, and such a message is neutral (None).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.language.lexicon import Lexicon, Words, default_lexicon
from bot.language.text import SCRIPTS, cap, normalise, padded, typo_of
from bot.memo import per_object

_USERNAME_LIKE = re.compile(r"\S*[@/:]\S*|[a-z0-9_.\-]*[0-9_][a-z0-9_.\-]*")
_RUNS = re.compile(r"[^\W\d_]+")
_LATIN = SCRIPTS["latin"]


def _script_of(run: str) -> str | None:
    for name, pattern in SCRIPTS.items():
        if pattern.match(run):
            return name
    return None


def language_scores(text: str, lexicon: Lexicon | None = None) -> dict[str, int]:
    """How many words of the message belong to each language."""
    lexicon = lexicon or default_lexicon()
    raw = unicodedata.normalize("NFKC", cap(text)).lower()
    raw = re.sub(r"['’‘`]", "", raw)
    raw = _USERNAME_LIKE.sub(" ", raw)
    scores = dict.fromkeys(lexicon.codes, 0)
    neutral = lexicon.neutral.neutral_words | lexicon.neutral.commands
    for run in _RUNS.findall(raw):
        if run in neutral:
            continue
        script = _script_of(run)
        for code, words in lexicon.languages.items():
            if script is None or words.script != script:
                continue
            if script != "latin" or run in words.known:
                scores[code] += 1
    return scores


def message_language(text: str, lexicon: Lexicon | None = None) -> str | None:
    """The language the message is written in, or None for a neutral one ("ok", "kim_j", "👍")."""
    scores = language_scores(text, lexicon)
    best = max(scores.values(), default=0)
    if best == 0:
        return None
    leaders = [code for code, score in scores.items() if score == best]
    return leaders[0] if len(leaders) == 1 else None


@dataclass(frozen=True)
class LanguageRequest:
    """An explicit request for a language. `lang` is None when none (or several) was named."""

    lang: str | None


def language_request(text: str, lexicon: Lexicon | None = None) -> LanguageRequest | None:
    """ "한국어로", "in English please", "English", "I don't speak Korean" (asks for English).

    A request is a short message made only of language names, switch words and everyday words;
    "is the CITI course in Korean?" is not one.
    """
    lexicon = lexicon or default_lexicon()
    norm = normalise(cap(text))
    tokens = norm.split()
    if not tokens or len(tokens) > 8:
        return None
    words = _request_words(lexicon)
    tokens = [_corrected(t, words.typo_targets, words.known) for t in tokens]
    work = padded(" ".join(tokens))
    named: list[str] = []
    for needle, code in words.names:
        if needle in work:
            work = work.replace(needle, " ")
            if code not in named:
                named.append(code)
    generic = _remove(work, words.generic)
    refusal = _remove(generic[0], words.refuse)
    rest, _ = _remove(refusal[0], words.switch)
    leftover = "".join(t for t in rest.split() if t not in words.everyday)
    if len(leftover) > 2:
        return None
    if not named:
        return LanguageRequest(None) if generic[1] else None
    if refusal[1]:
        written = message_language(text, lexicon)
        if written is not None and written not in named:
            return LanguageRequest(written)
        others = [code for code in lexicon.codes if code not in named]
        return LanguageRequest(others[0] if len(others) == 1 else None)
    return LanguageRequest(named[0] if len(named) == 1 else None)


@dataclass(frozen=True)
class _RequestWords:
    """What language_request looks for, in the order it looks (per language, longest first)."""

    typo_targets: tuple[str, ...]
    known: frozenset[str]
    names: tuple[tuple[str, str], ...]
    """(needle, language code) of each language name."""
    generic: tuple[str, ...]
    refuse: tuple[str, ...]
    switch: tuple[str, ...]
    everyday: frozenset[str]

    @classmethod
    def build(cls, lexicon: Lexicon) -> _RequestWords:
        languages = list(lexicon.languages.values())

        def needles(field: Callable[[Words], tuple[str, ...]]) -> tuple[str, ...]:
            found = (w.needle(e) for w in languages for e in sorted(field(w), key=len, reverse=True))
            return tuple(n for n in found if n.strip())

        return cls(
            typo_targets=tuple(t for w in languages if w.match == "words" for t in w.typos),
            known=lexicon.all_words(),
            names=tuple(
                (w.needle(name), code)
                for w in languages
                for code, names in w.language_names.items()
                for name in sorted(names, key=len, reverse=True)
            ),
            generic=needles(lambda w: w.language_words),
            refuse=needles(lambda w: w.refuse),
            switch=needles(lambda w: w.switch),
            everyday=frozenset(c for w in languages if w.match == "words" for c in w.common),
        )


_request_words = per_object(_RequestWords.build)
"""Worked out once per lexicon: sorting and padding every entry took most of a message's 0.15 ms."""


def _remove(work: str, needles: Iterable[str]) -> tuple[str, bool]:
    found = False
    for needle in needles:
        if needle in work:
            work = work.replace(needle, " ")
            found = True
    return work, found


def _corrected(token: str, targets: tuple[str, ...], known: frozenset[str]) -> str:
    if token in known or not _LATIN.match(token):
        return token
    return next((t for t in targets if typo_of(token, t)), token)


# --- the conversation's language ------------------------------------------------------------------

SWITCH_AFTER = 2
"""Messages in a row in another language before the conversation follows."""


@dataclass(frozen=True)
class LanguageState:
    """What the bot remembers to choose a person's language (store it beside their preferences)."""

    lang: str | None = None
    """The conversation's language; None until a message shows one (the default is used meanwhile)."""
    other: str | None = None
    """The other language the latest messages were written in."""
    streak: int = 0
    """How many messages in a row were written in `other`."""

    def reply_language(self, default: str) -> str:
        return self.lang or default


def next_language(
    state: LanguageState,
    *,
    written: str | None,
    requested: str | None = None,
    supported: Iterable[str],
) -> LanguageState:
    """The state after one message. `written` is message_language(text); `requested` the language of
    an explicit request (a LANGUAGE intent). Rules:

    - an explicit request for a supported language switches at once;
    - the first message that shows a supported language sets the conversation's language;
    - neutral messages ("ok", a username, 👍) change nothing and do not break a streak;
    - a message in the conversation's language resets the streak;
    - SWITCH_AFTER messages in a row in another supported language switch to it, so one Hangul
      word does not lock an English speaker into Korean.
    """
    languages = set(supported)
    if requested is not None and requested in languages:
        return LanguageState(requested)
    if written is None or written not in languages:
        return state
    if state.lang is None:
        return LanguageState(written)
    if written == state.lang:
        return LanguageState(state.lang)
    streak = state.streak + 1 if state.other == written else 1
    if streak >= SWITCH_AFTER:
        return LanguageState(written)
    return LanguageState(state.lang, written, streak)
