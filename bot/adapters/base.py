"""The adapter contract: what the core needs from a chat platform, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import Destination, MessageRef, Outgoing, UserRef


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show; the core falls back (buttons -> reactions -> text commands)."""

    buttons: bool = False
    reactions: bool = True
    threads: bool = False
    forms: bool = False
    files: bool = False


@dataclass(frozen=True)
class Profile:
    """What the platform knows about a person, used only to match names on documents."""

    display_name: str = ""
    real_name: str = ""
    email: str = ""


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying will not help (user closed DMs, channel gone)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Adapter(Protocol):
    """Implemented by each platform adapter. Sends raise DeliveryError; they never fail silently."""

    platform: str
    capabilities: Capabilities

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        """Deliver a message and return where it landed."""
        ...

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        """Replace a message the bot sent (a decided review post loses its buttons)."""
        ...

    def mention(self, user: UserRef) -> str:
        """How to name a person in a message so the platform notifies them."""
        ...

    def profile(self, user: UserRef) -> Profile:
        """The person's names as the platform knows them (empty when unknown)."""
        ...
