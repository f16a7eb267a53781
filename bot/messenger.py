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
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar, TypeVar

from bot.events import Destination, MessageRef, Outgoing, UserRef
from bot.i18n import Translator
from bot.platform import Adapter, DeliveryError, Profile
from bot.rules import Rules
from bot.schema import LocalText
from bot.store import Store

log = logging.getLogger(__name__)


class Sent(Enum):
    """What carrying out a delivery came to."""

    DONE = "done"
    RETRY = "retry"
    """Not now (platform not connected, a transient error): kept and tried again later."""
    GIVE_UP = "give_up"
    """It can never go (the person closed their DMs): recorded, the admins were told."""


_KINDS: dict[str, type[Delivery]] = {}


@dataclass(frozen=True)
class Delivery:
    """Something to send once the decision that produced it is recorded.

    Subclasses are frozen dataclasses of plain values (str, int, Mapping params); they are stored in
    the operation log until sent, so a crash never loses one."""

    needs_reconciling: ClassVar[bool] = False
    """A delivery the platform keeps a record of (a review post): after a crash mid-send, ask the
    platform (Adapter.find_sent) before sending again, so it is not posted twice."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _KINDS[cls.__name__] = cls


def encode(delivery: Delivery) -> dict[str, Any]:
    """A delivery as JSON-ready data for the operation log."""
    data: dict[str, Any] = {"type": type(delivery).__name__}
    for f in fields(delivery):
        value = getattr(delivery, f.name)
        data[f.name] = (
            {k: _encode_value(v) for k, v in value.items()} if isinstance(value, Mapping) else value
        )
    return data


def decode(data: Mapping[str, Any]) -> Delivery:
    kind = _KINDS[str(data["type"])]
    values: dict[str, Any] = {}
    for f in fields(kind):
        value = data.get(f.name)
        values[f.name] = (
            {k: _decode_value(v) for k, v in value.items()} if isinstance(value, Mapping) else value
        )
    return kind(**values)


def _encode_value(value: object) -> object:
    if isinstance(value, Mention):
        return {"$mention": value.user}
    if isinstance(value, LocalText):
        return {"$local": dict(value.texts)}
    if isinstance(value, tuple | list):
        return [_encode_value(v) for v in value]
    return value


def _decode_value(value: object) -> object:
    if isinstance(value, dict) and "$mention" in value:
        return Mention(str(value["$mention"]))
    if isinstance(value, dict) and "$local" in value:
        return LocalText(dict(value["$local"]))
    if isinstance(value, list):
        return tuple(_decode_value(v) for v in value)
    return value


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
DeliveryHandler = Callable[[Any], Sent]


def outcome_of(result: MessageRef | DeliveryError | None) -> Sent:
    if isinstance(result, MessageRef):
        return Sent.DONE
    if isinstance(result, DeliveryError) and result.permanent:
        return Sent.GIVE_UP
    return Sent.RETRY


class Messenger:
    """The adapters the bot is connected to, and the one way to send through them."""

    def __init__(self, store: Store, translator: Translator, rules: Callable[[], Rules]) -> None:
        self.oplog = store.oplog
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
        self._key = threading.local()
        self._redelivering = threading.Lock()

    @property
    def rules(self) -> Rules:
        return self._rules()

    def attach(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    def adapter_for(self, platform: str) -> Adapter | None:
        return self.adapters.get(platform)

    def handle(self, kind: type[D], handler: Callable[[D], Sent]) -> None:
        """Register who carries out one kind of delivery (the review desk registers its posts)."""
        self._handlers[kind] = handler

    # -- the outbox --------------------------------------------------------------------------

    def deliver(self, deliveries: Iterable[Delivery], op_id: str = "") -> None:
        """Carry out deliveries in order; one failing never stops the rest.

        With the `op_id` of a committed operation, each delivery is marked in the operation log once
        it is out, so what a crash interrupts is sent at the next start (see `redeliver`)."""
        try:
            for n, delivery in enumerate(deliveries):
                if op_id and delivery.needs_reconciling:
                    self.oplog.sending(op_id, n)
                outcome = self._carry_out(delivery, key=f"{op_id}:{n}" if op_id else "")
                if op_id and outcome is not Sent.RETRY:
                    self.oplog.delivered(op_id, n, outcome.value)
        finally:
            if op_id:
                self.oplog.release(op_id)

    def _carry_out(self, delivery: Delivery, *, key: str = "") -> Sent:
        handler = self._handlers.get(type(delivery))
        if handler is None:
            log.error("no handler for delivery %s: kept for later", type(delivery).__name__)
            return Sent.RETRY
        self._key.value = key
        try:
            return handler(delivery)
        except Exception:
            log.exception("delivering %s failed; it will be tried again", type(delivery).__name__)
            return Sent.RETRY
        finally:
            self._key.value = ""

    @property
    def delivery_key(self) -> str:
        """The idempotency key of the delivery being carried out ("" outside one)."""
        return str(getattr(self._key, "value", ""))

    def redeliver(self) -> int:
        """Send what earlier runs (or failed sends) left in the operation log; returns how many went."""
        if not self._redelivering.acquire(blocking=False):
            return 0  # another thread is at it
        try:
            return self._redeliver()
        finally:
            self._redelivering.release()

    def _redeliver(self) -> int:
        done = 0
        for op, n, data in self.oplog.undelivered():
            try:
                delivery = decode(data)
            except (KeyError, TypeError, ValueError):
                log.error(
                    "operation %s holds a delivery this version cannot read: %r", op.id, data.get("type")
                )
                self.oplog.delivered(op.id, n, "unreadable")
                continue
            if not self._adapter_for_delivery(delivery):
                continue  # its platform is not connected in this run: later
            if delivery.needs_reconciling:
                self.oplog.sending(op.id, n)
            outcome = self._carry_out(delivery, key=f"{op.id}:{n}")
            if outcome is not Sent.RETRY:
                self.oplog.delivered(op.id, n, outcome.value)
                done += 1
        return done

    def _adapter_for_delivery(self, delivery: Delivery) -> bool:
        platform = getattr(delivery, "platform", "") or str(getattr(delivery, "user", "")).split(":", 1)[0]
        return not platform or platform in self.adapters

    # -- sending -----------------------------------------------------------------------------

    def send(self, adapter: Adapter, destination: Destination, message: str | Outgoing) -> MessageRef | None:
        """Send and return where it landed; on failure log what we were doing and return None."""
        result = self.try_send(adapter, destination, message)
        return result if isinstance(result, MessageRef) else None

    def try_send(
        self, adapter: Adapter, destination: Destination, message: str | Outgoing
    ) -> MessageRef | DeliveryError:
        """Send; a failure is logged (and a person who cannot be reached reported) and returned."""
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
            return exc

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
        result = self._tell_result(user_key, key, params)
        return result if isinstance(result, MessageRef) else None

    def _tell_result(
        self, user_key: str, key: str, params: Mapping[str, object]
    ) -> MessageRef | DeliveryError:
        user = UserRef.from_key(user_key)
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            log.warning("no adapter for %s: message %s not sent", user.platform, key)
            return DeliveryError(f"{user.platform} is not connected")
        text = self.text(self.language_of(user_key), key, **params)
        return self.try_send(adapter, Destination.dm(user), text)

    def _tell(self, delivery: Tell) -> Sent:
        return outcome_of(self._tell_result(delivery.user, delivery.key, delivery.params))

    def _tell_admins(self, delivery: TellAdmins) -> Sent:
        for admin in self.rules.admins:
            if UserRef.from_key(admin).platform in self.adapters:
                self.tell(admin, delivery.key, **delivery.params)
        return Sent.DONE

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
