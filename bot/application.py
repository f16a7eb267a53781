"""The Application: one per process, serving every attached platform (opsdroid-style composition).

Lifecycle (python-telegram-bot's Application is the model):
  app = assemble(...)        bot/app.py, the composition root, builds it
  app.attach(adapter)        each platform package attaches its adapter (Host.attach)
  app.start()                warms the document worker in the background, starts the reminder loop
  app.dispatch(event)        from any thread, any number of times; never raises
  app.stop()                 stops the reminders, waits for the events in hand, closes the store

Thread-safe: one person's events run in order, different people's in parallel; review decisions
are serialized by the review desk. `dispatch` never raises: a handler's failure is logged for admins
and the person gets a plain apology, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol, cast, runtime_checkable

from bot import admin, heartbeat, home, reminders, report_workers, rules_diff
from bot.clock import OffsetClock
from bot.context import Context, Handler, Services
from bot.event_ids import Claim
from bot.events import (
    ButtonPress,
    ChannelMessage,
    Destination,
    Event,
    Form,
    FormSubmitted,
    Home,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.memo import per_object
from bot.platform import Adapter, RefreshesHome
from bot.review.deliveries import withdrawals
from bot.rules import Rules
from bot.store import ForgetReport, Store
from bot.workflow import package_complete, review_step

log = logging.getLogger(__name__)


@runtime_checkable
class OffersForms(Protocol):
    """A handler that offers forms (bot/handlers/form.py): the one a button opens, and what is
    wrong with one submitted, both read-only."""

    def form_for(self, services: Services, press: ButtonPress) -> Form | None: ...

    def form_problems(self, services: Services, submitted: FormSubmitted) -> dict[str, str]: ...


RETRY_WINDOW_S = 600.0
"""How long the same message after a partly saved failure counts as its retry."""


def _keeps_homes(adapter: Adapter) -> bool:
    """isinstance(adapter, RefreshesHome), worked out once per adapter class: a runtime Protocol
    check looks up each of the protocol's attributes every time (about 25 µs, on every event)."""
    return _class_keeps_homes(type(adapter))


@per_object
def _class_keeps_homes(cls: type) -> bool:
    return issubclass(cls, RefreshesHome)


