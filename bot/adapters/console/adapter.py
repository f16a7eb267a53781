"""The console adapter: records and prints what the bot sends, with where it went.

Every message is printed as `[DM → alice] …` or `[#reviewers post 3] …`; tests read `sent`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.events import (
    Destination,
    MessageRef,
    Outgoing,
    UserRef,
)
from bot.platform import Capabilities, Profile
from bot.storage import append_fsynced

PLATFORM = "console"


@dataclass(frozen=True)
class Sent:
    """One message the bot sent, with where it went: what tests assert on."""

    destination: Destination
    message: Outgoing
    ref: MessageRef

    @property
    def where(self) -> str:
        if self.destination.user is not None:
            return f"DM → {self.destination.user.id}"
        return f"#{self.destination.channel}"

    @property
    def text(self) -> str:
        return self.message.text


@dataclass
class ConsoleAdapter:
    """Records everything it sends; prints it too when given a stream."""

    out: TextIO | None = None
    platform: str = PLATFORM
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(buttons=True, reactions=True, threads=True, files=True)
    )
    sent: list[Sent] = field(default_factory=list)
    edits: list[Sent] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    first_id: int = 1
    """Post numbers continue from earlier runs on the same data folder, so old posts keep theirs."""
    transcript: Path | None = None
    """Where posts sent with a key are recorded (fsynced) before they are printed: the console's
    own record of what it has shown, so `find_sent` can answer after a crash."""
    grants: list[tuple[str, str, str]] = field(default_factory=list)
    """(granted or removed, user id, target): the entitlements the bot gave and took (tests read it)."""
    _ids: Iterator[int] = field(init=False)

    def __post_init__(self) -> None:
        self._ids = itertools.count(self.first_id)

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        number = next(self._ids)
        channel = destination.channel or f"dm-{destination.user.id if destination.user else ''}"
        ref = MessageRef(PLATFORM, channel, str(number))
        if message.key and self.transcript is not None:
            line = json.dumps({"key": message.key, "channel": channel, "id": ref.message_id}) + "\n"
            append_fsynced(self.transcript, line.encode())
        self.sent.append(Sent(destination, message, ref))
        if self.out is not None:
            self._print(Sent(destination, message, ref))
        return ref

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        index = next((i for i, sent in enumerate(self.sent) if sent.ref == ref), None)
        if index is None:  # posted by an earlier run on this data folder: it still exists
            self.sent.append(Sent(Destination.to_channel(ref.channel), message, ref))
            index = len(self.sent) - 1
        self.sent[index] = Sent(self.sent[index].destination, message, ref)
        self.edits.append(self.sent[index])
        if self.out is not None:
            self._print(self.sent[index], edited=True)

    def _print(self, sent: Sent, *, edited: bool = False) -> None:
        assert self.out is not None
        tag = sent.where
        if sent.destination.channel is not None:
            tag += f" post {sent.ref.message_id}" + (" edited" if edited else "")
            if sent.destination.thread is not None:
                tag += f" (thread of post {sent.destination.thread.message_id})"
        lines = sent.message.text.splitlines() or [""]
        for line in lines:
            self.out.write(f"[{tag}] {line}\n")
        for attached in sent.message.files:
            self.out.write(f"[{tag}] 📎 {attached.filename} ({len(attached.data):,} bytes)\n")
        if sent.message.buttons:
            buttons = " ".join(f"[{b.action}]" for b in sent.message.buttons)
            self.out.write(f"[{tag}] buttons: {buttons}  (/press NAME {sent.ref.message_id})\n")
        self.out.flush()

    def find_sent(self, channel: str, key: str) -> MessageRef | None:
        for sent in self.sent:
            if sent.message.key == key and sent.ref.channel == channel:
                return sent.ref
        if self.transcript is None or not self.transcript.exists():
            return None
        for line in self.transcript.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if entry.get("key") == key and entry.get("channel") == channel:
                return MessageRef(PLATFORM, channel, str(entry.get("id", "")))
        return None

    def grant(self, user: UserRef, target: str) -> None:
        """The console's entitlement: a printed line (bot/platform.py GrantsAccess)."""
        self._access("granted", user, target)

    def revoke(self, user: UserRef, target: str) -> None:
        self._access("removed", user, target)

    def _access(self, action: str, user: UserRef, target: str) -> None:
        self.grants.append((action, user.id, target))
        if self.out is not None:
            self.out.write(
                f"[access] {action} {'to' if action == 'granted' else 'from'} {user.id}: {target}\n"
            )
            self.out.flush()

    def mention(self, user: UserRef) -> str:
        return f"@{user.id}"

    def profile(self, user: UserRef) -> Profile:
        name = self.names.get(user.id) or user.id.replace("_", " ").title()
        return Profile(display_name=user.id, real_name=name)

    # -- helpers for tests -------------------------------------------------------------------

    def to(self, name: str) -> list[Sent]:
        """Messages sent to a user's DM (by console name) or to a channel (with a leading #)."""
        if name.startswith("#"):
            return [s for s in self.sent if s.destination.channel == name[1:]]
        return [s for s in self.sent if s.destination.user is not None and s.destination.user.id == name]

    def last_post(self, channel: str) -> Sent | None:
        posts = [s for s in self.to("#" + channel) if s.destination.thread is None]
        return posts[-1] if posts else None
