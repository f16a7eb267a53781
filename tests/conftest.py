"""Shared fixtures: a real Application on a temporary data folder, a settable clock, and no network.

Any attempt to reach beyond loopback fails the test: the suite must never touch the internet.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import assemble
from bot.application import Application
from bot.documents import Validator
from bot.rules_loader import RulesHolder
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules.yaml"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (
        host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
    ):
        return _real_connect(self, address)
    raise RuntimeError(f"test tried to reach the network: {address!r}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


class Clock:
    """A clock tests move by hand: reminders and expiry checks become deterministic."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def validator() -> Iterator[Validator]:
    """One pre-started PDF worker for the whole session, as in production."""
    with Validator(timeout_s=5.0) as v:
        yield v


class _SharedValidator:
    """Lets many short-lived Bots share the session's validator without closing it."""

    def __init__(self, inner: Validator) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        pass


def make_bot(data_dir: Path, validator: Validator, clock: Clock, rules_path: Path = RULES) -> Application:
    return assemble(
        rules=RulesHolder(rules_path),
        store=Store(data_dir, clock=clock),
        validator=_SharedValidator(validator),  # type: ignore[arg-type]
        clock=clock,
    )


@pytest.fixture
def bot(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[Application]:
    b = make_bot(tmp_path / "data", validator, clock)
    yield b
    b.close()
