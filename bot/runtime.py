"""The process: start-up checks, the application's lifecycle, SIGTERM, and serving one platform.

    accessbot run [PLATFORM]  ->  runtime.run(settings, name, options)
      0. half-set credentials of another platform stop the console standing in for it (refusal)
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

from bot import adapters, memory
from bot.app import build_application
from bot.application import Application
from bot.control import ControlServer
from bot.platform import Check, Platform, ServeOptions, Stopper
from bot.rules import Rules
from bot.rules_loader import RulesError, load_rules
from bot.settings import Settings
from bot.storage import CorruptDatabase
from bot.store import StoreLocked

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL = 0, 1
CONSOLE = "console"


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


def half_set(settings: Settings, name: str) -> dict[str, list[Check]]:
    """Platforms other than `name` whose variables are partly set but not enough to serve them,
    with the failed checks that say what is missing."""
    found: dict[str, list[Check]] = {}
    for platform in adapters.load_all():
        if platform.name in (name, CONSOLE) or not platform.partly_configured(settings.env):
            continue
        if platform.configured(settings.env):
            continue
        failed = [c for c in platform.checks(settings.env, None, ServeOptions()) if not c.ok]
        found[platform.name] = failed or [Check.fail(f"{platform.name} is not fully configured")]
    return found


def refusal(settings: Settings, name: str, *, named: bool, interactive: bool, err: TextIO) -> bool:
    """True when `accessbot run` must not start the console: it would stand in, silently, for a
    platform whose credentials are half set (one Slack token without the other, ...).

    `run` with no platform named refuses; `run console` refuses when standard input is not a
    terminal (Docker, systemd), and only warns a person at a terminal. Another named platform's own
    checks say what it lacks."""
    if name != CONSOLE:
        return False
    broken = half_set(settings, name)
    if not broken:
        if not named and not interactive:
            err.write(
                "accessbot: no Slack or Discord credentials are set, so this is the console, reading"
                " standard input (not a terminal). To serve Slack or Discord, run accessbot init (or"
                " set their variables; accessbot doctor checks them).\n"
            )
        return False
    refuse = not named or not interactive
    head = "accessbot will not start the console:" if refuse else "warning:"
    err.write(f"{head} the credentials of {', '.join(broken)} are only partly set{_env_note(settings)}:\n")
    for checks in broken.values():
        for check in checks:
            err.write(f"- {check.what}\n" + (f"  fix: {check.fix}\n" if check.fix else ""))
    if refuse:
        err.write(
            "Complete them (accessbot init walks you through it; accessbot doctor checks), remove them,"
            " or start the console on purpose at a terminal: accessbot console\n"
        )
    return refuse


def _env_note(settings: Settings) -> str:
    if settings.env_file is not None and settings.env_file.is_file():
        return f" (environment and {settings.env_file})"
    return " (environment; no .env file)" if settings.env_file is not None else ""


def run(
    settings: Settings,
    name: str,
    options: ServeOptions,
    *,
    err: TextIO,
    named: bool = True,
    interactive: bool = True,
) -> int:
    """Serve `name`. `named`: the person named the platform (else `adapters.chosen` picked it);
    `interactive`: standard input is a terminal."""
    try:
        platform = adapters.load(name)
    except (adapters.UnknownPlatform, ImportError) as exc:
        err.write(f"the {name} platform is not available: {exc}\n")
        return EXIT_FAIL
    if refusal(settings, name, named=named, interactive=interactive, err=err):
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
        with _stop_on_sigterm(stopper.request), _control_socket(settings, app):
            app.start()
            memory.settle()  # the index is loaded: the collector's passes skip it from here on
            code = platform.serve(app, settings.env, options, stopper)
    except KeyboardInterrupt:
        code = EXIT_OK
    finally:
        app.close()  # stops the reminders, finishes the events in hand, closes the store
    return code


@contextmanager
def _control_socket(settings: Settings, app: Application) -> Iterator[None]:
    """`accessbot admin forget|reset` beside the live bot reach it here (0600, in the data folder)."""
    try:
        server: ControlServer | None = ControlServer(settings.data_dir, app.control)
    except OSError as exc:  # e.g. a data folder path too long for a Unix socket
        log.warning("no control socket (%s): admin changes must be sent to the bot in chat", exc)
        server = None
    try:
        yield
    finally:
        if server is not None:
            server.close()


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
