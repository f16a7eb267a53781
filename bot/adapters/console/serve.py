"""`accessbot run console`: the console adapter attached to the core, reading a terminal or a pipe."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TextIO

from bot.adapters.console.adapter import PLATFORM, ConsoleAdapter
from bot.adapters.console.session import ConsoleSession
from bot.events import MessageRef
from bot.platform import Host, MovesClock, Stopper

BANNER = """accessbot console: you are console:{user}. Type a message, or:
  /as NAME  /name FULL NAME  /upload PATH  /react EMOJI [POST]  /unreact EMOJI [POST]
  /press BUTTON [POST]  /reply [POST] TEXT  /tick [DAYS]  /quit
Try: what step am I on?    (console:reviewer reviews, console:admin administers)
"""


def console_for(
    host: Host, out: TextIO | None, *, user: str = "alice", transcript: Path | None = None
) -> tuple[ConsoleAdapter, ConsoleSession]:
    """A console adapter attached to `host` and a session that feeds it: also the test harness."""
    known = [int(i) for i in host.review_post_ids(PLATFORM) if i.isdigit()]
    if transcript is not None and transcript.exists():  # posts shown but never recorded (a crash)
        known += [int(n) for n in re.findall(r'"id": "(\d+)"', transcript.read_text(encoding="utf-8"))]
    adapter = ConsoleAdapter(out=out, first_id=max(known, default=0) + 1, transcript=transcript)
    host.attach(adapter)

    def latest_review_post() -> MessageRef | None:
        pending = host.review_posts(PLATFORM, pending_only=True)
        return pending[-1] if pending else None

    def tick(days: float = 0) -> None:
        if days and isinstance(host, MovesClock):
            host.advance_clock(days)  # console only: the runtime's clock (bot/clock.py)
            if out is not None:
                out.write(f"[console] the clock moved {days:g} days\n")
        sent = host.tick()
        if out is not None:
            out.write(f"[console] reminders sent: {sent}\n")

    session = ConsoleSession(
        adapter,
        host.dispatch,
        reviewers_channel=lambda: host.reviewers_channel(PLATFORM),
        latest_review_post=latest_review_post,
        tick=tick,
        home=lambda user: host.home_for(user, typed=True),  # numbered: what to type
        user=user,
    )
    return adapter, session


class _Stop(Exception):
    """SIGTERM arrived while waiting for input."""


def run_console(
    host: Host,
    stdin: TextIO,
    stdout: TextIO,
    stopper: Stopper,
    *,
    user: str = "alice",
    transcript: Path | None = None,
) -> int:
    """Read lines until EOF, /quit or a stop request; an event in progress always finishes first."""
    _adapter, session = console_for(host, stdout, user=user, transcript=transcript)
    interactive = stdin.isatty()
    if interactive:
        stdout.write(BANNER.format(user=user))
    busy = threading.Event()

    def interrupt_the_wait() -> None:
        # Runs in the signal handler, on the main thread that is blocked in readline: raising there
        # ends the wait. While a line is being handled the loop stops after it instead.
        if not busy.is_set() and threading.current_thread() is threading.main_thread():
            raise _Stop

    stopper.on_stop(interrupt_the_wait)
    try:
        while not stopper.requested:
            if interactive:
                stdout.write(f"{session.user}> ")
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            busy.set()
            try:
                if not session.feed(line):
                    break
            finally:
                busy.clear()
    except _Stop:
        pass
    return 0
