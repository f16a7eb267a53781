"""Background passes give way to the people being answered.

A pass over every record (the start-up repair, the wait estimates, a reminders tick) and a person's
message share one interpreter: with both running, each gets about half of it, so an admin's export
right after a start took 17 s instead of 3. The dispatcher marks each event it has in hand
(`Foreground.serving`; a stop waits for them, `wait_idle`); a background pass iterates through
`Foreground.give_way`, which, while someone is being served, pauses every few items for long
enough to keep its share of the CPU to SHARE. The pass still moves on under a steady stream of
messages, so reminders are late, never lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

EVERY = 16
"""Items between two looks at the foreground (a shard's records: about a quarter of a millisecond)."""
SHARE = 0.05
"""The share of the CPU a pass keeps while someone is being served: it pauses 19 times as long as
it worked since its last look. Two report workers and the bot share 2 cores during an export, so a
pass at full speed (and even at a fifth of it) took what the export needed."""
PAUSE_S = 0.002
"""The shortest pause."""
MAX_PAUSE_S = 0.05
"""The longest pause (a pass whose items are slow, e.g. a reminder send, still looks often)."""


class Foreground:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._serving = 0
        self.pauses = 0
        """How many times a background pass waited (tests and benchmarks read it)."""

    @property
    def busy(self) -> bool:
        return self._serving > 0

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around the handling of one event."""
        with self._changed:
            self._serving += 1
        try:
            yield
        finally:
            with self._changed:
                self._serving -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no event is in hand; False if some still were at the timeout (a stop drains)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._serving == 0, timeout)

    def give_way(self, items: Iterable[T], every: int = EVERY) -> Iterator[T]:
        """`items`, with a pause every `every` of them while an event is being handled."""
        worked_from = time.thread_time()
        for count, item in enumerate(items, 1):
            yield item
            if count % every == 0:
                if self._serving > 0:
                    self.pauses += 1
                    worked = time.thread_time() - worked_from  # this thread's CPU, not its waits
                    time.sleep(min(MAX_PAUSE_S, max(PAUSE_S, worked * (1 - SHARE) / SHARE)))
                worked_from = time.thread_time()
