"""Regular expressions from rules.yaml, matched with a time limit and checked for catastrophic backtracking.

Two guards, because either alone is not enough:

- `unsafe_reason(pattern)` refuses, at `accessbot rules check` and on every (re)load, the shapes that
  backtrack exponentially: a repeat inside a repeat (`(a+)+`, `(.*a){12}`, `(\\w+\\s?)+`) and a
  repeated alternation whose branches can start alike (`(a|aa)*`, `(\\w|\\d)*`). It is strict on
  purpose: such a pattern can almost always be written without nesting.
- every match runs in the `regex` package's engine with `timeout=` (0.1 s by default): a pattern
  that slips past the check costs at most that, and the caller gets None ("could not decide").
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import regex

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 0.1
MAX_PATTERN = 1000
"""Longest pattern accepted, in characters."""
MAX_COUNT = 1000
"""Largest explicit repeat count accepted (`a{1,1000}`)."""
MAX_TEXT = 10_000
"""Longer texts are cut to this many characters before matching (answers are one word)."""

_parser: Any = importlib.import_module("re._parser")  # the stdlib's own parse tree (sre_parse)
_ANY = [(0, sys.maxunicode)]
_SPACES = [(9, 13), (32, 32), (0x1C, 0x1F), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A)]
_SPACES += [(0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]
_CATEGORIES = {
    "CATEGORY_DIGIT": [(48, 57), (0x660, sys.maxunicode)],
    "CATEGORY_SPACE": _SPACES,
    # letters, digits and _ anywhere, less the spaces: over-estimated, which only makes the check stricter
    "CATEGORY_WORD": [
        *[(48, 57), (65, 90), (95, 95), (97, 122), (0xAA, 0x167F), (0x1681, 0x1FFF)],
        *[(0x200B, 0x2027), (0x2030, 0x205E), (0x2060, 0x2FFF), (0x3001, sys.maxunicode)],
    ],
}


def fullmatch(
    pattern: str, text: str, timeout_s: float = DEFAULT_TIMEOUT_S, *, ignore_case: bool = False
) -> bool | None:
    """Does the whole text match? None when the match ran out of time (or the pattern is invalid)."""
    return _run(regex.fullmatch, pattern, text, timeout_s, ignore_case)


def search(
    pattern: str, text: str, timeout_s: float = DEFAULT_TIMEOUT_S, *, ignore_case: bool = False
) -> bool | None:
    """Does the pattern occur in the text? None when the search ran out of time (or is invalid)."""
    return _run(regex.search, pattern, text, timeout_s, ignore_case)


def _run(how: Any, pattern: str, text: str, timeout_s: float, ignore_case: bool) -> bool | None:
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        return how(pattern, text[:MAX_TEXT], flags=flags, timeout=timeout_s) is not None
    except TimeoutError:
        log.warning("a rules.yaml pattern took more than %.2f s and was stopped: %r", timeout_s, pattern[:80])
        return None
    except regex.error as exc:
        log.error("a rules.yaml pattern is not valid (%s): %r", exc, pattern[:80])
        return None


def problem(pattern: str) -> str | None:
    """Why the pattern cannot be used (invalid, too long, may backtrack catastrophically), or None."""
    if len(pattern) > MAX_PATTERN:
        return f"is {len(pattern)} characters long; at most {MAX_PATTERN} are accepted"
    try:
        regex.compile(pattern)
        tree = _parser.parse(pattern)
    except Exception as exc:  # regex.error, re.error and the parser's own limits (RecursionError…)
        return f"is not a valid regular expression ({exc})"
    return unsafe_reason_of(tree)


def unsafe_reason(pattern: str) -> str | None:
    """Why the pattern may take exponential time on some input, or None when its shape is safe."""
    try:
        return unsafe_reason_of(_parser.parse(pattern))
    except Exception as exc:
        return f"is not a valid regular expression ({exc})"


def unsafe_reason_of(tree: Any) -> str | None:
    return _walk(list(tree))


_ADVICE = "; rewrite it without a repeat inside a repeat (e.g. `^[a-z]+(-[a-z]+)*$` for `^([a-z]+-?)+$`)"


def _walk(items: list[Any]) -> str | None:
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = av
            if (high != _parser.MAXREPEAT and high > MAX_COUNT) or low > MAX_COUNT:
                return f"repeats more than {MAX_COUNT} times"
            body = list(body)
            if high == _parser.MAXREPEAT or high > 1:
                inner = _variable_repeats(body)
                if inner and not _separated(body, inner):
                    return "may take exponential time on some answers: it repeats a repeat" + _ADVICE
                found = _overlapping_branches(body)
                if found:
                    return found
            found = _walk(body)
            if found:
                return found
        else:
            for part in _children(name, av):
                found = _walk(part)
                if found:
                    return found
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into their body: safe by construction.
    return None


def _children(name: str, av: Any) -> list[list[Any]]:
    if name == "SUBPATTERN":
        return [list(av[3])]
    if name == "BRANCH":
        return [list(b) for b in av[1]]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [list(av[1])]
    if name == "GROUPREF_EXISTS":
        return [list(p) for p in av[1:] if p is not None]
    return []


def _variable_repeats(items: list[Any]) -> list[tuple[int, int]]:
    """The characters matched by repeats of variable length anywhere in `items` (empty: none)."""
    chars: list[tuple[int, int]] = []
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = av
            if (high == _parser.MAXREPEAT or high > 1) and high != low:
                chars.extend(_chars(list(body)) or _ANY)
            else:
                chars.extend(_variable_repeats(list(body)))
        else:
            for part in _children(name, av):
                chars.extend(_variable_repeats(part))
    return chars


def _separated(body: list[Any], inner: list[tuple[int, int]]) -> bool:
    """Each pass of the outer repeat must match a character no inner repeat can: `(-[a-z]+)*` is
    safe (one way to split any text), `([a-z]+-?)*` is not (the `-` may be absent)."""
    return any(not _intersect(atom, inner) for atom in _mandatory(body))


def _mandatory(items: list[Any]) -> list[list[tuple[int, int]]]:
    atoms: list[list[tuple[int, int]]] = []
    for op, av in items:
        name = str(op)
        if name in ("LITERAL", "IN"):
            atoms.append(_first([(op, av)]))
        elif name == "SUBPATTERN":
            atoms.extend(_mandatory(list(av[3])))
    return atoms


def _chars(items: list[Any]) -> list[tuple[int, int]]:
    """Every character the items may match (over-estimated: when unsure, all of them)."""
    chars: list[tuple[int, int]] = []
    for op, av in items:
        name = str(op)
        if name in ("LITERAL", "IN"):
            chars.extend(_first([(op, av)]))
        elif name in ("AT",):
            continue
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            chars.extend(_chars(list(av[2])))
        elif name in ("SUBPATTERN", "BRANCH", "ASSERT", "ASSERT_NOT"):
            for part in _children(name, av):
                chars.extend(_chars(part))
        else:
            return _ANY
    return chars


def _overlapping_branches(body: list[Any]) -> str | None:
    """A repeated alternation whose branches may start with the same character: `(a|ab)*`."""
    for op, av in body:
        name = str(op)
        if name == "SUBPATTERN":
            found = _overlapping_branches(list(av[3]))
            if found:
                return found
        elif name == "BRANCH":
            firsts = [_first(list(branch)) for branch in av[1]]
            for i, a in enumerate(firsts):
                for b in firsts[i + 1 :]:
                    if _intersect(a, b):
                        return (
                            "may take exponential time on some answers: a repeated choice whose options"
                            " can match the same text (like `(a|aa)*`); make the options exclusive"
                        )
    return None


def _first(items: list[Any]) -> list[tuple[int, int]]:
    """The characters the sequence can start with, as ranges; everything when unsure or empty."""
    for op, av in items:
        name = str(op)
        if name == "AT":
            continue
        if name == "LITERAL":
            return [(av, av)]
        if name == "IN":
            ranges = []
            for kind, value in av:
                if str(kind) == "LITERAL":
                    ranges.append((value, value))
                elif str(kind) == "RANGE":
                    ranges.append(value)
                elif str(kind) == "CATEGORY" and str(value) in _CATEGORIES:
                    ranges.extend(_CATEGORIES[str(value)])
                else:
                    return _ANY  # a negated set or a category (\w, \d): assume anything
            return ranges
        if name == "SUBPATTERN":
            return _first(list(av[3]))
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            return _first(list(av[2]))
        if name == "BRANCH":
            return [r for branch in av[1] for r in _first(list(branch))]
        if name == "CATEGORY" and str(av) in _CATEGORIES:
            return _CATEGORIES[str(av)]
        return _ANY
    return _ANY  # it can match the empty text: it overlaps with anything


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)
