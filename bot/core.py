"""The Bot: holds the rules, the store, the validator and the adapters; dispatches events to handlers.

Thread-safe: adapters may dispatch from several threads at once.

One Bot serves every attached adapter (opsdroid-style composition). `dispatch` never raises: a
handler's failure is logged for admins and the person gets a plain apology, never a traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.platform import Adapter, DeliveryError, Profile
from bot.documents import Validator
from bot.events import (
    ButtonPress,
    Form,
    ChannelMessage,
    Command,
    Destination,
    DirectMessage,
    Event,
    MessageRef,
    Outgoing,
    UserRef,
)
from bot.i18n import Translator
from bot.intents import has_hangul
from bot.models import Applicant, utc_now
from bot.review import ReviewDesk
from bot.rules import Rules, RulesHolder
from bot.store import Store

log = logging.getLogger(__name__)


class Handler(Protocol):
    """One kind of event the bot answers. Handlers are tried in order; the first that accepts wins."""

    def accepts(self, ctx: Context) -> bool: ...

    def handle(self, ctx: Context) -> None: ...


@dataclass
class Context:
    """Everything a handler needs for one event, with the rules fixed for the whole event."""

    bot: Bot
    event: Event
    rules: Rules
    adapter: Adapter
    _applicant: Applicant | None = field(default=None, repr=False)

    @property
    def user(self) -> UserRef:
        return self.event.user

    @property
    def text(self) -> str:
        if isinstance(self.event, DirectMessage | ChannelMessage | Command):
            return self.event.text.strip()
        return ""

    def applicant(self) -> Applicant:
        """The sender's record, created on first contact (language guessed from their writing)."""
        if self._applicant is None:
            lang = "ko" if has_hangul(self.text) and "ko" in self.rules.languages else self.rules.language
            applicant = self.bot.store.ensure(self.user.key, lang=lang, display_name=self.user.display_name)
            if lang == "ko" and applicant.lang != "ko":  # writing in Korean is the clearest language request
                applicant = self.bot.store.update(applicant.key, lambda a: setattr(a, "lang", "ko"))
            self._applicant = applicant
        return self._applicant

    def refresh(self, applicant: Applicant) -> None:
        self._applicant = applicant

    @property
    def lang(self) -> str:
        if self._applicant is not None:
            return self._applicant.lang
        return self.bot.language_of(self.user.key)

    def t(self, key: str, **params: object) -> str:
        return self.bot.translator.t(self.lang, key, **params)

    def reply(self, message: str | Outgoing) -> MessageRef | None:
        return self.bot.send(self.adapter, Destination.dm(self.user), message)


class Bot:
    def __init__(
        self,
        *,
        rules: RulesHolder,
        store: Store,
        validator: Validator,
        translator: Translator | None = None,
        clock: Callable[[], datetime] = utc_now,
        handlers: Sequence[Handler] | None = None,
    ) -> None:
        self.rules_holder = rules
        self.store = store
        self.validator = validator
        self.translator = translator or Translator()
        self.clock = clock
        self.adapters: dict[str, Adapter] = {}
        self._profiles: dict[str, Profile] = {}
        self._lock = threading.Lock()
        self._user_locks: dict[str, threading.Lock] = {}
        if handlers is None:
            from bot.handlers import default_handlers

            handlers = default_handlers()
        self.handlers: list[Handler] = list(handlers)
        self.reviews = ReviewDesk(self)

    @property
    def rules(self) -> Rules:
        return self.rules_holder.current

    def attach(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    # -- incoming --------------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        """Handle one event. Never raises: failures are logged for admins and the person is told."""
        adapter = self.adapters.get(event.user.platform)
        if adapter is None:
            log.error("event from platform %r with no adapter attached", event.user.platform)
            return
        try:
            if not self.store.first_time(event.event_id):
                log.info("skipping repeated event %s", event.event_id)
                return
            self.maybe_reload_rules()
            ctx = Context(self, event, self.rules, adapter)
            # One person's events run in order; different people run in parallel (adapters may call
            # dispatch from several threads, so a slow PDF never holds up anyone else).
            with self._user_lock(event.user.key):
                for handler in self.handlers:
                    if handler.accepts(ctx):
                        handler.handle(ctx)
                        return
        except Exception:
            log.exception(
                "handling %s failed (event %s, user %s); the person was told to try again",
                type(event).__name__,
                event.event_id,
                self.store.pseudonym(event.user.key),
            )
            if not isinstance(event, ChannelMessage):
                self._apologise(adapter, event.user)

    def _apologise(self, adapter: Adapter, user: UserRef) -> None:
        try:
            text = self.translator.t(self.language_of(user.key), "error.internal")
        except Exception:  # the store itself may be what failed: apologise in the default language
            text = self.translator.t(self.rules.language, "error.internal")
        self.send(adapter, Destination.dm(user), text)

    def _user_lock(self, key: str) -> threading.Lock:
        with self._lock:
            lock = self._user_locks.get(key)
            if lock is None:
                lock = self._user_locks[key] = threading.Lock()
            return lock

    def maybe_reload_rules(self) -> None:
        if not self.rules_holder.changed_on_disk():
            return
        with self._lock:
            if not self.rules_holder.changed_on_disk():
                return
            error = self.rules_holder.reload()
            if error is None:
                self.notify_admins("admin.rules_reloaded")
            else:
                self.notify_admins("admin.rules_broken", errors=str(error))

    # -- outgoing --------------------------------------------------------------------------

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
                self.notify_admins("admin.cannot_dm", user=adapter.mention(destination.user), reason=str(exc))
            return None

    def send_dm(self, user_key: str, key: str, **params: object) -> MessageRef | None:
        """Send a translated text to a person's DM, in their language."""
        user = UserRef.from_key(user_key)
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            log.warning("no adapter for %s: message %s not sent", user.platform, key)
            return None
        text = self.translator.t(self.language_of(user_key), key, **params)
        return self.send(adapter, Destination.dm(user), text)

    def language_of(self, user_key: str) -> str:
        """The person's chosen language, or the program's default for someone new."""
        applicant = self.store.get(user_key)
        return applicant.lang if applicant else self.rules.language

    def notify_admins(self, key: str, **params: object) -> None:
        for admin in self.rules.admins:
            if UserRef.from_key(admin).platform in self.adapters:
                self.send_dm(admin, key, **params)

    def profile(self, user: UserRef) -> Profile:
        """The platform's names for a person (cached: profiles are looked up once per run)."""
        cached = self._profiles.get(user.key)
        if cached is not None:
            return cached
        adapter = self.adapters.get(user.platform)
        profile = Profile(display_name=user.display_name)
        if adapter is not None:
            try:
                profile = adapter.profile(user)
            except DeliveryError as exc:
                log.warning("profile lookup failed on %s: %s", user.platform, exc)
        self._profiles[user.key] = profile
        return profile

    def mention(self, user_key: str) -> str:
        user = UserRef.from_key(user_key)
        adapter = self.adapters.get(user.platform)
        return adapter.mention(user) if adapter else user_key

    def form_for(self, press: ButtonPress) -> Form | None:
        """A reviewer's Reject button opens the reject form where the platform has forms."""
        adapter = self.adapters.get(press.user.platform)
        if adapter is None or not adapter.capabilities.forms or not self.rules.is_reviewer(press.user.key):
            return None
        return self.reviews.form_for(press, self.language_of(press.user.key))

    def reviewers_channel(self, platform: str) -> str | None:
        return self.rules.reviewers.channel.get(platform)

    def close(self) -> None:
        self.validator.close()
        self.store.close()
