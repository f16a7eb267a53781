"""Does the name on a document belong to the applicant? Lenient on form, strict on substance.

Chat profile names and CITI names are typed by the same person at different times: accents come and go,
middle names and initials appear, "Last, First" and romanised Korean names swap order
("Kim Minjun" / "Minjun Kim" / "Min-jun Kim"), Korean names are written with or without spaces.
All of those match; a different given name or family name does not.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_MAX_PERMUTED_TOKENS = 5
# Letters that NFKD leaves alone but people drop when typing without a special keyboard.
_NO_DECOMPOSITION = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae"}
)


def tokens(name: str) -> list[str]:
    """Lower-case, accent-free words; "Last, First" becomes "First Last"."""
    text = unicodedata.normalize("NFKC", name)
    if text.count(",") == 1:
        last, first = text.split(",")
        if first.strip() and last.strip():
            text = f"{first} {last}"
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = unicodedata.normalize("NFC", stripped)  # recompose Hangul syllables
    stripped = (
        stripped.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    )
    return [t for t in re.split(r"[^\w]+|_", stripped.casefold()) if t]


def _joined_orders(words: Sequence[str]) -> set[str]:
    if len(words) > _MAX_PERMUTED_TOKENS:
        return {"".join(words)}
    return {"".join(p) for p in itertools.permutations(words)}


def _token_match(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:  # an initial
        return a[0] == b[0]
    return False


def _subset_match(short: Sequence[str], long: Sequence[str]) -> bool:
    """Every word of the shorter name matches a distinct word of the longer (extra words are middle
    names); initials stand for words, but one full word must agree and a lone word never matches."""
    remaining = list(long)
    full = 0
    for word in short:
        hit = next((w for w in remaining if w == word), None)
        if hit is None:
            hit = next((w for w in remaining if _token_match(word, w)), None)
        if hit is None:
            return False
        remaining.remove(hit)
        full += int(hit == word and len(word) > 1)
    return full >= 1 and len(short) >= 2


def names_match(document_name: str, applicant_name: str) -> bool:
    a, b = tokens(document_name), tokens(applicant_name)
    if not a or not b:
        return False
    if "".join(a) == "".join(b) or _joined_orders(a) & _joined_orders(b):
        return True  # spacing, hyphens and order differ only
    if _HANGUL.search("".join(a)) or _HANGUL.search("".join(b)):
        return False  # Korean names: the syllables must agree exactly
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return _subset_match(short, long)


def matches_any(document_name: str, applicant_names: Sequence[str]) -> bool:
    """True when the document name matches any of the applicant's names (display name, real name...)."""
    return any(names_match(document_name, n) for n in applicant_names if n and n.strip())
