"""The Discord platform's descriptor: settings, offline checks (doctor and run), the invite link."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot import adapters
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.setup import PERMISSIONS, PERMISSIONS_VALUE, ROLE_PERMISSIONS, invite_url
from bot.doctor import doctor
from bot.platform import Check, Environment, ServeOptions
from bot.rules_loader import load_rules
from bot.settings import Settings
from tests.discord_harness import write_rules

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bot" / "adapters" / "discord"
GOOD_TOKEN = "M" + "T" * 25 + ".GabCdE." + "x" * 30


def lab_rules(folder: Path) -> Path:
    """The harness's Discord rules, with a channel id that is not the shipped example."""
    path = write_rules(folder)
    text = path.read_text(encoding="utf-8").replace("'100000000000000001'", "'123456789012345678'")
    path.write_text(text, encoding="utf-8")
    return path


def checks(tmp_path: Path | None = None, **env: str) -> list[Check]:
    rules = load_rules(lab_rules(tmp_path)) if tmp_path is not None else None
    return PLATFORM.checks(Environment(env), rules, ServeOptions(rules_path=Path("rules.yaml")))


def by_what(found: list[Check], start: str) -> Check:
    return next(c for c in found if c.what.startswith(start))


def test_the_package_imports_no_discord_py_until_it_serves() -> None:
    code = "import sys, bot.adapters.discord as d; d.PLATFORM.checks; print('discord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_registered_descriptor_declares_its_variables() -> None:
    assert adapters.REGISTRY["discord"] == "bot.adapters.discord"
    assert PLATFORM.name == "discord"
    assert [s.env for s in PLATFORM.settings] == ["DISCORD_TOKEN", "DISCORD_GUILD_ID"]
    assert [s.secret for s in PLATFORM.settings] == [True, False]


def test_configured_needs_the_token_and_partly_configured_any_discord_variable() -> None:
    assert PLATFORM.configured(Environment({"DISCORD_TOKEN": GOOD_TOKEN}))
    assert not PLATFORM.configured(Environment({"DISCORD_GUILD_ID": "700000000000000001"}))
    assert not PLATFORM.configured(Environment({"DISCORD_TOKEN": "  "}))
    assert PLATFORM.partly_configured(Environment({"DISCORD_GUILD_ID": "700000000000000001"}))
    assert not PLATFORM.partly_configured(Environment({"SLACK_BOT_TOKEN": "xoxb-1", "DISCORD_TOKEN": ""}))


@pytest.mark.parametrize(
    ("token", "what", "fix"),
    [
        ("", "DISCORD_TOKEN is not set", "Reset Token"),
        (f'"{GOOD_TOKEN}"', "DISCORD_TOKEN is wrapped in quotes", "remove the quotes"),
        (
            f"Bot {GOOD_TOKEN}",
            "DISCORD_TOKEN is malformed: it starts with `Bot `",
            "remove the `Bot ` prefix",
        ),
        ("abc.def", "DISCORD_TOKEN is malformed: not three dot-separated parts", "Reset Token"),
    ],
)
def test_token_shape_is_checked_and_the_fix_named(token: str, what: str, fix: str) -> None:
    check = by_what(checks(DISCORD_TOKEN=token), "DISCORD_TOKEN")
    assert check.status == "fail" and check.what == what and fix in check.fix
    assert not token or token.strip('"').removeprefix("Bot ") not in check.what + check.fix


def test_a_well_formed_token_and_guild_pass() -> None:
    found = checks(DISCORD_TOKEN=GOOD_TOKEN, DISCORD_GUILD_ID="700000000000000001")
    assert by_what(found, "DISCORD_TOKEN").status == "ok"
    assert by_what(found, "DISCORD_GUILD_ID").status == "ok"


def test_guild_id_must_be_a_snowflake_and_unset_is_a_warning() -> None:
    wrong = by_what(checks(DISCORD_TOKEN=GOOD_TOKEN, DISCORD_GUILD_ID="lab-server"), "DISCORD_GUILD_ID")
    assert wrong.status == "fail" and "Copy Server ID" in wrong.fix
    unset = by_what(checks(DISCORD_TOKEN=GOOD_TOKEN), "DISCORD_GUILD_ID")
    assert unset.status == "warn" and "globally" in unset.what


def test_people_checks_use_discord_ids(tmp_path: Path) -> None:
    found = checks(tmp_path, DISCORD_TOKEN=GOOD_TOKEN)
    assert (
        by_what(found, "reviewers channel for discord").what
        == "reviewers channel for discord: 123456789012345678"
    )
    assert by_what(found, "1 reviewer(s) on discord").status == "ok"
    assert by_what(found, "1 admin(s) on discord").status == "ok"
    shipped = PLATFORM.checks(Environment({}), load_rules(ROOT / "rules.yaml"), ServeOptions())
    example = by_what(shipped, "reviewers channel for discord")
    assert example.status == "fail" and "example from rules.yaml" in example.what
    assert "Copy Channel ID" in example.fix


