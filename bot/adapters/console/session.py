"""Console lines to neutral events: the whole bot in a terminal or a pipe, as any user.

One syntax for people and scripts:
  plain text            a DM from the current user to the bot
  /as NAME              become console:NAME (default alice)
  /name FULL NAME       set the current user's profile name (used to match names on documents)
  /upload PATH          send a file in DM
  /post PATH            post a file in the #general channel (to see the bot refuse it)
  /react EMOJI [POST]   react on a reviewers-channel post (default: the latest)
  /unreact EMOJI [POST]
  /press BUTTON [POST]  press a button on a post
  /reply [POST] TEXT    reply in a post's thread
  /tick [DAYS]          move the clock DAYS days forward (default 0), then run reminders and expiries
  /home [N]             your home: checklist, the reviewers' queue, the admins' figures, and
                        what to type, numbered (/home N presses the Nth)
  /quit
Every message the bot sends is printed with where it went: `[DM → alice] …` or `[#reviewers] …`.
"""

from __future__ import annotations

import itertools
import mimetypes
import secrets
import shlex
from collections.abc import Callable
from pathlib import Path

from bot.adapters.console.adapter import PLATFORM, ConsoleAdapter
from bot.events import (
    Attachment,
    AttachmentUnavailable,
    ButtonPress,
    ChannelMessage,
    Destination,
    DirectMessage,
    Event,
    Home,
    MessageRef,
    Outgoing,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.home import typed_commands

COMMANDS = "/as, /name, /upload, /post, /react, /unreact, /press, /reply, /tick, /home, /quit"


def _file_attachment(path: Path) -> Attachment:
    size = path.stat().st_size
    content_type = mimetypes.guess_type(path.name)[0]

    def fetch(max_bytes: int) -> bytes:
        try:
            with path.open("rb") as handle:
                return handle.read(max_bytes + 1)
        except OSError as exc:
            raise AttachmentUnavailable(str(exc), ours=False) from exc

    return Attachment(id=str(path), filename=path.name, size=size, content_type=content_type, fetch=fetch)


class ConsoleSession:
    """Parses console lines into neutral events for a Bot, as the current user."""

    def __init__(
        self,
        adapter: ConsoleAdapter,
        dispatch: Callable[[Event], None],
        *,
        reviewers_channel: Callable[[], str | None],
        latest_review_post: Callable[[], MessageRef | None] = lambda: None,
        tick: Callable[[float], None] | None = None,
        home: Callable[[UserRef], Home] | None = None,
        user: str = "alice",
    ) -> None:
        self.home = home
        self.adapter = adapter
        self.dispatch = dispatch
        self.reviewers_channel = reviewers_channel
        self.latest_review_post = latest_review_post
        self.tick = tick
        self.user = user
        self._events = itertools.count(1)
        self._run = secrets.token_hex(3)  # event ids stay unique across runs on the same data folder
        self.errors: list[str] = []
        self._homes: dict[str, tuple[Home, MessageRef]] = {}
        """Per user: the home drawn last and where (what `/home N` presses)."""

    def _event_id(self) -> str:
        return f"console-{self._run}-{next(self._events)}"

    def _me(self) -> UserRef:
        return UserRef(PLATFORM, self.user, self.user)

    def say(self, line: str) -> None:
        self.feed(line)

    def feed(self, line: str) -> bool:
        """Handle one line; False after /quit."""
        line = line.rstrip("\n")
        if not line.strip():
            return True
        if not line.startswith("/") or line.startswith("//"):
            text = line[1:] if line.startswith("//") else line
            self.dispatch(DirectMessage(event_id=self._event_id(), user=self._me(), text=text))
            return True
        command, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        handler = getattr(self, f"_cmd_{command.lower()}", None)
        if handler is None:
            self._note(f"unknown command /{command}; try {COMMANDS}")
            return True
        result: bool | None = handler(rest)
        return result is not False

    def _note(self, text: str) -> None:
        self.errors.append(text)
        if self.adapter.out is not None:
            self.adapter.out.write(f"[console] {text}\n")
            self.adapter.out.flush()

    def _cmd_quit(self, rest: str) -> bool:
        return False

    def _cmd_as(self, rest: str) -> None:
        if not rest or " " in rest:
            self._note("usage: /as NAME (one word)")
            return
        self.user = rest
        self._note(f"you are now {PLATFORM}:{rest}")

    def _cmd_name(self, rest: str) -> None:
        if not rest:
            self._note("usage: /name FULL NAME")
            return
        self.adapter.names[self.user] = rest

    def _path(self, rest: str) -> Path | None:
        try:
            parts = shlex.split(rest)
        except ValueError:
            parts = [rest]
        if len(parts) != 1:
            self._note("usage: /upload PATH (quote paths with spaces)")
            return None
        path = Path(parts[0]).expanduser()
        if not path.is_file():
            self._note(f"no such file: {path}")
            return None
        return path

    def _cmd_upload(self, rest: str) -> None:
        path = self._path(rest)
        if path is not None:
            event = DirectMessage(
                event_id=self._event_id(), user=self._me(), text="", attachments=(_file_attachment(path),)
            )
            self.dispatch(event)

    def _cmd_post(self, rest: str) -> None:
        path = self._path(rest)
        if path is not None:
            ref = MessageRef(PLATFORM, "general", self._event_id())
            self.dispatch(
                ChannelMessage(
                    event_id=ref.message_id,
                    user=self._me(),
                    channel="general",
                    text="",
                    message=ref,
                    attachments=(_file_attachment(path),),
                )
            )

    def _post_ref(self, post: str | None) -> MessageRef | None:
        channel = self.reviewers_channel() or "reviewers"
        if post:
            return MessageRef(PLATFORM, channel, post.lstrip("#"))
        last = self.adapter.last_post(channel)
        if last is not None:
            return last.ref
        earlier = self.latest_review_post()  # after a restart: the newest review still waiting
        if earlier is None:
            self._note(f"no post in #{channel} yet")
        return earlier

    def _emoji_and_post(self, rest: str, usage: str) -> tuple[str, MessageRef] | None:
        parts = rest.split()
        if not parts or len(parts) > 2:
            self._note(usage)
            return None
        ref = self._post_ref(parts[1] if len(parts) == 2 else None)
        return (parts[0], ref) if ref is not None else None

    def _cmd_react(self, rest: str) -> None:
        found = self._emoji_and_post(rest, "usage: /react EMOJI [POST]")
        if found:
            self.dispatch(
                ReactionAdded(event_id=self._event_id(), user=self._me(), message=found[1], emoji=found[0])
            )

    def _cmd_unreact(self, rest: str) -> None:
        found = self._emoji_and_post(rest, "usage: /unreact EMOJI [POST]")
        if found:
            self.dispatch(
                ReactionRemoved(event_id=self._event_id(), user=self._me(), message=found[1], emoji=found[0])
            )

    def _cmd_press(self, rest: str) -> None:
        parts = rest.split()
        # A button on a message in the current user's DM (a step's "done"), the latest or the one named.
        mine = [
            s
            for s in self.adapter.to(self.user)
            if any(b.action == (parts[0] if parts else "") for b in s.message.buttons)
            and (len(parts) < 2 or s.ref.message_id == parts[1].lstrip("#"))
        ]
        if mine and len(parts) <= 2:
            action, ref = parts[0], mine[-1].ref
        else:
            found = self._emoji_and_post(rest, "usage: /press BUTTON [POST]")
            if not found:
                return
            action, ref = found
        target = next((s for s in self.adapter.sent if s.ref == ref), None)
        button = next((b for b in target.message.buttons if b.action == action), None) if target else None
        if button is None:
            self._note(f"post {ref.message_id} has no button {action!r}")
            return
        self.dispatch(
            ButtonPress(
                event_id=self._event_id(), user=self._me(), message=ref, action=action, value=button.value
            )
        )

    def _cmd_reply(self, rest: str) -> None:
        first, _, text = rest.partition(" ")
        post: str | None = first if first.isdigit() else None
        text = text if post else rest
        ref = self._post_ref(post)
        if ref is None or not text.strip():
            self._note("usage: /reply [POST] TEXT")
            return
        self.dispatch(
            ChannelMessage(
                event_id=self._event_id(),
                user=self._me(),
                channel=ref.channel,
                text=text,
                message=MessageRef(PLATFORM, ref.channel, self._event_id()),
                thread=ref,
            )
        )

    def _cmd_home(self, rest: str) -> None:
        """The home, printed as a DM, with what can be typed numbered; `/home N` presses the Nth of
        the home drawn last (the same ButtonPress as the button; the checklist's work with /press)."""
        if self.home is None:
            self._note("no home view in this session")
            return
        last = self._homes.get(self.user)
        if rest.isdigit() and last is not None:
            commands = typed_commands(last[0])
            if 1 <= int(rest) <= len(commands):
                button = commands[int(rest) - 1][1]
                self.dispatch(
                    ButtonPress(
                        event_id=self._event_id(),
                        user=self._me(),
                        message=last[1],
                        action=button.action,
                        value=button.value,
                    )
                )
                return
            self._note(f"no command {rest} on your home; here it is again")
        home = self.home(self._me())
        buttons = home.sections[0].buttons if home.sections else ()
        sent = self.adapter.send(Destination.dm(self._me()), Outgoing(home.text(), buttons=buttons))
        self._homes[self.user] = (home, sent)

    def _cmd_tick(self, rest: str) -> None:
        try:
            days = float(rest) if rest else 0.0
        except ValueError:
            days = -1.0
        if not 0 <= days <= 100_000:
            self._note("usage: /tick [DAYS] (a number of days to move the clock forward)")
            return
        if self.tick is not None:
            self.tick(days)
