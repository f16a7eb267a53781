"""The contract between the core and a chat platform, beside the neutral events of bot/events.py.

Two directions, two protocols:
- `Adapter` is what the core asks of a platform (send, edit, mention, profile, open a form);
- `Host` is what a platform may ask of the core (attach, dispatch, and neutral questions).

A platform package under bot/adapters/ (console/, slack/, discord/, ...) exposes one `Platform`
descriptor: the settings it reads, the checks `doctor` prints and `run` enforces, and how it serves.
Adding a platform is one package and one line in bot/adapters/__init__.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from bot.events import (
    ButtonPress,
    Destination,
    Event,
    Form,
    FormSubmitted,
    Home,
    MessageRef,
    Outgoing,
    UserRef,
)
from bot.rules import Rules

log = logging.getLogger(__name__)

# -- what the core asks of a platform -------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show. The core falls back on what is missing:

    no buttons -> the review post asks for reactions; no reactions either -> for the text commands
    `approve ID` / `reject ID`; no forms -> the reject reason is asked in DM; no threads -> notes go
    to the channel; no files -> reviewers are told where the file is instead.
    """

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


class FindsSent(Protocol):
    """Optional for adapters: find a message sent with `Outgoing.key`, so that after a crash between
    sending a review post and recording it, the post is recorded instead of sent twice."""

    def find_sent(self, channel: str, key: str) -> MessageRef | None: ...


@runtime_checkable
class GrantsAccess(Protocol):
    """Optional for adapters: give and take away a platform entitlement (bot/entitlements/): a Slack
    private channel's membership, a Discord role, the console's printed line. `target` is the
    entitlement's `target` in rules.yaml. Both are idempotent (granting twice is fine) and raise
    DeliveryError when the platform refuses."""

    def grant(self, user: UserRef, target: str) -> None: ...

    def revoke(self, user: UserRef, target: str) -> None: ...


@runtime_checkable
class RefreshesHome(Protocol):
    """Optional for adapters whose home view stays on screen (Slack's App Home tab): after an event
    is handled and its deliveries sent, the Application says whose home changed: `users` (keys of
    people on this platform whose record changed) and `queue` (the reviewers' queue changed, so every
    reviewer's home did). The adapter redraws (Host.home_for) only homes people have opened. Must
    return at once (draw in the background, rate-limited) and never raise."""

    def refresh_home(self, users: Sequence[str], *, queue: bool) -> None: ...


@runtime_checkable
class MovesClock(Protocol):
    """Optional for hosts: the console's `/tick DAYS` moves the clock (console only: bot/app.py)."""

    def advance_clock(self, days: float) -> None: ...


@runtime_checkable
class ChecksForms(Protocol):
    """Optional for hosts: what is wrong with a submitted form, by field id, before it is dispatched
    (Slack shows each under its field and keeps the modal open); {} when nothing is."""

    def form_problems(self, submitted: FormSubmitted) -> dict[str, str]: ...


# -- what a platform may ask of the core ----------------------------------------------------------


class Host(Protocol):
    """The core as a platform package sees it. Nothing here exposes the store or the review desk."""

    def attach(self, adapter: Adapter) -> None:
        """Register the platform's adapter: replies to its users go through it."""
        ...

    def dispatch(self, event: Event) -> None:
        """Handle one event; never raises. Thread-safe: call it from any worker thread."""
        ...

    def form_for(self, press: ButtonPress) -> Form | None:
        """The form a button press should open instead of being dispatched (None: dispatch it).

        Asking decides nothing and writes nothing; the submission arrives later as FormSubmitted."""
        ...

    def reviewers_channel(self, platform: str) -> str | None:
        """The private reviewers channel on this platform (thread replies there may be for the bot)."""
        ...

    def home_for(self, user: UserRef, *, typed: bool = False) -> Home:
        """The person's home view (checklist, reviewers' queue, admins' figures); reads only.

        `typed`: a last section numbers what can be typed instead of pressed (the console)."""
        ...

    def tick(self) -> int:
        """Send the reminders due now; returns how many went out (the console's /tick)."""
        ...

    def review_posts(self, platform: str, *, pending_only: bool = False) -> list[MessageRef]:
        """The review posts on this platform, oldest first."""
        ...

    def review_post_ids(self, platform: str) -> list[str]:
        """The message ids of the review posts on this platform, in no order (the console numbers
        its messages after the highest; 47,000 posts are read in milliseconds this way)."""
        ...

    @property
    def rules(self) -> Rules:
        """The rules in force now (read-only: platform packages check ids and channels against them)."""
        ...


# -- what a platform declares -------------------------------------------------------------------------

CheckStatus = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of `accessbot doctor`: what was checked and, unless it is fine, how to fix it."""

    status: CheckStatus
    what: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    @staticmethod
    def good(what: str) -> Check:
        return Check("ok", what)

    @staticmethod
    def warn(what: str, fix: str = "") -> Check:
        return Check("warn", what, fix)

    @staticmethod
    def fail(what: str, fix: str = "") -> Check:
        return Check("fail", what, fix)


@dataclass(frozen=True)
class Setting:
    """An environment variable a platform reads, documented in docs/configuration.md and .env.example."""

    env: str
    help: str
    secret: bool = False


@dataclass(frozen=True)
class ServeOptions:
    """Command-line options of `accessbot run` that a platform may use."""

    http: bool = False
    """Slack: HTTP mode instead of Socket Mode."""
    port: int = 3000
    user: str = "alice"
    """Console: the first user."""
    rules_path: Path = Path("rules.yaml")
    """Where rules.yaml is, for check messages that say which file to edit."""
    data_dir: Path = Path("data")
    """The data folder (the console keeps its transcript of review posts there)."""


class Stopper:
    """How the runtime asks a serving platform to stop (SIGTERM): the platform registers a callback.

    The callback runs on the thread that received the signal (the main thread); it must only ask
    the platform's loop to stop, never block. Events in hand are finished by the runtime afterwards.
    """

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)
            already = self._requested.is_set()
        if already:
            callback()

    def request(self) -> None:
        with self._lock:
            if self._requested.is_set():
                return
            self._requested.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._requested.wait(timeout)


@dataclass(frozen=True)
class Environment:
    """The process environment as read once at start-up (plain strings, never executed)."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return str(self.values.get(name, "")).strip()


class Platform(Protocol):
    """A platform package's descriptor (`PLATFORM` in its __init__; no platform library imported there)."""

    name: str
    settings: tuple[Setting, ...]

    def configured(self, env: Environment) -> bool:
        """Its credentials are set: `accessbot run` with no platform named picks it."""
        ...

    def partly_configured(self, env: Environment) -> bool:
        """Any of its variables is set: `doctor` checks it even when another platform is chosen."""
        ...

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        """Offline checks (token shapes, channel and people ids): printed by doctor, enforced by run."""
        ...

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        """Connect (live checks first), then serve until stopped. Returns an exit code, never exits."""
        ...
