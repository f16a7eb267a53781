"""The Discord package's serving and pure helpers: exit codes, stopping, error mapping, message splitting."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import discord
import pytest

from bot.adapters.discord import PLATFORM
from bot.adapters.discord.client import AccessClient, EventStamps
from bot.adapters.discord.outbound import delivery_error
from bot.adapters.discord.render import split_text
from bot.events import ButtonPress, DirectMessage, Event, Form, Home, MessageRef, UserRef
from bot.platform import Adapter, Environment, ServeOptions, Stopper
from bot.rules import Rules
from bot.rules_loader import load_rules
from tests.conftest import RULES

GOOD_TOKEN = "M" + "T" * 25 + ".GabCdE." + "x" * 30


class FakeHost:
    """The Host contract and nothing else: what serve needs of the core."""

    def __init__(self, *, slow_s: float = 0.0) -> None:
        self.adapters: list[Adapter] = []
        self.started: list[str] = []
        self.finished: list[str] = []
        self.slow_s = slow_s
        self._rules = load_rules(RULES)

    def attach(self, adapter: Adapter) -> None:
        self.adapters.append(adapter)

    def dispatch(self, event: Event) -> None:
        self.started.append(event.event_id)
        time.sleep(self.slow_s)
        self.finished.append(event.event_id)

    def form_for(self, press: ButtonPress) -> Form | None:
        return None

    def tick(self) -> int:
        return 0

    def home_for(self, user: UserRef, *, typed: bool = False) -> Home:
        return Home("home", ())

    def review_posts(self, platform: str, *, pending_only: bool = False) -> list[MessageRef]:
        return []

    def review_post_ids(self, platform: str) -> list[str]:
        return []

    def reviewers_channel(self, platform: str) -> str | None:
        return None

    @property
    def rules(self) -> Rules:
        return self._rules


def serve(host: FakeHost, env: dict[str, str], stopper: Stopper | None = None) -> int:
    return PLATFORM.serve(host, Environment(env), ServeOptions(), stopper or Stopper())


def test_delivery_errors_say_whether_retrying_helps() -> None:
    class Response:
        status, reason = 403, "Forbidden"

    closed = discord.Forbidden(Response(), {"code": 50007, "message": "Cannot send messages to this user"})
    error = delivery_error(closed, "sending a message")
    assert error.permanent and "Cannot send messages to this user" in str(error)
    Response.status, Response.reason = 503, "Service Unavailable"
    busy = discord.DiscordServerError(Response(), "upstream")
    assert not delivery_error(busy, "sending a message").permanent


def test_serve_without_a_token_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(FakeHost(), {}) == 1
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


def test_serve_refuses_a_malformed_token_before_connecting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same token checker as doctor's: a `Bot ` prefix is named, and Discord is never asked."""

    async def never(self: discord.Client, token: str, *, reconnect: bool = True) -> None:
        raise AssertionError("connected with a malformed token")

    monkeypatch.setattr(AccessClient, "start", never)
    assert serve(FakeHost(), {"DISCORD_TOKEN": "Bot " + GOOD_TOKEN}) == 1
    err = capsys.readouterr().err
    assert "starts with `Bot `" in err and "Reset Token" in err
    assert GOOD_TOKEN not in err, "a token must never be printed"


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (discord.LoginFailure("Improper token has been passed."), "Reset Token"),
        (discord.PrivilegedIntentsRequired(None), "4014"),
        (OSError("Name or service not known"), "could not connect to Discord"),
    ],
)
def test_serve_explains_login_intent_and_network_failures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error: Exception, hint: str
) -> None:
    async def refuse(self: discord.Client, token: str, *, reconnect: bool = True) -> None:
        raise error

    monkeypatch.setattr(AccessClient, "start", refuse)
    assert serve(FakeHost(), {"DISCORD_TOKEN": GOOD_TOKEN}) == 1
    assert hint in capsys.readouterr().err


def _connected_until_closed(started: threading.Event) -> Any:
    """A stand-in for Client.start: 'connected' (one slow DM in hand) until close() is called."""

    async def start(self: AccessClient, token: str, *, reconnect: bool = True) -> None:
        user = UserRef("discord", "200000000000000001", "Alice")
        pending = asyncio.create_task(self.dispatch_event(DirectMessage(event_id="m1", user=user, text="hi")))
        await asyncio.sleep(0.05)  # the worker has the event
        started.set()
        while not self.is_closed():
            await asyncio.sleep(0.01)
        await pending

    return start


def test_stop_request_drains_current_events_closes_and_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    monkeypatch.setattr(AccessClient, "start", _connected_until_closed(started))
    host, stopper = FakeHost(slow_s=0.5), Stopper()
    result: list[int] = []
    runner = threading.Thread(
        target=lambda: result.append(serve(host, {"DISCORD_TOKEN": GOOD_TOKEN}, stopper)), daemon=True
    )
    runner.start()
    assert started.wait(5)
    assert host.started == ["m1"] and host.finished == []  # the event is being handled...
    stopper.request()  # ...when SIGTERM arrives (from another thread than the loop's)
    runner.join(10)
    assert not runner.is_alive() and result == [0]
    assert host.finished == ["m1"], "the event in hand was finished before disconnecting"
    adapter = host.adapters[0]
    assert isinstance(adapter.client, AccessClient) and adapter.client.is_closed()  # type: ignore[attr-defined]


def test_stop_requested_before_serving_returns_0_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    monkeypatch.setattr(AccessClient, "start", _connected_until_closed(started))
    stopper = Stopper()
    stopper.request()
    began = time.monotonic()
    assert serve(FakeHost(), {"DISCORD_TOKEN": GOOD_TOKEN}, stopper) == 0
    assert time.monotonic() - began < 5
    stopper.request()  # a second request after serve returned (the loop is gone) is harmless


def test_reaction_stamps_never_repeat_even_when_the_clock_stands_still() -> None:
    stamps = EventStamps(clock_ns=lambda: 1_000)
    assert [stamps.next() for _ in range(3)] == [1_000, 1_001, 1_002]
    later = EventStamps(clock_ns=lambda: 5_000)  # after a restart the wall clock has moved on
    assert later.next() == 5_000


def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(60))
    chunks = split_text(text)
    assert all(len(c) <= 2000 for c in chunks) and len(chunks) > 1
    assert "\n".join(chunks) == text
