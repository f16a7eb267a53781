"""Every word the bot understands, loaded from per-language files beside the sentences.

`bot/locales/words.<lang>.yaml` holds one language's vocabulary (see words.en.yaml for the layout:
intent phrases and words, negations, future and hedge markers, question words, topics, typo
targets, language names and switch words, username labels and refusals). `bot/locales/words.yaml`
holds what belongs to no language (emoji, brand names, the bot's command words).
Adding a language is adding its words file next to its sentence files; no code changes.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot import yaml_read
from bot.language.text import SCRIPTS, normalise, normalise_entry, padded

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
VOCABULARY_AREA = "words"
"""The file area (words.<lang>.yaml) that holds vocabulary, not sentences."""

MatchMode = Literal["words", "substring"]


class LexiconError(ValueError):
    """A words file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class IntentWords:
    phrases: tuple[str, ...] = ()
    """Several words in a row (or, in substring languages, any part of the text)."""
    words: tuple[str, ...] = ()
    """Single words; in a words language, typos of the typo targets are corrected first."""
    weak: tuple[str, ...] = ()
    """Phrases that suggest the intent only when nothing more specific (an FAQ entry) does."""


@dataclass(frozen=True)
class Words:
    """One language's vocabulary, normalised like the text it is compared with."""

    lang: str
    name: str
    script: str
    match: MatchMode
    intents: Mapping[str, IntentWords]
    language_names: Mapping[str, tuple[str, ...]]
    switch: tuple[str, ...] = ()
    refuse: tuple[str, ...] = ()
    language_words: tuple[str, ...] = ()
    negation: tuple[str, ...] = ()
    future: tuple[str, ...] = ()
    hedge: tuple[str, ...] = ()
    contrast: tuple[str, ...] = ()
    question_words: tuple[str, ...] = ()
    question_endings: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    typos: tuple[str, ...] = ()
    common: tuple[str, ...] = ()
    username_labels: tuple[str, ...] = ()
    username_refuse: tuple[str, ...] = ()
    username_introducers: tuple[str, ...] = ()
    known: frozenset[str] = field(default=frozenset(), compare=False)
    """Every single word of this vocabulary: the words that tell a message is in this language."""

    def needle(self, entry: str) -> str:
        """What to look for in a padded text: a whole-word entry gets word boundaries."""
        return padded(entry.strip()) if self.match == "words" else entry


@dataclass(frozen=True)
class Neutral:
    """What belongs to no language."""

    thanks_emoji: tuple[str, ...] = ()
    yes_emoji: tuple[str, ...] = ()
    no_emoji: tuple[str, ...] = ()
    neutral_words: frozenset[str] = frozenset()
    commands: frozenset[str] = frozenset()


@dataclass(frozen=True, eq=False)
class Lexicon:
    languages: Mapping[str, Words]
    neutral: Neutral = Neutral()

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Lexicon:
        languages: dict[str, Words] = {}
        for path in sorted(directory.glob(f"{VOCABULARY_AREA}.*.yaml")):
            lang = path.stem.split(".", 1)[1]
            languages[lang] = _parse_words(lang, _read(path), path.name)
        neutral_path = directory / f"{VOCABULARY_AREA}.yaml"
        neutral = Neutral()
        if neutral_path.exists():
            neutral = _parse_neutral(_read(neutral_path), neutral_path.name)
        if not languages:
            raise LexiconError(f"no {VOCABULARY_AREA}.<lang>.yaml in {directory}")
        return cls(languages, neutral)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def all_words(self) -> frozenset[str]:
        out: set[str] = set()
        for words in self.languages.values():
            out |= words.known
        return frozenset(out)


@functools.cache
def default_lexicon() -> Lexicon:
    return Lexicon.load(LOCALES_DIR)