class Application:
    def __init__(self, services: Services, handlers: Sequence[Handler[Any]]) -> None:
        self.services = services
        self.handlers: list[Handler[Any]] = list(handlers)
        self._lock = threading.Lock()
        self._user_locks: dict[str, threading.Lock] = {}
        self._reminders: ReminderLoop | None = None
        self._retries: dict[str, tuple[str, list[object], float]] = {}
        """Per person: the message whose handling failed after saving something."""

    # -- what tests, the CLI and platform packages use -------------------------------------

    @property
    def rules(self) -> Rules:
        return self.services.rules

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def adapters(self) -> dict[str, Adapter]:
        return self.services.messenger.adapters

    def attach(self, adapter: Adapter) -> None:
        self.services.messenger.attach(adapter)
        if self._reminders is not None:
            self._reminders.wake()  # what an earlier run left unsent may go out on this platform now

    def reviewers_channel(self, platform: str) -> str | None:
        return self.services.messenger.reviewers_channel(platform)

    def review_post_ids(self, platform: str) -> list[str]:
        return self.services.store.review_post_ids(platform)

    def review_posts(self, platform: str, *, pending_only: bool = False) -> list[MessageRef]:
        """The review rounds' posts on `platform`, oldest first, from the store's index."""
        return [
            MessageRef(*ref)
            for ref in self.services.store.review_post_refs(platform, pending_only=pending_only)
        ]

    def form_for(self, press: ButtonPress) -> Form | None:
        """A reviewer's Reject button opens the reject form where the platform has forms; a handler
        may offer one too (a form step's "Fill in the form", bot/handlers/form.py)."""
        adapter = self.adapters.get(press.user.platform)
        if adapter is None or not adapter.capabilities.forms:
            return None
        for handler in self.handlers:
            if isinstance(handler, OffersForms):
                offered = handler.form_for(self.services, press)
                if offered is not None:
                    return offered
        if not self.rules.is_reviewer(press.user.key):
            return None
        t = self.services.translator.bound(self.services.messenger.language_of(press.user.key))
        return self.services.desk.form_for(press, t)

    def form_problems(self, submitted: FormSubmitted) -> dict[str, str]:
        """Field id -> what is wrong, for a form whose handler checks it before it closes (reads only;
        bot/platform.py ChecksForms). Never raises: a failed check lets the submission through."""
        try:
            for handler in self.handlers:
                if isinstance(handler, OffersForms):
                    found = handler.form_problems(self.services, submitted)
                    if found:
                        return found
        except Exception:
            log.exception("checking the answers of form %s failed", submitted.form)
        return {}

    def home_for(self, user: UserRef, *, typed: bool = False) -> Home:
        """The person's home (bot/home.py), from the records as they are now; writes nothing."""
        adapter = self.adapters.get(user.platform)
        buttons = adapter is not None and adapter.capabilities.buttons
        return home.gather(self.services, user, buttons=buttons or typed, typed=typed)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, reminders_every: bool = True) -> None:
        """Warm the document worker (and, for a big store, the report workers' fork server) without
        blocking the first reply; start the reminder loop."""
        threading.Thread(target=self._warm_up, name="pdf-warm-up", daemon=True).start()
        if reminders_every and self._reminders is None:
            self._reminders = ReminderLoop(self)
            self._reminders.start()

    def _warm_up(self) -> None:
        try:
            self.services.validator.warm_up()
        except Exception:
            log.exception("the document worker did not start; uploads will retry it")
        try:
            report_workers.warm_up(self.services.store, self.services.report_workers)
        except Exception:
            log.exception("the report workers' fork server did not start; a big export will start it")

    def tick(self) -> int:
        """Send what earlier runs left unsent, then the reminders due now (the console's /tick)."""
        self.redeliver()
        return self.run_reminders()

    def run_reminders(self) -> int:
        """One reminders tick (bot/reminders.py), then the homes it changed are redrawn."""
        changed: set[str] = set()
        try:
            return reminders.tick(self.services, changed)
        finally:
            if changed:
                self._redraw(
                    sorted(k for k in changed if k != reminders.QUEUE_CHANGED),
                    queue=reminders.QUEUE_CHANGED in changed,
                )

    def advance_clock(self, days: float) -> None:
        """The console's `/tick DAYS` (bot/platform.py MovesClock): move the runtime's clock forward.

        Only a clock built to be moved (bot/clock.py OffsetClock, what bot/app.py gives the runtime)
        moves; other platforms never call this."""
        clock = self.services.clock
        if not isinstance(clock, OffsetClock):
            raise TypeError("this clock cannot be moved")
        clock.advance(days)

    def forget(self, key: str, by: str) -> ForgetReport:
        """Forget a person everywhere; their review posts are edited to say "withdrawn". Raises
        NotDone (no such person) or ForgetFailed (a write failed: never a success that did not happen)."""
        report = admin.forget(self.services.store, key, by)
        self.services.messenger.deliver(withdrawals(report.review_posts))
        return report

    def control(self, command: str, args: list[str]) -> str:
        """What `accessbot admin forget|reset|revoke|block|unblock|closeout` beside this live bot asks
        over the control socket."""
        if command == "forget" and args:
            return admin.forget_text(self.forget(args[0], "cli"))
        # what revoke, block, unblock or closeout leave to send goes now, through the outbox
        deliver = self.services.messenger.deliver
        try:
            return admin.change(self.services.store, self.rules, command, args, by="cli", deliver=deliver)
        finally:
            if args:  # the person's home, and the queue a reset or block may have changed
                self._redraw([args[0]], queue=True)

    def repair(self) -> int:
        """Open the review round of any complete package that has none: a crash between saving the
        last step and opening the round leaves exactly that. Returns how many were opened."""
        opened = 0
        desk, messenger, rules = self.services.desk, self.services.messenger, self.rules
        final = review_step(rules)
        if final is None:
            return 0
        # Each record read as its steps only, one shard at a time; the desk, under its lock, is asked
        # only about the few that look complete and unopened (asking about all 100,000 held the
        # store's lock 100,000 times while the people who wrote in waited).
        for record in self.services.foreground.give_way(self.services.store.iter_progress()):
            if record.approved_at or record.review_id or record.is_done(final.id):
                continue
            if not package_complete(rules, record):
                continue
            decision = desk.submit_if_complete(record.key)
            if decision.status == "opened":
                messenger.deliver(decision.deliveries, decision.op_id)
                opened += 1
        if opened:
            log.warning("opened %d review round(s) a crash had left unopened", opened)
        return opened

    def redeliver(self) -> int:
        """Deliver what the operation log still holds (a crash, or a platform that was down)."""
        try:
            sent = self.services.messenger.redeliver()
        except Exception:
            log.exception("redelivering the outbox failed; will try again")
            return 0
        if sent:
            log.info("delivered %d message(s) left by an earlier run or a failed send", sent)
        return sent

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every event in hand is handled; False if some were still running at the timeout."""
        return self.services.foreground.wait_idle(timeout)

    def stop(self) -> None:
        if self._reminders is not None:
            self._reminders.stop()
            self._reminders = None
        if not self.drain():
            log.warning("stopping with events still in hand after 30 s")

    def close(self) -> None:
        self.stop()
        self.services.validator.close()
        self.services.store.close()

    # -- incoming ----------------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        """Handle one event. Never raises: failures are logged for admins and the person is told."""
        adapter = self.adapters.get(event.user.platform)
        if adapter is None:
            log.error("event from platform %r with no adapter attached", event.user.platform)
            return
        with self.services.foreground.serving():  # drain() waits for it; background passes give way
            watch = self._watch_homes(event)
            try:
                self._dispatch(event, adapter)
            finally:
                if watch is not None:
                    self._refresh_homes(watch)

    def _watch_homes(self, event: Event) -> home.HomeWatch | None:
        """Only when an adapter keeps homes on screen (bot/platform.py RefreshesHome)."""
        if not any(map(_keeps_homes, self.adapters.values())):
            return None
        try:
            return home.HomeWatch(self.services.store, event)
        except Exception:
            log.exception("could not read the records before an event; its homes are not redrawn")
            return None

    def _refresh_homes(self, watch: home.HomeWatch) -> None:
        """Tell the adapters that redraw homes whose home this event changed (never raises)."""
        try:
            changes = watch.changes()
        except Exception:
            log.exception("could not read the records after an event; its homes are not redrawn")
            return
        if changes:
            self._redraw(list(changes.users), queue=changes.queue)

    def _redraw(self, users: list[str], *, queue: bool) -> None:
        """Ask each adapter that keeps homes on screen to redraw these people's (and, with `queue`,
        the reviewers') homes. Never raises: a home not redrawn is logged, the next change redraws it."""
        for platform, adapter in list(self.adapters.items()):
            if not _keeps_homes(adapter):
                continue
            mine = [k for k in users if k.startswith(platform + ":")]
            if mine or queue:
                try:
                    cast(RefreshesHome, adapter).refresh_home(mine, queue=queue)  # _keeps_homes said so
                except Exception:
                    log.exception("could not redraw the homes on %s", platform)

    def _dispatch(self, event: Event, adapter: Adapter) -> None:
        store = self.services.store
        ctx: Context | None = None
        claim: Claim | None = None
        try:
            if not self._concerns_us(event):
                return  # reactions on other messages: not even remembered
            claim = store.claim_event(event.event_id)
            if claim is None:
                log.info("skipping repeated event %s", event.event_id)
                return
            self.maybe_reload_rules()
            ctx = Context(self.services, event, self.rules, adapter)
            # One person's events run in order; different people run in parallel (adapters may call
            # dispatch from several threads, so a slow PDF never holds up anyone else).
            with self._user_lock(event.user.key):
                if self._finish_retry(ctx, claim):
                    return
                # Matching only reads (docs/architecture.md); the event id is on disk before the
                # handler writes or replies anything.
                for handler in self.handlers:
                    found = handler.match(ctx)
                    if found is not None:
                        claim.durable()
                        handler.handle(ctx, found)
                        return
        except Exception:
            log.exception(
                "handling %s failed (event %s, user %s); the person was told to try again",
                type(event).__name__,
                event.event_id,
                store.pseudonym(event.user.key),
            )
            saved = list(ctx.saved) if ctx is not None else []
            if saved and ctx is not None:
                self._retries[event.user.key] = (ctx.text, saved, time.monotonic())
            if not isinstance(event, ChannelMessage):
                self._settle(claim)
                self._apologise(adapter, event, saved)

    @staticmethod
    def _settle(claim: Claim | None) -> None:
        """Before an apology: the id on disk if it can be (a failed fsync was already logged, and
        released the id so the platform's retry is handled)."""
        if claim is not None:
            with contextlib.suppress(OSError):
                claim.durable()

    def _concerns_us(self, event: Event) -> bool:
        """Reactions matter only as votes or claims on review posts: anything else is dropped before
        the log."""
        if not isinstance(event, ReactionAdded | ReactionRemoved):
            return True
        desk = self.services.desk
        if (
            desk.vote_for_emoji(event.emoji) is None
            and not desk.is_claim_emoji(event.emoji)
            and not desk.is_return_emoji(event.emoji)  # return for changes (bot/review/returns.py)
        ):
            return False
        ref = event.message
        return self.services.store.review_for_post(ref.platform, ref.channel, ref.message_id) is not None

    def _apologise(self, adapter: Adapter, event: Event, saved: list[object]) -> None:
        """Say exactly what was saved before the failure (nothing, or these steps)."""
        messenger = self.services.messenger
        try:
            lang = messenger.language_of(event.user.key)
        except Exception:  # the store itself may be what failed: apologise in the default language
            lang = self.rules.language
        if saved:
            text = messenger.text(lang, "error.partial", saved=self._listed(saved, lang))
        else:
            text = messenger.text(lang, "error.internal")
        messenger.send(adapter, Destination.dm(event.user), text)

    def _listed(self, saved: list[object], lang: str) -> str:
        return ", ".join(self.services.translator.t(lang, "error.saved_item", item=item) for item in saved)

    def _finish_retry(self, ctx: Context, claim: Claim) -> bool:
        """The same message again after a failure that had already saved something: finish only
        what is missing (the review round, the messages), never complete one more step."""
        pending = self._retries.pop(ctx.user.key, None)
        if pending is None:
            return False
        text, saved, at = pending
        if ctx.text != text or time.monotonic() - at > RETRY_WINDOW_S:
            return False
        claim.durable()
        ctx.carry_out(ctx.desk.submit_if_complete(ctx.user.key))
        self.redeliver()
        ctx.reply(ctx.t("error.finished_retry", saved=self._listed(saved, ctx.lang)))
        return True

    def _user_lock(self, key: str) -> threading.Lock:
        with self._lock:
            lock = self._user_locks.get(key)
            if lock is None:
                lock = self._user_locks[key] = threading.Lock()
            return lock

    def _tell_admins_what_changed(self, before: Rules) -> None:
        """After a live reload, who the change affects (the dry run of `accessbot rules diff`)."""
        try:
            summary = rules_diff.summarise_diff(before, self.rules, self.services.store)
        except Exception:
            log.exception("could not work out whom the new rules affect")
            return
        self.services.messenger.notify_admins("admin.rules_diff", summary=summary)

    def maybe_reload_rules(self) -> None:
        holder = self.services.rules_holder
        if not holder.changed_on_disk():
            return
        with self._lock:
            if not holder.changed_on_disk():
                return
            before = holder.current
            notice = holder.reload_notice()  # None: the admins were already told of this error
        if notice is None:
            return
        if notice.ok:
            self.services.messenger.notify_admins("admin.rules_reloaded")
            self._tell_admins_what_changed(before)
        else:
            self.services.messenger.notify_admins("admin.rules_broken", errors=notice.text)


