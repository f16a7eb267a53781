"""Sending: the attached adapters, texts rendered in each recipient's language, and the outbox.

Decisions are taken under locks and return `Delivery` values; the outbox carries them out after the
lock is released, so a slow platform never holds up a decision (and a decision never waits on I/O).
Every failure is logged with what was being done; a person who cannot be reached is reported to the
admins. Texts are keys plus parameters until the last moment: a Korean applicant gets the Korean
step title even when the message was decided in an English-speaking admin's command.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.events import Destination, MessageRef, Outgoing, UserRef
from bot.i18n import Translator
from bot.platform import Adapter, DeliveryError, Profile
from bot.rules import Rules
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """Something to send once the decision that produced it is recorded."""


@dataclass(frozen=True)
class Tell(Delivery):
    """A DM to one person, rendered in their language."""

    user: str
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TellAdmins(Delivery):
    """A DM to every admin on a platform the bot is connected to, each in their own language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Mention:
    """A person named in a message: rendered as the platform's mention when the message is sent."""

    user: str


D = TypeVar("D", bound=Delivery)
DeliveryHandler = Callable[[Any], None]


class Messenger:
    """The adapters the bot is connected to, and the one way to send through them."""

    def __init__(self, store: Store, translator: Translator, rules: Callable[[], Rules]) -> None:
        self.store = store
        self.translator = translator
        self._rules = rules
        self.adapters: dict[str, Adapter] = {}
        self._profiles: dict[str, Profile] = {}
        self._handlers: dict[type[Delivery], DeliveryHandler] = {
            Tell: self._tell,
            TellAdmins: self._tell_admins,
        }
        self._lock = threading.Lock()

    @property
    def rules(self) -> Rules:
        return self._rules()

    def attach(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    def adapter_for(self, platform: str) -> Adapter | None:
        return self.adapters.get(platform)

    def handle(self, kind: type[D], handler: Callable[[D], None]) -> None:
        """Register who carries out one kind of delivery (the review desk registers its posts)."""
        self._handlers[kind] = handler

    # -- the outbox --------------------------------------------------------------------------

    def deliver(self, deliveries: Iterable[Delivery]) -> None:
        """Carry out deliveries in order; one failing never stops the rest."""
        for delivery in deliveries:
            handler = self._handlers.get(type(delivery))
            if handler is None:
                log.error("no handler for delivery %s: dropped", type(delivery).__name__)
                continue
            try:
                handler(delivery)
            except Exception:
                log.exception("delivering %s failed", type(delivery).__name__)

    # -- sending -----------------------------------------------------------------------------

    def send(self, adapter: Adapter, destination: Destination, message: str | Outgoing) -> MessageRef | None:
        """Send and return where it landed; on failure log what we were doing and return None."""
        outgoing = Outgoing(message) if isinstance(message, str) else message
        where = (
            f"DM to {self.store.pseudonym(destination.user.key)}"
            if destination.user
            else f"channel {destination.channel}"
        )
        try:
            return adapter.send(destination, outgoing)
        except DeliveryError as exc:
            log.error("could not send to %s on %s: %s", where, adapter.platform, exc)
            if (
                exc.permanent
                and destination.user is not None
                and not self.rules.is_admin(destination.user.key)
            ):
                self.deliver(
                    [
                        TellAdmins(
                            "admin.cannot_dm", {"user": adapter.mention(destination.user), "reason": str(exc)}
                        )
                    ]
                )
            return None

    def text(self, lang: str, key: str, **params: object) -> str:
        """A sentence in `lang`; Mention parameters (or lists of them) become platform mentions."""
        return self.translator.t(lang, key, **{k: self._mentioned(v) for k, v in params.items()})

    def _mentioned(self, value: object) -> object:
        if isinstance(value, Mention):
            return self.mention(value.user)
        if isinstance(value, tuple | list) and value and all(isinstance(v, Mention) for v in value):
            return ", ".join(self.mention(v.user) for v in value)
        return value

    def language_of(self, user_key: str) -> str:
        """The person's chosen language, or the program's default for someone new."""
        applicant = self.store.get(user_key)
        return applicant.lang if applicant else self.rules.language

    def tell(self, user_key: str, key: str, **params: object) -> MessageRef | None:
        """Send a translated text to a person's DM, in their language."""
        user = UserRef.from_key(user_key)
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            log.warning("no adapter for %s: message %s not sent", user.platform, key)
            return None
        return self.send(adapter, Destination.dm(user), self.text(self.language_of(user_key), key, **params))

    def _tell(self, delivery: Tell) -> None:
        self.tell(delivery.user, delivery.key, **delivery.params)

    def _tell_admins(self, delivery: TellAdmins) -> None:
        for admin in self.rules.admins:
            if UserRef.from_key(admin).platform in self.adapters:
                self.tell(admin, delivery.key, **delivery.params)

    def notify_admins(self, key: str, **params: object) -> None:
        self.deliver([TellAdmins(key, params)])

    def mention(self, user_key: str) -> str:
        user = UserRef.from_key(user_key)
        adapter = self.adapters.get(user.platform)
        return adapter.mention(user) if adapter else user_key

    def profile(self, user: UserRef) -> Profile:
        """The platform's names for a person (cached once found; a failed lookup is tried again later)."""
        with self._lock:
            cached = self._profiles.get(user.key)
        if cached is not None:
            return cached
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            return Profile(display_name=user.display_name)
        try:
            profile = adapter.profile(user)
        except DeliveryError as exc:
            log.warning("profile lookup failed on %s: %s", user.platform, exc)
            return Profile(display_name=user.display_name)
        with self._lock:
            self._profiles[user.key] = profile
        return profile

    def reviewers_channel(self, platform: str) -> str | None:
        return self.rules.reviewers.channel.get(platform)
