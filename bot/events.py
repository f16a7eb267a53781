"""Neutral events and messages: the only vocabulary shared by adapters and the core.

Adapters turn platform payloads into these and back; nothing platform-specific crosses this line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal


@dataclass(frozen=True)
class UserRef:
    """A person on one platform. Permissions use `key`, never the display name."""

    platform: str
    id: str
    display_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"

    @staticmethod
    def from_key(key: str, display_name: str = "") -> UserRef:
        platform, _, ident = key.partition(":")
        if not platform or not ident:
            raise ValueError(f"user key must look like 'platform:id' (got {key!r})")
        return UserRef(platform, ident, display_name)


@dataclass(frozen=True)
class MessageRef:
    """Where a message the bot sent (or received) lives; stored so reviews survive restarts."""

    platform: str
    channel: str
    message_id: str


class AttachmentTooLarge(Exception):
    """The platform says (or the download showed) the file is bigger than allowed."""


class AttachmentUnavailable(Exception):
    """The file could not be fetched; `ours` is True when the fault is on the bot's side (scopes, tokens)."""

    def __init__(self, message: str, *, ours: bool = True) -> None:
        super().__init__(message)
        self.ours = ours


@dataclass(frozen=True)
class Attachment:
    """A file sent to the bot. Its size is known up front; its bytes are fetched only when needed."""

    id: str
    filename: str
    size: int
    content_type: str | None
    fetch: Callable[[int], bytes] = field(repr=False, compare=False)
    """Download at most `max_bytes`; raises AttachmentTooLarge or AttachmentUnavailable."""

    def read(self, max_bytes: int) -> bytes:
        if self.size > max_bytes:
            raise AttachmentTooLarge(f"{self.size} bytes declared, limit {max_bytes}")
        data = self.fetch(max_bytes)
        if len(data) > max_bytes:
            raise AttachmentTooLarge(f"{len(data)} bytes received, limit {max_bytes}")
        return data


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened on a platform. `event_id` is the platform's own id, for de-duplication."""

    event_id: str
    user: UserRef


@dataclass(frozen=True, kw_only=True)
class DirectMessage(Event):
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChannelMessage(Event):
    """A message in a shared channel: only thread replies to review posts and misplaced files matter."""

    channel: str
    text: str
    message: MessageRef
    thread: MessageRef | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReactionAdded(Event):
    message: MessageRef
    emoji: str


@dataclass(frozen=True, kw_only=True)
class ReactionRemoved(Event):
    message: MessageRef
    emoji: str


@dataclass(frozen=True, kw_only=True)
class ButtonPress(Event):
    """A button on a bot post."""

    message: MessageRef
    action: str
    value: str = ""


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Event):
    """A form the core asked for (see Host.form_for) came back filled in."""

    form: str
    """The form's id, as in Form.id."""
    context: str
    """Form.context, returned unchanged (e.g. the review id)."""
    message: MessageRef | None
    """The post whose button opened the form, when there was one."""
    answers: tuple[tuple[str, str], ...] = ()
    """(field id, value) for every field; a choice's value is the Choice.value picked."""

    def answer(self, field_id: str) -> str:
        return next((v for k, v in self.answers if k == field_id), "").strip()


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    """A slash command (Discord's /status, /help): handled like the same words sent in DM."""

    name: str
    text: str = ""


class ButtonStyle(Enum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True)
class Destination:
    """Either a user's DM (`user` set) or a channel (`channel` set), optionally in a thread."""

    user: UserRef | None = None
    channel: str | None = None
    thread: MessageRef | None = None

    def __post_init__(self) -> None:
        if (self.user is None) == (self.channel is None):
            raise ValueError("a destination is either a user's DM or a channel")

    @staticmethod
    def dm(user: UserRef) -> Destination:
        return Destination(user=user)

    @staticmethod
    def to_channel(channel: str, thread: MessageRef | None = None) -> Destination:
        return Destination(channel=channel, thread=thread)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One question of a form. `choice` fields offer `choices`; text fields may be one line or several."""

    id: str
    label: str
    kind: Literal["text", "paragraph", "choice"] = "text"
    choices: tuple[Choice, ...] = ()
    required: bool = True
    max_length: int = 1000
    placeholder: str = ""
    value: str = ""
    """What the field is pre-filled with (a choice: the Choice.value picked), "" for nothing."""
    hint: str = ""
    """A line under the field (a form step's question help)."""


@dataclass(frozen=True)
class Form:
    """A neutral form (Slack modal, Discord modal), every text already in the reader's language."""

    id: str
    title: str
    submit: str
    cancel: str
    fields: tuple[FormField, ...]
    context: str = ""
    """Opaque to adapters: returned in FormSubmitted.context."""


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Outgoing:
    """A message to send. `text` is always complete on its own; the rest is optional richness."""

    text: str
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    reactions: tuple[str, ...] = ()
    """Emoji the adapter adds to the message after sending (so reviewers can just click)."""
    files: tuple[OutgoingFile, ...] = ()
    """Files to attach (adapters with `capabilities.files`)."""
    key: str = ""
    """An idempotency key for messages that must not be sent twice (review posts): adapters that can
    keep it with the message (Slack metadata, the console transcript) find it again (`find_sent`)."""


@dataclass(frozen=True)
class Home:
    """A person's home view (bot/home.py draws it): sections, each a neutral block (title, text,
    buttons). Slack publishes it as the App Home tab; Discord and the console print `text()`."""

    title: str
    sections: tuple[Outgoing, ...]

    def text(self) -> str:
        """The home as plain text (the console, Discord's ephemeral answers)."""
        parts = [self.title]
        for section in self.sections:
            parts.append((f"{section.title}\n" if section.title else "") + section.text)
        return "\n\n".join(parts)
