"""Small text helpers shared by the language modules: normalising, scripts, tokens, bounded input."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 500
"""Only this much of a message is analysed: work per message stays bounded whatever is pasted."""

HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e\u1100-\u11ff]")  # syllables and letters (NFKC gives U+11xx)
HANGUL_SYLLABLES = re.compile(r"[\uac00-\ud7a3]+")
# Letters that mark a script; a language file names its script (language.script).
SCRIPTS: dict[str, re.Pattern[str]] = {
    "latin": re.compile(r"[a-zà-ÿ]"),
    "hangul": HANGUL,
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "han": re.compile(r"[\u4e00-\u9fff]"),
    "arabic": re.compile(r"[\u0600-\u06ff]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
}
_APOSTROPHES = re.compile(r"['’‘`]")
_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def cap(text: str, limit: int = MAX_CHARS) -> str:
    return text[:limit]


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text))


def normalise(text: str) -> str:
    """Lower case, NFKC, apostrophes dropped ("don't" -> "dont"), other punctuation made a space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def normalise_entry(entry: str) -> str:
    """A vocabulary entry normalised like text; a space at either end (a word boundary) is kept."""
    core = normalise(entry)
    if not core:
        return ""
    return (" " if entry[:1].isspace() else "") + core + (" " if entry[-1:].isspace() else "")


def padded(norm: str) -> str:
    return f" {norm} "


def jamo(text: str) -> str:
    """Hangul syllables decomposed into letters (NFD), so 걸려 and 걸리 share 걸+ㄹ."""
    return unicodedata.normalize("NFD", text)


def osa_distance(a: str, b: str, limit: int) -> int:
    """Edit distance counting a swap of neighbours as one edit; stops early above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def typo_of(word: str, target: str) -> bool:
    """`word` is a likely typo of `target`: same first letter, one edit (two for long words)."""
    if len(word) < 4 or word == target or word[0] != target[0]:
        return False
    limit = 1 if len(target) <= 6 else 2
    return osa_distance(word, target, limit) <= limit
