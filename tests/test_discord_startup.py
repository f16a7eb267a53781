"""The Discord adapter's start-up and pure helpers: exit codes, error mapping, message splitting."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.adapters import discord as discord_adapter
from bot.documents import Validator
from bot.settings import Settings
from tests.conftest import Clock, make_bot
from tests.discord_harness import write_rules


def test_delivery_errors_say_whether_retrying_helps() -> None:
    class Response:
        status, reason = 403, "Forbidden"

    closed = discord.Forbidden(Response(), {"code": 50007, "message": "Cannot send messages to this user"})
    error = discord_adapter.delivery_error(closed, "sending a message")
    assert error.permanent and "Cannot send messages to this user" in str(error)
    Response.status, Response.reason = 503, "Service Unavailable"
    busy = discord.DiscordServerError(Response(), "upstream")
    assert not discord_adapter.delivery_error(busy, "sending a message").permanent


def test_run_without_a_token_says_what_to_set(
    tmp_path: Path, validator: Validator, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot(tmp_path / "data", validator, clock, write_rules(tmp_path))
    try:
        assert discord_adapter.run(bot, Settings(), http=False, port=3000) == 1
    finally:
        bot.close()
    assert "DISCORD_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (discord.LoginFailure("Improper token has been passed."), "Reset Token"),
        (discord.PrivilegedIntentsRequired(None), "4014"),
    ],
)
def test_run_explains_login_and_intent_failures(
    tmp_path: Path,
    validator: Validator,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    hint: str,
) -> None:
    async def refuse(self: discord.Client, token: str, *, reconnect: bool = True) -> None:
        raise error

    monkeypatch.setattr(discord_adapter.AccessClient, "start", refuse)
    bot = make_bot(tmp_path / "data", validator, clock, write_rules(tmp_path))
    try:
        assert discord_adapter.run(bot, Settings(discord_token="x.y.z")) == 1
    finally:
        bot.close()
    assert hint in capsys.readouterr().err


def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(60))
    chunks = discord_adapter.split_text(text)
    assert all(len(c) <= 2000 for c in chunks) and len(chunks) > 1
    assert "\n".join(chunks) == text


def test_invite_link_asks_for_exactly_the_documented_permissions() -> None:
    assert discord_adapter.PERMISSIONS.value == 277025475648
    url = discord_adapter.invite_url(123)
    assert "scope=bot+applications.commands" in url and "permissions=277025475648" in url
    docs = (Path(__file__).resolve().parent.parent / "docs" / "discord.md").read_text(encoding="utf-8")
    assert "permissions=277025475648" in docs
