"""`accessbot admin` beside a live bot: reads touch nothing, changes go to the bot or are refused."""

from __future__ import annotations

import fcntl
import io
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import control
from bot.admin_cli import READ_ONLY, admin_command
from bot.models import Review
from bot.rules_loader import load_rules
from bot.settings import Settings
from bot.store import Store
from tests.conftest import RULES

RUNS = 120


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, rules_path=RULES)


def _cli(data: Path, action: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = admin_command(_settings(data), action, list(args), out, err)
    return code, out.getvalue(), err.getvalue()


class Spy:
    """Records every call that could change the folder, made from the thread under watch."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, thread: threading.Thread) -> None:
        self.calls: list[str] = []
        self.thread = thread
        for module, name in (
            (os, "replace"),
            (os, "rename"),
            (os, "unlink"),
            (os, "remove"),
            (os, "chmod"),
            (os, "mkdir"),
            (os, "truncate"),
            (fcntl, "flock"),
        ):
            monkeypatch.setattr(module, name, self._watch(name, getattr(module, name)))
        real_open = os.open

        def watched_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if threading.current_thread() is self.thread and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                self.calls.append(f"os.open({path}, write)")
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", watched_open)

    def _watch(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is self.thread:
                self.calls.append(f"{name}{args[:1]}")
            return real(*args, **kwargs)

        return watched


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as store:
        for key in ("console:alice", "console:bob"):
            store.ensure(key, lang="en")
        store.create_review(
            Review(
                id="r1",
                applicant="console:alice",
                state="pending",
                created="2026-01-01T00:00:00+00:00",
                platform="console",
            )
        )
        yield store


def test_read_only_commands_beside_a_writing_bot_touch_nothing(
    live: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[BaseException] = []
    writes = 0
    stop = threading.Event()

    def bot() -> None:
        nonlocal writes
        n = 0
        while not stop.is_set():
            n += 1
            try:
                live.update("console:bob", lambda a: a.reminders_sent.append("x"))
                live.first_time(f"event-{n}")
                live.audit("console:bob", "tick")
                writes += 3
            except BaseException as exc:  # every failure counts, whatever it is
                failures.append(exc)

    rules = load_rules(RULES)  # parsed once: the rules file is not what this test is about
    monkeypatch.setattr("bot.admin_cli.load_rules", lambda path: rules)
    spy = Spy(monkeypatch, threading.current_thread())
    writer = threading.Thread(target=bot)
    writer.start()
    try:
        commands = [("pending",), ("show", "console:alice"), ("export",), ("stats",), ("audit",)]
        assert {c[0] for c in commands} == set(READ_ONLY)
        for i in range(RUNS):
            code, _out, err = _cli(live.dir, *commands[i % len(commands)])
            assert code == 0, err
    finally:
        stop.set()
        writer.join()
    assert failures == [], failures[:3]
    assert writes > 0
    assert spy.calls == [], spy.calls[:5]
    assert live.get("console:bob") is not None


def test_a_change_goes_to_the_live_bot_over_its_control_socket(live: Store) -> None:
    rules = load_rules(RULES)
    with control.ControlServer(live.dir, control.admin_handler(live, lambda: rules)) as server:
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
        code, out, err = _cli(live.dir, "forget", "console:alice")
        assert code == 0, err
        assert out.startswith("forgot console:alice") and "1 review round(s) removed" in out
        assert live.get("console:alice") is None and live.review("r1") is None
        code, _out, err = _cli(live.dir, "forget", "console:nobody")
        assert code == 1 and "no applicant console:nobody" in err
        code, out, err = _cli(live.dir, "reset", "console:bob", "lab_form")
        assert code == 0 and "lab_form reopened" in out, err
        code, _out, err = _cli(live.dir, "reset", "console:bob", "no_such_step")
        assert "no step 'no_such_step'" in out + _out + err
    assert not server.path.exists()
    actions = [e["action"] for e in live.audit_entries()]
    assert "admin.forget" in actions and "admin.reset" in actions


def test_a_change_is_refused_when_the_live_bot_takes_no_commands(live: Store) -> None:
    before = {p.name: p.read_bytes() for p in live.dir.iterdir() if p.is_file()}
    code, _out, err = _cli(live.dir, "forget", "console:alice")
    assert code == 1
    assert "already using" in err and "Nothing was changed" in err and "DM" in err
    assert live.get("console:alice") is not None
    assert {p.name: p.read_bytes() for p in live.dir.iterdir() if p.is_file()} == before


def test_the_control_socket_answers_bad_requests_without_dying(live: Store) -> None:
    import socket

    def boom(command: str, args: list[str]) -> str:
        raise RuntimeError("disk on fire")

    with control.ControlServer(live.dir, boom) as server:
        with pytest.raises(control.CommandFailed, match="forget failed: disk on fire"):
            control.send(live.dir, "forget", ["console:alice"])
        with pytest.raises(control.CommandFailed, match="unknown command"):
            control.send(live.dir, "approve", ["console:alice"])
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(server.path))
            raw.sendall(b"not json\n")
            assert b'"ok":false' in raw.recv(4096)
        with pytest.raises(control.CommandFailed):  # still serving
            control.send(live.dir, "forget", ["x"])


def test_no_socket_means_no_live_bot_to_ask(tmp_path: Path) -> None:
    assert control.send(tmp_path, "forget", ["x"]) is None
    (tmp_path / control.SOCKET_NAME).write_bytes(b"")  # left by a bot that is gone
    assert control.send(tmp_path, "forget", ["x"]) is None
