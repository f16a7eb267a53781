"""What a handler sees: the event, the rules fixed for the whole event, and narrow services.

Handlers depend on this module only (never on the Application): `match(ctx)` reads and returns what
it found, with no writes; `handle(ctx, found)` acts on it. The text of a message is parsed once per
event (`ctx.understood`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol, TypeVar

from bot.documents import Validator
from bot.estimates import EstimateCache
from bot.events import (
    ChannelMessage,
    Command,
    Destination,
    DirectMessage,
    Event,
    FormSubmitted,
    MessageRef,
    Outgoing,
    UserRef,
)
from bot.give_way import Foreground
from bot.i18n import Bound, Translator
from bot.intents import Intent, Understood, understand
from bot.language.detect import LanguageState, next_language
from bot.language.lexicon import Lexicon
from bot.messenger import Delivery, Messenger
from bot.models import Applicant
from bot.platform import Adapter
from bot.review.desk import Decision, ReviewDesk
from bot.review.posts import ReviewPosts
from bot.rules import Rules
from bot.rules_loader import RulesHolder
from bot.settings import REPORT_WORKERS
from bot.store import Store
from bot.workflow import is_applicant

M = TypeVar("M")


@dataclass
class Services:
    """The parts of the bot handlers may use. Built once by the composition root (bot/app.py)."""

    rules_holder: RulesHolder
    store: Store
    validator: Validator
    translator: Translator
    clock: Callable[[], datetime]
    messenger: Messenger
    desk: ReviewDesk
    posts: ReviewPosts
    lexicon: Lexicon
    """The words the bot understands, in every language of bot/locales (words.<lang>.yaml)."""
    foreground: Foreground = field(default_factory=Foreground)
    """The events in hand, which background passes give way to (bot/give_way.py)."""
    estimates: EstimateCache = field(default_factory=EstimateCache)
    """The checklist's wait estimates, worked out now and then from the store's timestamps."""
    report_workers: int = REPORT_WORKERS
    """Processes `export` and `stats` may use for a big store (bot/report_workers.py; 0: none)."""

    @property
    def rules(self) -> Rules:
        return self.rules_holder.current


class Handler(Protocol[M]):
    """One kind of event the bot answers. Handlers are tried in order; the first match wins."""

    def match(self, ctx: Context) -> M | None:
        """What this handler would act on, or None. Reads only: never writes anything."""
        ...

    def handle(self, ctx: Context, found: M) -> None: ...


@dataclass
class Context:
    """Everything a handler needs for one event, with the rules fixed for the whole event."""

    services: Services
    event: Event
    rules: Rules
    adapter: Adapter
    _applicant: Applicant | None = field(default=None, repr=False)
    saved: list[object] = field(default_factory=list)
    """What this event has recorded so far (step titles): if a later write fails, the apology says
    exactly this much was saved, and a retry of the same message finishes only the rest."""

    @property
    def user(self) -> UserRef:
        return self.event.user

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def desk(self) -> ReviewDesk:
        return self.services.desk

    @property
    def messenger(self) -> Messenger:
        return self.services.messenger

    @property
    def text(self) -> str:
        if isinstance(self.event, DirectMessage | ChannelMessage | Command):
            return self.event.text.strip()
        return ""

    @cached_property
    def understood(self) -> Understood:
        """The message's meaning, parsed once for every handler that asks (the FAQ of rules.yaml
        included, so a question is matched to its entry)."""
        return understand(self.text, self.services.lexicon, faq=self.rules.faq_entries())

    @property
    def is_dm_text(self) -> bool:
        """A DM with text and no file."""
        return isinstance(self.event, DirectMessage) and not self.event.attachments and bool(self.text)

    def existing_applicant(self) -> Applicant | None:
        """The sender's record if there is one (read only: fit for `match`)."""
        if self._applicant is None:
            self._applicant = self.store.get(self.user.key)
        return self._applicant

    @property
    def is_staff(self) -> bool:
        return self.rules.is_admin(self.user.key) or self.rules.is_reviewer(self.user.key)

    @property
    def staff_only(self) -> bool:
        """A reviewer or admin who has not started an application of their own: never recorded as an
        applicant by what they say (an upload, or asking to apply, starts one)."""
        if not self.is_staff:
            return False
        applicant = self.existing_applicant()
        return applicant is None or not is_applicant(self.rules, applicant)

    def applicant(self) -> Applicant:
        """The sender's record, created on first contact in the language of their first message."""
        applicant = self.existing_applicant()
        if applicant is None:
            applicant = self.store.ensure(self.user.key, lang=self.lang, display_name=self.user.display_name)
            self._applicant = applicant
        self.remember_language()
        return self._applicant or applicant

    def refresh(self, applicant: Applicant) -> None:
        self._applicant = applicant

    # -- language ------------------------------------------------------------------------------

    @cached_property
    def language(self) -> LanguageState:
        """The conversation's language after this message: the record's state moved on by what the
        message is written in, or asks for (bot.language.detect.next_language). Read only."""
        before = _state_of(self.existing_applicant())
        if not self.text or not isinstance(self.event, DirectMessage | Command | ChannelMessage):
            return before
        understood = self.understood
        requested = understood.language if understood.intent is Intent.LANGUAGE else None
        return next_language(
            before, written=understood.message_language, requested=requested, supported=self.rules.languages
        )

    def remember_language(self) -> None:
        """Keep the conversation's language on the sender's record (when they have one)."""
        applicant = self.existing_applicant()
        if applicant is None:
            return
        state = self.language
        lang = state.reply_language(self.rules.language)
        wanted = (lang, state.lang is not None, state.other or "", state.streak)
        if (applicant.lang, applicant.lang_set, applicant.lang_other, applicant.lang_streak) == wanted:
            return

        def keep(a: Applicant) -> None:
            a.lang, a.lang_set, a.lang_other, a.lang_streak = wanted

        self._applicant = self.store.update(applicant.key, keep)

    @property
    def lang(self) -> str:
        """The reply's language. Someone without a record (staff, say) gets the language they write."""
        return self.language.reply_language(self.rules.language)

    @property
    def tr(self) -> Bound:
        return self.services.translator.bound(self.lang)

    def t(self, key: str, **params: object) -> str:
        return self.messenger.text(self.lang, key, **params)

    def reply(self, message: str | Outgoing) -> MessageRef | None:
        if isinstance(self.event, DirectMessage | Command):
            self.remember_language()
        return self.messenger.send(self.adapter, Destination.dm(self.user), message)

    def carry_out(self, decision: Decision) -> Decision:
        """Send what a review decision left to send; returns the decision for the reply."""
        self.messenger.deliver(decision.deliveries, decision.op_id)
        return decision

    def deliver(self, deliveries: Sequence[Delivery], op_id: str = "") -> None:
        """Send what a decision left to send (after the decision's lock is released); with the
        decision's `op_id`, each is marked sent in the operation log, so a crash loses none."""
        self.messenger.deliver(deliveries, op_id)


def _state_of(applicant: Applicant | None) -> LanguageState:
    if applicant is None:
        return LanguageState()
    return LanguageState(
        applicant.lang if applicant.lang_set else None, applicant.lang_other or None, applicant.lang_streak
    )


def is_form(event: Event, form_id: str) -> FormSubmitted | None:
    return event if isinstance(event, FormSubmitted) and event.form == form_id else None
