"""Answers found inside sentences: the username in "my username is kim_j", "제 아이디는 kim_j 입니다".

A word can be a username when it fits the answer pattern and is not a word the bot understands:
yes, ok, done, registered, cancel, approve, the bot's command words, everyday words, any Hangul,
and typos of those made by swapping, adding or dropping a letter ("dnoe"). All of these come from
the lexicon (bot/locales/words*.yaml).

When several words could be the username, the one next to a label ("username", "아이디") or after
"as"/"is"/"it's" wins, and a word that looks like a username (digit, "_", ".") beats a plain word;
when that still leaves a doubt, or a word of the message fits neither (the "j" of "kim j"), the
answer is None, and the caller asks again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.language.lexicon import Lexicon, default_lexicon
from bot.language.text import HANGUL, cap, normalise

DEFAULT_PATTERN = r"^[A-Za-z0-9_.-]{3,50}$"
_RUN = re.compile(r"[A-Za-z0-9_.\-'’]+")
_EDGE = "._-'’"
_SHORT_MESSAGE = 3
_LABEL_REACH = 3


@dataclass(frozen=True)
class _Run:
    text: str
    position: int  # index of the whitespace token it came from


def extract_username(
    text: str, lexicon: Lexicon | None = None, *, pattern: str = DEFAULT_PATTERN
) -> str | None:
    lexicon = lexicon or default_lexicon()
    refused, near = _refusals(lexicon)
    labels = {label for w in lexicon.languages.values() for label in w.username_labels}
    introducers = {i.strip() for w in lexicon.languages.values() for i in w.username_introducers}
    shape = re.compile(pattern)
    raw = unicodedata.normalize("NFKC", cap(text)).strip()
    tokens = raw.split()
    runs: list[_Run] = []
    label_positions: list[int] = []
    for position, token in enumerate(tokens):
        if "@" in token or "://" in token:
            continue  # an e-mail address or a link, never the username
        if _is_label(token, labels):
            label_positions.append(position)
        for match in _RUN.finditer(token):
            run = match.group(0).strip(_EDGE)
            if run:
                runs.append(_Run(run, position))
    candidates = [r for r in runs if _possible(r.text, refused, near, shape)]
    if not candidates:
        return None
    if any(_stray(r.text, refused) for r in runs if r not in candidates):
        return None  # "kim j": part of the answer does not fit, so no part of it is the answer
    if label_positions:
        return _nearest_label(candidates, label_positions)
    usernamey = [c for c in candidates if re.search(r"[0-9_.]", c.text)]
    if len(candidates) == 1:
        only = candidates[0]
        introduced = only.position > 0 and _word(tokens[only.position - 1]) in introducers
        if len(tokens) <= _SHORT_MESSAGE or usernamey or introduced:
            return only.text
        return None
    if len(usernamey) == 1:
        return usernamey[0].text
    return None


def _word(token: str) -> str:
    return normalise(token).replace(" ", "")


def _is_label(token: str, labels: set[str]) -> bool:
    norm = normalise(token)
    if norm in labels:
        return True
    # Korean labels carry particles: 아이디는, 아이디가
    return bool(HANGUL.search(norm)) and any(HANGUL.search(label) and label in norm for label in labels)


def _nearest_label(candidates: list[_Run], labels: list[int]) -> str | None:
    def distance(run: _Run) -> int:
        return min(abs(run.position - p) for p in labels)

    near = [c for c in candidates if distance(c) <= _LABEL_REACH]
    if not near:
        return None
    best = min(distance(c) for c in near)
    closest = [c for c in near if distance(c) == best]
    if len({c.text for c in closest}) == 1:
        return closest[0].text
    after = [c for c in closest if any(c.position > p for p in labels)]
    return after[0].text if len(after) == 1 else None


def _possible(run: str, refused: frozenset[str], near: frozenset[str], shape: re.Pattern[str]) -> bool:
    if not shape.match(run):
        return False
    word = _plain(run)
    if word in refused or word.rstrip("s") in refused:
        return False
    return not _typo_of_any(word, near)


def _stray(run: str, refused: frozenset[str]) -> bool:
    """A word that is neither a possible username nor a word the bot knows."""
    return _plain(run) not in refused and not _plain(run).isdigit()


def _plain(run: str) -> str:
    return run.lower().replace("'", "").replace("’", "")


def _refusals(lexicon: Lexicon) -> tuple[frozenset[str], frozenset[str]]:
    """(every word that is refused, the short list whose typos are refused too)."""
    near: set[str] = set(lexicon.neutral.commands)
    for words in lexicon.languages.values():
        near.update(w.strip() for w in words.username_refuse)
        for intent in words.intents.values():
            near.update(w.strip() for w in intent.words)
    refused = set(near) | set(lexicon.neutral.neutral_words) | set(lexicon.all_words())
    return frozenset(refused), frozenset(w for w in near if len(w) >= 3)


def _typo_of_any(word: str, targets: frozenset[str]) -> bool:
    if len(word) < 3:
        return False
    return any(_one_slip(word, t) for t in targets if abs(len(t) - len(word)) <= 1 and t[0] == word[0])


def _one_slip(word: str, target: str) -> bool:
    """Two neighbouring letters swapped, or one letter added or dropped (not a different letter)."""
    if word == target:
        return True
    if len(word) == len(target):
        diff = [i for i in range(len(word)) if word[i] != target[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == target[diff[1]]
            and word[diff[1]] == target[diff[0]]
        )
    longer, shorter = (word, target) if len(word) > len(target) else (target, word)
    if len(shorter) < 4:
        return False  # "don" is a name, not a slip of "done"
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
