"""Assemble a Bot from Settings: the one place that wires rules, store, validator and translator."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot import reminders
from bot.core import Bot
from bot.documents import Validator
from bot.models import utc_now
from bot.rules import RulesHolder
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


def build_bot(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Bot:
    """Raises RulesError, CorruptDatabase or StoreLocked with a message fit for the admin."""
    rules = RulesHolder(settings.rules_path)
    store = Store(settings.data_dir, clock=clock)
    try:
        validator = Validator(timeout_s=settings.pdf_timeout_s, memory_mb=settings.pdf_memory_mb)
    except Exception:
        store.close()
        raise
    return Bot(rules=rules, store=store, validator=validator, clock=clock)


class ReminderLoop:
    """Runs reminders every `check_every_minutes` in a daemon thread until stopped."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reminders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = reminders.tick(self.bot)
                if sent:
                    log.info("sent %d reminder(s)", sent)
            except Exception:
                log.exception("reminder tick failed; will try again at the next tick")
            minutes = max(1, self.bot.rules.reminders.check_every_minutes)
            self._stop.wait(minutes * 60)
