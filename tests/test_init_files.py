"""The files `accessbot init` writes: .env edited in place (0600), rules.yaml with its comments kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.rules_loader import parse_rules
from bot.settings import SettingsError, parse_value, read_env_file
from bot.setup.files import LabRules, env_text, rules_text, write_env

ROOT = Path(__file__).resolve().parent.parent
LAB = LabRules("slack", "G0LABREVIEW", ("slack:U0RITA01",), ("slack:U0ADA001",), "https://f.lab.org/x", "Ada")


def test_env_text_sets_in_place_appends_and_comments_out() -> None:
    text = env_text(
        "# mine\nexport SLACK_BOT_TOKEN=old\nSLACK_BOT_TOKEN=dup\nSLACK_APP_TOKEN=a\n",
        {"SLACK_BOT_TOKEN": "new", "DISCORD_TOKEN": "d"},
        ["SLACK_APP_TOKEN"],
    )
    assert text == (
        "# mine\nSLACK_BOT_TOKEN=new\n# SLACK_APP_TOKEN=a   (not needed: commented out by accessbot init)\n"
        "\nDISCORD_TOKEN=d\n"
    )


def test_write_env_is_0600_even_over_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    path.chmod(0o644)
    write_env(path, {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == {"A": "1", "SLACK_BOT_TOKEN": "xoxb-1"}
    with pytest.raises(ValueError, match="line break"):
        write_env(path, {"SLACK_BOT_TOKEN": "a\nb"})


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain", "plain"),
        ("plain # comment", "plain"),
        ("a#b", "a#b"),
        ("'single # kept $HOME'", "single # kept $HOME"),
        ('"double \\" \\\\ \\$x"  # c', 'double " \\ $x'),
        ("", ""),
    ],
)
def test_values_are_read_as_a_shell_would(raw: str, value: str) -> None:
    assert parse_value(raw) == value


def test_env_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nB='open\n")
    with pytest.raises(SettingsError, match=r"\.env:2: B: the single quote is not closed"):
        read_env_file(path)


def test_rules_text_keeps_comments_and_other_platforms() -> None:
    shipped = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    text = rules_text(shipped, LAB)
    rules = parse_rules(text)
    assert rules.reviewers.channel == {
        "console": "reviewers",
        "slack": "G0LABREVIEW",
        "discord": "100000000000000001",
    }
    assert "slack:U0RITA01" in rules.reviewers.users and "console:reviewer" in rules.reviewers.users
    assert rules.program.contact == "Ada" and "https://f.lab.org/x" in text
    kept = [line for line in shipped.splitlines() if line.lstrip().startswith("#")]
    assert kept == [line for line in text.splitlines() if line.lstrip().startswith("#")]
    again = rules_text(text, LabRules("slack", "G0OTHER01", ("slack:U0RAVI01",), ("slack:U0ADA001",)))
    assert "slack:U0RITA01" not in again and parse_rules(again).reviewers.channel["slack"] == "G0OTHER01"


def test_rules_in_block_style_are_rewritten_whole_and_still_valid() -> None:
    shipped = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    block = shipped.replace('admins: ["console:admin"]', "admins:\n  - console:admin")
    text = rules_text(block, LAB)
    assert text.startswith("# accessbot rules (rewritten by accessbot init")
    assert parse_rules(text).admins == ("console:admin", "slack:U0ADA001")
