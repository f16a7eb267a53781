"""Korean particles chosen from the sound of the word they attach to.

Korean particles come in pairs: one form after a final consonant (받침), one after a vowel:
을/를, 이/가, 은/는, 과/와, 아/야, 이나/나, 이랑/랑, 이라고/라고, 이에요/예요, 이며/며, and 으로/로,
which also takes its vowel form after ㄹ ("서울로", not "서울으로").

The word is read from its last character:

- Hangul syllable: its final consonant, if any (Unicode arithmetic, no dictionary).
- Digit: its Sino-Korean reading, the way numbers are read aloud: 1 일, 7 칠, 8 팔 end in ㄹ;
  0 영, 3 삼, 6 육 end in another consonant; 2 이, 4 사, 5 오, 9 구 end in a vowel. A number ending
  in zeros is read by its unit: 10 십, 100 백, 1000 천, 10000 만 (all consonants).
- Latin letters: an acronym (all capitals, or a lower-case run with no vowel such as "pdf", or one
  letter after "_", ".", "-") ends with the name of its last letter: L 엘 and R 알 in ㄹ, M 엠 and
  N 엔 in a consonant, every other letter name in a vowel (CITI 씨티, PDF 피디에프, MIT 엠아이티).
  An ordinary word follows how loanwords are written in Hangul: -l and -le end in ㄹ (Google 구글);
  -m, -n, -ng and silent-e -me/-ne end in a consonant (form 폼, name 네임); p, t, k, b and ck right
  after a vowel letter end in a consonant (step 스텝, net 넷, lab 랩, Slack 슬랙); everything else
  ends in a vowel (report 리포트, Discord 디스코드, user 유저, jdoe 제이도).
- Anything else (emoji, symbols, empty): unknown, and both forms are shown, "을(를)".

Trailing quotes, brackets and punctuation are skipped before reading.
"""

from __future__ import annotations

import re
from enum import Enum


class Final(Enum):
    """How a word ends, as far as particles care."""

    VOWEL = "vowel"
    RIEUL = "rieul"  # ㄹ: a consonant, except that 으로/로 takes 로
    CONSONANT = "consonant"
    UNKNOWN = "unknown"


# consonant form -> vowel form; the compound forms come first so the longest one is found.
PAIRS: tuple[tuple[str, str], ...] = (
    ("이라고", "라고"),
    ("이라는", "라는"),
    ("이에요", "예요"),
    ("으로는", "로는"),
    ("으로도", "로도"),
    ("으로", "로"),
    ("이랑", "랑"),
    ("이나", "나"),
    ("이며", "며"),
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("아", "야"),
)
_RIEUL_TAKES_VOWEL_FORM = frozenset(p for p in PAIRS if p[0].startswith("으로"))
_BY_FORM: dict[str, tuple[str, str]] = {}
for _pair in PAIRS:
    for _form in _pair:
        _BY_FORM.setdefault(_form, _pair)
# Every spelling a particle may have in a template, longest first: "을", "를", "을(를)", "(으)로" ...
_HEDGED = {f"{c}({v})": (c, v) for c, v in PAIRS} | {f"({c[0]}){v}": (c, v) for c, v in PAIRS if c[1:] == v}
SPELLINGS: tuple[str, ...] = tuple(sorted({*_BY_FORM, *_HEDGED}, key=len, reverse=True))

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL_INDEX = 8
_DIGIT_FINAL = {
    "0": Final.CONSONANT,  # 영
    "1": Final.RIEUL,  # 일
    "2": Final.VOWEL,  # 이
    "3": Final.CONSONANT,  # 삼
    "4": Final.VOWEL,  # 사
    "5": Final.VOWEL,  # 오
    "6": Final.CONSONANT,  # 육
    "7": Final.RIEUL,  # 칠
    "8": Final.RIEUL,  # 팔
    "9": Final.VOWEL,  # 구
}
_LETTER_NAME_FINAL = {"l": Final.RIEUL, "r": Final.RIEUL, "m": Final.CONSONANT, "n": Final.CONSONANT}
_VOWEL_LETTERS = frozenset("aeiou")
_TRAILING = re.compile(r"[\s\"'`”’“‘)\]}>」』》〉.,!?:;*_~-]+$")
_LATIN_TAIL = re.compile(r"[A-Za-z]+$")


def final_of(word: str) -> Final:
    """How `word` ends when read aloud in Korean (see the module docstring for the rules)."""
    word = _TRAILING.sub("", word)
    if not word:
        return Final.UNKNOWN
    last = word[-1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        index = (code - _HANGUL_FIRST) % 28
        if index == 0:
            return Final.VOWEL
        return Final.RIEUL if index == _RIEUL_INDEX else Final.CONSONANT
    if last.isdigit() and last.isascii():
        return _number_final(word)
    if last.isascii() and last.isalpha():
        return _latin_final(word)
    return Final.UNKNOWN


def _number_final(word: str) -> Final:
    digits = re.search(r"[0-9]+$", word)
    number = digits.group(0) if digits else word[-1]
    stripped = number.rstrip("0")
    zeros = len(number) - len(stripped)
    if zeros == 0 or not stripped:
        return _DIGIT_FINAL[number[-1]]
    # 십 백 천 만 ... 억: every unit word ends in a consonant
    return Final.CONSONANT


def _latin_final(word: str) -> Final:
    tail = _LATIN_TAIL.search(word)
    assert tail is not None  # the last character is a Latin letter
    letters = tail.group(0)
    start = tail.start()
    single_after_separator = len(letters) == 1 and (start == 0 or word[start - 1] in "_.-")
    acronym = letters.isupper() and len(letters) > 1
    no_vowel = not any(c in _VOWEL_LETTERS for c in letters.lower())
    if single_after_separator or acronym or no_vowel:
        return _LETTER_NAME_FINAL.get(letters[-1].lower(), Final.VOWEL)
    lower = letters.lower()
    if lower.endswith(("l", "le")):
        return Final.RIEUL
    if lower.endswith(("m", "n", "ng", "me", "ne")):
        return Final.CONSONANT
    if lower.endswith("ck"):
        return Final.CONSONANT
    if lower[-1] in "ptkb" and len(lower) >= 2 and lower[-2] in _VOWEL_LETTERS:
        return Final.CONSONANT
    return Final.VOWEL


def is_particle(spelling: str) -> bool:
    return spelling in _BY_FORM or spelling in _HEDGED


def particle(word: str, spelling: str) -> str:
    """The form of the particle written `spelling` ("을", "를", "을(를)", "(으)로"...) that fits `word`."""
    pair = _BY_FORM.get(spelling) or _HEDGED.get(spelling)
    if pair is None:
        raise ValueError(f"not a Korean particle: {spelling!r}")
    consonant_form, vowel_form = pair
    final = final_of(word)
    if final is Final.VOWEL or (final is Final.RIEUL and pair in _RIEUL_TAKES_VOWEL_FORM):
        return vowel_form
    if final is Final.UNKNOWN:
        if consonant_form[1:] == vowel_form:
            return f"({consonant_form[0]}){vowel_form}"
        return f"{consonant_form}({vowel_form})"
    return consonant_form


def attach(word: str, spelling: str) -> str:
    """`word` followed by the right form of the particle: attach("증빙", "가") == "증빙이"."""
    return word + particle(word, spelling)
