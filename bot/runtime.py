"""The process: start-up checks, the application's lifecycle, SIGTERM, and serving one platform.

    accessbot run [PLATFORM]  ->  runtime.run(settings, name, options)
      1. the platform's checks (the same `doctor` prints): any failure stops here, exit 1
      2. the application is built (bot/app.py) and started (document worker warm-up, reminders)
      3. the platform serves until it is done or a SIGTERM asks it to stop
      4. the events in hand are finished, the store is closed, exit 0

Library code never exits the process: everything returns an exit code.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from bot import adapters
from bot.app import build_application
from bot.platform import Platform, ServeOptions, Stopper
from bot.rules import Rules
from bot.rules_loader import RulesError, load_rules
from bot.settings import Settings
from bot.storage import CorruptDatabase
from bot.store import StoreLocked

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL = 0, 1


def preflight(platform: Platform, settings: Settings, options: ServeOptions, err: TextIO) -> bool:
    """The platform's own checks; failures are printed with their fixes."""
    try:
        rules: Rules | None = load_rules(settings.rules_path)
    except RulesError:
        rules = None  # building the application reports it, with every line named
    failed = [c for c in platform.checks(settings.env, rules, options) if not c.ok]
    if failed:
        err.write(f"accessbot cannot start on {platform.name}:\n")
        for check in failed:
            err.write(f"- {check.what}\n" + (f"  fix: {check.fix}\n" if check.fix else ""))
    return not failed


def run(settings: Settings, name: str, options: ServeOptions, *, err: TextIO) -> int:
    try:
        platform = adapters.load(name)
    except (adapters.UnknownPlatform, ImportError) as exc:
        err.write(f"the {name} platform is not available: {exc}\n")
        return EXIT_FAIL
    if not preflight(platform, settings, options, err):
        return EXIT_FAIL
    try:
        app = build_application(settings)
    except (RulesError, CorruptDatabase, StoreLocked) as exc:
        log.error("cannot start: %s", exc)
        err.write(f"accessbot cannot start:\n{exc}\n")
        return EXIT_FAIL
    stopper = Stopper()
    try:
        with _stop_on_sigterm(stopper.request):
            app.start()
            code = platform.serve(app, settings.env, options, stopper)
    except KeyboardInterrupt:
        code = EXIT_OK
    finally:
        app.close()  # stops the reminders, finishes the events in hand, closes the store
    return code


@contextmanager
def _stop_on_sigterm(request_stop: Callable[[], None]) -> Iterator[None]:
    """`docker stop` sends SIGTERM: ask the platform to stop; the events in hand still finish."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return

    def on_term(signum: int, frame: object) -> None:
        log.info("SIGTERM: finishing the events in hand, then stopping")
        request_stop()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
