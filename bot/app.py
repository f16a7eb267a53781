"""The composition root: the one place that wires rules, store, validator, translator, the review
desk, the outbox and the handlers into an Application (discord.py's setup_hook, bolt's starter app)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.application import Application
from bot.clock import OffsetClock
from bot.context import Handler, Services
from bot.documents import Validator
from bot.entitlements.service import EntitlementService
from bot.estimates import EstimateCache
from bot.give_way import Foreground
from bot.handlers import default_handlers
from bot.i18n import LOCALES_DIR, Translator, load_catalog
from bot.language.lexicon import Lexicon
from bot.messenger import Messenger
from bot.models import utc_now
from bot.review.desk import ReviewDesk
from bot.review.posts import ReviewPosts
from bot.rules_loader import RulesHolder
from bot.settings import REPORT_WORKERS, Settings
from bot.store import Store


def assemble(
    *,
    rules: RulesHolder,
    store: Store,
    validator: Validator,
    clock: Callable[[], datetime] = utc_now,
    translator: Translator | None = None,
    handlers: Sequence[Handler[Any]] | None = None,
    locales: Path = LOCALES_DIR,
    report_workers: int = REPORT_WORKERS,
) -> Application:
    """Everything wired once. `locales` holds the sentences and the words of every language: adding
    a language is adding its files there (docs/architecture.md)."""
    translator = translator or Translator(load_catalog(locales))
    messenger = Messenger(store, translator, lambda: rules.current)
    EntitlementService(store, messenger, lambda: rules.current, clock).register()
    foreground = Foreground()
    services = Services(
        rules_holder=rules,
        store=store,
        validator=validator,
        translator=translator,
        clock=clock,
        messenger=messenger,
        desk=ReviewDesk(store, lambda: rules.current),
        posts=ReviewPosts(store, messenger, clock),
        lexicon=Lexicon.load(locales),
        foreground=foreground,
        estimates=EstimateCache(give_way=foreground.give_way),
        report_workers=report_workers,
    )
    return Application(services, default_handlers() if handlers is None else handlers)


def build_application(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Application:
    """Raises RulesError, CorruptDatabase or StoreLocked with a message fit for the admin.

    The clock is an OffsetClock: only the console moves it (`/tick DAYS`, Application.advance_clock)."""
    clock = OffsetClock(clock)
    rules = RulesHolder(settings.rules_path)
    store = Store(settings.data_dir, clock=clock)
    try:
        validator = Validator(
            timeout_s=settings.pdf_timeout_s, memory_mb=settings.pdf_memory_mb, workers=settings.pdf_workers
        )
    except Exception:
        store.close()
        raise
    return assemble(
        rules=rules, store=store, validator=validator, clock=clock, report_workers=settings.report_workers
    )