def test_doctor_prints_the_discord_checks_with_their_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through doctor (the other platforms left out of the registry while they are reworked)."""
    monkeypatch.setattr(adapters, "REGISTRY", {"discord": "bot.adapters.discord"})
    settings = Settings.from_env(
        {
            "ACCESSBOT_DATA_DIR": str(tmp_path / "data"),
            "ACCESSBOT_RULES": str(ROOT / "rules.yaml"),
            "DISCORD_TOKEN": "Bot abc",
            "DISCORD_GUILD_ID": "lab-server",
        }
    )
    out = io.StringIO()
    assert doctor(settings, out) == 1
    report = out.getvalue()
    assert "platform chosen by `accessbot run`: discord" in report
    assert "✗ DISCORD_TOKEN is malformed: it starts with `Bot `" in report
    assert "✗ DISCORD_GUILD_ID is 'lab-server', not a server id" in report
    assert "✗ reviewers channel for discord: 100000000000000001 is the example from rules.yaml" in report


# -- permissions: exactly what the code's calls need ------------------------------------------------

# What each kind of call in the package needs in a server channel (discord.Permissions flag names).
NEEDS: dict[str, set[str]] = {
    r"\.send\(": {"view_channel", "send_messages"},
    r"\bembed=": {"embed_links"},
    r"\bfiles=": {"attach_files"},
    r"\.add_reaction\(": {"add_reactions", "read_message_history"},
    r"MessageReference\(": {"read_message_history"},  # a reply to the review post
    r"discord\.Thread\b": {"send_messages_in_threads"},
    r"\.edit\(": {"view_channel"},  # the bot edits only its own posts: nothing more
    r"app_commands\.command\(": {"use_application_commands"},
    r"\.create_thread\(": {"create_public_threads"},
    r"\.pin\(|\.clear_reactions\(|\.remove_reaction\(": {"manage_messages"},
    r"\.history\(|\.fetch_message\(": {"read_message_history"},
    r"\.create_invite\(": {"create_instant_invite"},
    r"\.add_role\(|\.remove_role\(|\.add_roles\(|\.remove_roles\(": {"manage_roles"},  # discord_role only
}


def _package_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.glob("*.py")))


def test_invite_permissions_cover_every_call_the_code_makes() -> None:
    source = _package_source()
    used = {pattern for pattern in NEEDS if re.search(pattern, source)}
    # Not vacuous: the calls the bot is known to make are found.
    for known in (r"\.send\(", r"\bfiles=", r"\.add_reaction\(", r"\.edit\(", r"discord\.Thread\b"):
        assert known in used, f"no {known} in the package: update NEEDS"
    needed = set().union(*(NEEDS[p] for p in used))
    asked = set(PERMISSIONS) | set(ROLE_PERMISSIONS)  # the second only when rules.yaml grants roles
    assert r"\.add_role\(|\.remove_role\(|\.add_roles\(|\.remove_roles\(" in used
    missing = needed - asked
    assert not missing, f"the code needs {sorted(missing)}, which the invite link does not ask for"
    unused = asked - needed
    assert not unused, f"the invite link asks for {sorted(unused)}, which no call needs"
    assert "attach_files" in PERMISSIONS  # the approval proof goes into the reviewers channel


def test_permission_bits_are_discord_py_s_and_the_documented_link_matches() -> None:
    for name, bit in {**PERMISSIONS, **ROLE_PERMISSIONS}.items():
        assert getattr(discord.Permissions, name).flag == bit, name
    expected = discord.Permissions(**dict.fromkeys(PERMISSIONS, True))
    assert expected.value == PERMISSIONS_VALUE == 277025508416
    url = invite_url(123)
    assert url == discord.utils.oauth_url(123, permissions=expected, scopes=("bot", "applications.commands"))
    assert "scope=bot+applications.commands" in url and f"permissions={PERMISSIONS_VALUE}" in url
    docs = (ROOT / "docs" / "discord.md").read_text(encoding="utf-8")
    assert f"permissions={PERMISSIONS_VALUE}" in docs
    documented = sum(int(v) for v in re.findall(r"^\|[^|]+\|[^|]+\| (\d+) \|", docs, flags=re.MULTILINE))
    assert documented == PERMISSIONS_VALUE, "docs/discord.md's permission table must add up to the link"
