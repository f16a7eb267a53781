"""`accessbot init` for Discord, against a fake Discord REST server on 127.0.0.1."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.discord.setup import PERMISSIONS_VALUE
from bot.rules_loader import load_rules
from bot.settings import read_env_file
from bot.setup.wizard import InitOptions, init
from tests.fake_discord_rest import BOT_ID, OWNER_ID, TOKEN, FakeDiscordREST, member

GUILD = "700000000000000001"
PRIVATE, PUBLIC = "300000000000000001", "300000000000000002"
RITA, RAVI = "200000000000000002", "200000000000000003"
VIEW = 1 << 10


@pytest.fixture
def api() -> Iterator[FakeDiscordREST]:
    with FakeDiscordREST() as fake:
        fake.guilds[GUILD] = {
            "name": "Lab",
            "owner_id": OWNER_ID,
            "channels": [
                {"id": PUBLIC, "name": "general", "type": 0, "position": 0, "permission_overwrites": []},
                {"id": "300000000000000009", "name": "Voice", "type": 2, "position": 1},
                {
                    "id": PRIVATE,
                    "name": "mimic-review",
                    "type": 0,
                    "position": 2,
                    "permission_overwrites": [{"id": GUILD, "type": 0, "allow": "0", "deny": str(VIEW)}],
                },
            ],
            "members": [
                member(OWNER_ID, "ada", "Ada Admin"),
                member(RITA, "rita", "Rita Reviewer"),
                member(RAVI, "ravi", "Ravi Reviewer", nick="Dr. Ravi"),
                member("200000000000000004", "rita2", "Rita Other"),
            ],
        }
        yield fake


def run_init(folder: Path, api: FakeDiscordREST, stdin: str = "", **answers: str) -> tuple[int, str, str]:
    yes = answers.pop("yes", "") == "1"
    out, err = io.StringIO(), io.StringIO()
    options = InitOptions(
        folder=folder, platform="discord", yes=yes, answers=answers, api_urls={"discord": api.api_url}
    )
    return init(options, io.StringIO(stdin), out, err, environ={}), out.getvalue(), err.getvalue()


def test_scripted_discord_init_finds_server_channel_and_people(tmp_path: Path, api: FakeDiscordREST) -> None:
    code, out, err = run_init(
        tmp_path, api, yes="1", discord_token=TOKEN, channel="mimic-review", reviewers="rita, Dr. Ravi"
    )
    assert code == 0, out + err
    assert f"client_id={BOT_ID}&scope=bot+applications.commands&permissions={PERMISSIONS_VALUE}" in out
    assert "✓ the bot accessbot" in out and "all good" in out
    assert read_env_file(tmp_path / ".env") == {"DISCORD_TOKEN": TOKEN, "DISCORD_GUILD_ID": GUILD}
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    rules = load_rules(tmp_path / "rules.yaml")
    assert rules.reviewers.channel["discord"] == PRIVATE
    assert [u for u in rules.reviewers.users if u.startswith("discord:")] == [
        f"discord:{RITA}",
        f"discord:{RAVI}",
    ]
    assert [a for a in rules.admins if a.startswith("discord:")] == [f"discord:{OWNER_ID}"]  # the app's owner


def test_interactive_discord_init_defaults_to_the_private_channel_and_the_owner(
    tmp_path: Path, api: FakeDiscordREST
) -> None:
    typed = "\n".join(["Bot abc", TOKEN, "", "", "rit", "rita", "", "", ""]) + "\n"
    code, out, err = run_init(tmp_path, api, stdin=typed)
    assert code == 0, out + err
    assert "remove the `Bot ` prefix" in out  # a token pasted with its prefix is explained, asked again
    assert "1. #mimic-review (private)" in out and "2. #general (public)" in out
    assert "rit could be @rita (Rita Reviewer), @rita2 (Rita Other)" in out
    assert TOKEN not in out
    rules = load_rules(tmp_path / "rules.yaml")
    assert rules.reviewers.channel["discord"] == PRIVATE and f"discord:{RITA}" in rules.reviewers.users


def test_without_member_search_ids_still_work_and_the_reason_is_said(
    tmp_path: Path, api: FakeDiscordREST
) -> None:
    api.search_forbidden = True
    code, out, err = run_init(tmp_path, api, yes="1", discord_token=TOKEN, reviewers="rita")
    assert code == 1 and "cannot search the server's members" in err and "Copy User ID" in err
    code, out, err = run_init(tmp_path, api, yes="1", discord_token=TOKEN, reviewers=f"<@{RITA}>")
    assert code == 0, out + err


def test_a_refused_discord_token_is_said_without_echoing_it(tmp_path: Path, api: FakeDiscordREST) -> None:
    wrong = TOKEN[:-4] + "zzzz"
    code, _out, err = run_init(tmp_path, api, yes="1", discord_token=wrong)
    assert code == 1 and "401" in err and wrong not in err
    assert not (tmp_path / ".env").exists()
