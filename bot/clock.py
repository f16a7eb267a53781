"""The runtime's clock: real time plus an offset the console can move (`/tick DAYS`, console only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.models import utc_now


class OffsetClock:
    """`now` is the inner clock's plus whatever `advance` added: reminders and expiries can be tried
    in a terminal without waiting (bot/adapters/console: `/tick 1100`)."""

    def __init__(self, inner: Callable[[], datetime] = utc_now) -> None:
        self.inner = inner
        self.offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.inner() + self.offset

    def advance(self, days: float) -> None:
        with self._lock:
            self.offset += timedelta(days=days)
