"""`accessbot run console`: the console adapter wired to a Bot, reading a terminal or a pipe."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TextIO

from bot import reminders
from bot.adapters.console import PLATFORM, ConsoleAdapter, ConsoleSession
from bot.core import Bot
from bot.events import MessageRef

BANNER = """accessbot console: you are console:{user}. Type a message, or:
  /as NAME  /name FULL NAME  /upload PATH  /react EMOJI [POST]  /unreact EMOJI [POST]
  /press BUTTON [POST]  /reply [POST] TEXT  /tick  /quit
Try: what step am I on?    (console:reviewer reviews, console:admin administers)
"""


def console_for(
    bot: Bot, out: TextIO | None, *, user: str = "alice"
) -> tuple[ConsoleAdapter, ConsoleSession]:
    """A console adapter attached to `bot` and a session that feeds it: also the test harness."""
    posts = [
        int(p.message_id)
        for r in bot.store.reviews()
        for p in r.posts
        if p.platform == PLATFORM and p.message_id.isdigit()
    ]
    adapter = ConsoleAdapter(out=out, first_id=max(posts, default=0) + 1)
    bot.attach(adapter)

    def latest_review_post() -> MessageRef | None:
        pending = [
            r for r in bot.store.reviews() if r.state == "pending" and r.posts and r.platform == PLATFORM
        ]
        if not pending:
            return None
        post = max(pending, key=lambda r: r.created).posts[-1]
        return MessageRef(post.platform, post.channel, post.message_id)

    session = ConsoleSession(
        adapter,
        bot.dispatch,
        reviewers_channel=lambda: bot.reviewers_channel(PLATFORM),
        latest_review_post=latest_review_post,
        tick=lambda: _tick(bot, out),
        user=user,
    )
    return adapter, session


def _tick(bot: Bot, out: TextIO | None) -> None:
    sent = reminders.tick(bot)
    if out is not None:
        out.write(f"[console] reminders sent: {sent}\n")


class _Stop(Exception):
    """SIGTERM arrived while waiting for input."""


def run_console(bot: Bot, stdin: TextIO, stdout: TextIO, *, user: str = "alice") -> int:
    """Read lines until EOF, /quit or SIGTERM; an event in progress always finishes first."""
    _adapter, session = console_for(bot, stdout, user=user)
    interactive = stdin.isatty()
    if interactive:
        stdout.write(BANNER.format(user=user))
    bot.validator.warm_up()
    state = {"busy": False, "stop": False}

    def on_term(signum: int, frame: FrameType | None) -> None:
        state["stop"] = True
        if not state["busy"]:
            raise _Stop

    previous = (
        signal.signal(signal.SIGTERM, on_term)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        while not state["stop"]:
            if interactive:
                stdout.write(f"{session.user}> ")
                stdout.flush()
            try:
                line = stdin.readline()
            except _Stop:
                break
            if not line:
                break
            state["busy"] = True
            try:
                if not session.feed(line):
                    break
            finally:
                state["busy"] = False
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
