"""Work worked out once per live object: what is derived from a lexicon, a translator or a type,
asked for on every message, and never different for the same object."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def per_object(build: Callable[[K], V]) -> Callable[[K], V]:
    """`build(obj)`, remembered for as long as `obj` lives (held weakly: a lexicon or translator that
    goes away takes its entry with it). Two threads asking at once may both build; either answer
    is the same."""
    known: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()

    @functools.wraps(build)
    def remembered(obj: K) -> V:
        found = known.get(obj)
        if found is None:
            found = known[obj] = build(obj)
        return found

    return remembered