class ReminderLoop:
    """In a daemon thread until stopped: the outbox every minute (and soon after a platform
    attaches), the reminders every `check_every_minutes`."""

    OUTBOX_EVERY_S = 60.0

    def __init__(self, app: Application) -> None:
        self.app = app
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reminders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        next_tick = 0.0
        try:  # first, in the background so the first reply never waits: what a crash left undone
            self.app.repair()
        except Exception:
            log.exception("the start-up repair failed; the bot goes on")
        while not self._stop.is_set():
            try:
                heartbeat.beat(self.app.services.store.dir)  # `accessbot health` reads this
            except OSError as exc:
                log.warning("could not write the heartbeat: %s", exc)
            self.app.redeliver()
            try:
                services = self.app.services
                services.estimates.refresh(services.rules, services.store)
            except Exception:
                log.exception("could not work out the wait estimates; the checklist keeps the last ones")
            if time.monotonic() >= next_tick:
                try:
                    sent = self.app.run_reminders()
                    if sent:
                        log.info("sent %d reminder(s)", sent)
                except Exception:
                    log.exception("reminder tick failed; will try again at the next tick")
                next_tick = time.monotonic() + 60 * max(1, self.app.rules.reminders.check_every_minutes)
            self._wake.wait(min(self.OUTBOX_EVERY_S, max(0.0, next_tick - time.monotonic())))
            self._wake.clear()