def _read(path: Path) -> dict[str, Any]:
    try:
        # BaseLoader: every word stays a string ("yes", "no", "on" are words here, not booleans)
        data = yaml_read.base_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise LexiconError(f"{path.name}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise LexiconError(f"{path.name}: expected a mapping at the top")
    return data


def _strings(node: Any, where: str, *, entry: bool = True) -> tuple[str, ...]:
    if node is None:
        return ()
    if isinstance(node, str):
        node = [node]
    if not isinstance(node, list) or not all(isinstance(x, str | int) for x in node):
        raise LexiconError(f"{where}: expected a list of words")
    items = [str(x) for x in node]
    cleaned = [normalise_entry(x) if entry else x for x in items]
    return tuple(dict.fromkeys(x for x in cleaned if x.strip()))


def _mapping(node: Any, where: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise LexiconError(f"{where}: expected a mapping")
    if allowed is not None:
        unknown = set(map(str, node)) - allowed
        if unknown:
            raise LexiconError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return {str(k): v for k, v in node.items()}


_TOP = {"language", "intents", "cues", "topics", "typos", "common", "username"}
_LANGUAGE = {"name", "script", "match", "names", "switch", "refuse", "words"}
_CUES = {"negation", "future", "hedge", "contrast", "question_words", "question_endings"}
_USERNAME = {"labels", "refuse", "introducers"}
_INTENT = {"phrases", "words", "weak"}


def _parse_words(lang: str, data: dict[str, Any], source: str) -> Words:
    top = _mapping(data, source, _TOP)
    language = _mapping(top.get("language"), f"{source}: language", _LANGUAGE)
    script = str(language.get("script", "latin"))
    if script not in SCRIPTS:
        raise LexiconError(f"{source}: language.script must be one of {sorted(SCRIPTS)}")
    match = str(language.get("match", "words"))
    if match not in ("words", "substring"):
        raise LexiconError(f"{source}: language.match must be words or substring")
    names = {
        str(code): _strings(value, f"{source}: language.names.{code}")
        for code, value in _mapping(language.get("names"), f"{source}: language.names").items()
    }
    intents = {
        name: IntentWords(
            **{
                key: _strings(value, f"{source}: intents.{name}.{key}")
                for key, value in _mapping(node, f"{source}: intents.{name}", _INTENT).items()
            }
        )
        for name, node in _mapping(top.get("intents"), f"{source}: intents").items()
    }
    cues = _mapping(top.get("cues"), f"{source}: cues", _CUES)
    username = _mapping(top.get("username"), f"{source}: username", _USERNAME)
    words = Words(
        lang=lang,
        name=str(language.get("name", lang)),
        script=script,
        match="words" if match == "words" else "substring",
        intents=intents,
        language_names=names,
        switch=_strings(language.get("switch"), f"{source}: language.switch"),
        refuse=_strings(language.get("refuse"), f"{source}: language.refuse"),
        language_words=_strings(language.get("words"), f"{source}: language.words"),
        negation=_strings(cues.get("negation"), f"{source}: cues.negation"),
        future=_strings(cues.get("future"), f"{source}: cues.future"),
        hedge=_strings(cues.get("hedge"), f"{source}: cues.hedge"),
        contrast=_strings(cues.get("contrast"), f"{source}: cues.contrast"),
        question_words=_strings(cues.get("question_words"), f"{source}: cues.question_words"),
        question_endings=_strings(cues.get("question_endings"), f"{source}: cues.question_endings"),
        topics=_strings(top.get("topics"), f"{source}: topics"),
        typos=_strings(top.get("typos"), f"{source}: typos"),
        common=_strings(top.get("common"), f"{source}: common"),
        username_labels=_strings(username.get("labels"), f"{source}: username.labels"),
        username_refuse=_strings(username.get("refuse"), f"{source}: username.refuse"),
        username_introducers=_strings(username.get("introducers"), f"{source}: username.introducers"),
    )
    return _with_known(words)


def _with_known(words: Words) -> Words:
    known: set[str] = set()
    groups: list[tuple[str, ...]] = [
        words.switch,
        words.refuse,
        words.language_words,
        words.negation,
        words.future,
        words.hedge,
        words.contrast,
        words.question_words,
        words.topics,
        words.typos,
        words.common,
        words.username_labels,
        words.username_refuse,
        words.username_introducers,
        *words.language_names.values(),
    ]
    for intent in words.intents.values():
        groups += [intent.phrases, intent.words, intent.weak]
    for group in groups:
        for entry in group:
            known.update(entry.split())
    return dataclasses.replace(words, known=frozenset(known))


def _parse_neutral(data: dict[str, Any], source: str) -> Neutral:
    top = _mapping(data, source, {"thanks_emoji", "yes_emoji", "no_emoji", "neutral", "commands"})
    return Neutral(
        thanks_emoji=_strings(top.get("thanks_emoji"), f"{source}: thanks_emoji", entry=False),
        yes_emoji=_strings(top.get("yes_emoji"), f"{source}: yes_emoji", entry=False),
        no_emoji=_strings(top.get("no_emoji"), f"{source}: no_emoji", entry=False),
        neutral_words=frozenset(normalise(x) for x in _strings(top.get("neutral"), f"{source}: neutral")),
        commands=frozenset(normalise(x) for x in _strings(top.get("commands"), f"{source}: commands")),
    )
