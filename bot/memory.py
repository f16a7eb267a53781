"""The cyclic garbage collector, tuned for a process that holds a large, long-lived index.

At 100,000 applicants the store's index is a few million small objects that live as long as the
bot. CPython's collector walks every tracked object at each full collection, and starts them by
allocation counts: parsing the index at start-up triggered dozens of full passes (doubling the
start-up time), and afterwards each full pass over the index paused a message for 50 to 250 ms.

- `bulk_load()` pauses automatic collection while a known-acyclic bulk (parsed JSON) is built,
  and can freeze it (a large index is frozen as soon as it is loaded).
- `settle()`, once the bot has started, moves what is alive into the permanent generation
  (`gc.freeze`, without a collection first), so later passes walk only what was made since; and it
  raises the young-generation threshold so the few thousand objects one message makes and drops
  die by reference counting instead of being walked.

Reference counting still frees everything as before: only cycles among frozen objects are never
collected, and the index holds none.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
"""Allocations between two young collections (CPython's default is 700)."""
FREEZE_FROM = 5_000
"""Records in an index worth freezing once loaded: below it a full pass costs little, and a test
process that opens thousands of small stores should not freeze its garbage each time."""


class _Pauses:
    """How many bulk loads are under way, and whether the collector was on before the first: the
    collector is one per process, so this is too."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.was_enabled = True


_PAUSES = _Pauses()


class BulkLoad:
    """What a bulk_load block decides: `keep` (set inside the block) freezes what it built."""

    def __init__(self) -> None:
        self.keep = False


@contextmanager
def bulk_load() -> Iterator[BulkLoad]:
    """No automatic collection inside the block (nested and concurrent blocks are counted; the
    collector comes back when the last one ends, if it was on before the first).

    With `keep` set, what is alive at the end is frozen before the collector comes back: without
    it, the first young collection after the block walks every object the block made, and the
    older generations walk them again later (0.3 s at 100,000 applicants, for nothing)."""
    load = BulkLoad()
    with _PAUSES.lock:
        if _PAUSES.count == 0:
            _PAUSES.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSES.count += 1
    try:
        yield load
    finally:
        with _PAUSES.lock:
            if load.keep:
                gc.freeze()
            _PAUSES.count -= 1
            if _PAUSES.count == 0 and _PAUSES.was_enabled:
                gc.enable()


def settle() -> None:
    """After start-up (bot/runtime.py): what is alive now is the long-lived index; keep the
    collector's passes to what is made from here on. No collection first: the index was built
    with the collector paused, so one pass would walk all of it (half a second at 100,000) before
    the first reply, to find the few cycles start-up left."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
