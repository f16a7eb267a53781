"""The accessbot command as a person runs it: pipes, exit codes, SIGTERM, clear start-up errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(ACCESSBOT_DATA_DIR=str(tmp_path / "data"), ACCESSBOT_RULES=str(ROOT / "rules.yaml"))
    env.update(extra)
    return env


def _accessbot(
    tmp_path: Path, *args: str, stdin: str = "", cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """In tmp_path by default, so a developer's own .env in the project never leaks into a test."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=cwd or tmp_path,
        timeout=60,
    )


def test_piped_console_answers_in_english_and_korean(tmp_path: Path) -> None:
    done = _accessbot(tmp_path, "console", stdin="what step am I on?\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("[DM → alice]") for line in lines)
    assert "👉 1. Create a PhysioNet account" in done.stdout
    korean = _accessbot(tmp_path, "run", "console", "--as", "minji", stdin="지금 몇 단계야?\n")
    assert "[DM → minji]" in korean.stdout and "PhysioNet 계정 만들기" in korean.stdout


def test_run_picks_console_without_tokens_and_refuses_a_broken_rules_file(tmp_path: Path) -> None:
    assert _accessbot(tmp_path, "run", stdin="help\n").returncode == 0
    broken = tmp_path / "rules.yaml"
    broken.write_text("version: 1\nsteps: []\n", encoding="utf-8")
    done = _accessbot(tmp_path, "run", "console", ACCESSBOT_RULES=str(broken))
    assert done.returncode == 1
    assert "cannot start" in done.stderr and "rules.yaml" in done.stderr and "Traceback" not in done.stderr


def test_damaged_database_stops_the_bot_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "reviews.json").write_text("{oops")
    done = _accessbot(tmp_path, "console", stdin="hi\n")
    assert done.returncode == 1 and "reviews.json is damaged" in done.stderr
    assert (tmp_path / "data" / "reviews.json").read_text() == "{oops"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _accessbot(tmp_path, "frobnicate").returncode == 2
    assert _accessbot(tmp_path).returncode == 2
    version = _accessbot(tmp_path, "--version")
    assert version.returncode == 0 and "accessbot 0.1.0" in version.stdout


def test_sigterm_closes_cleanly_with_exit_0(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("jdoe\nyes\n")  # the username, confirmed
    proc.stdin.flush()
    for line in iter(proc.stdout.readline, ""):
        if line.startswith("[DM → alice] ✅"):
            break
    else:
        raise AssertionError("the username was never recorded")
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    again = _accessbot(tmp_path, "console", stdin="status\n")  # the store was closed: it opens again
    assert "✅ 1. Create a PhysioNet account" in again.stdout


def test_malformed_setting_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    done = _accessbot(tmp_path, "console", ACCESSBOT_PDF_TIMEOUT_S="soon")
    assert done.returncode == 2
    assert "ACCESSBOT_PDF_TIMEOUT_S" in done.stderr and "Traceback" not in done.stderr


# -- a set-up that tells the truth (issue 17): each of these was silent before ------------------------

BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SLACK_BOT_TOKEN": BOT}, "SLACK_APP_TOKEN is not set"),
        ({"SLACK_APP_TOKEN": APP}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN is not set"),
        ({"DISCORD_GUILD_ID": "700000000000000001"}, "DISCORD_TOKEN is not set"),
    ],
)
def test_half_set_credentials_stop_run_instead_of_a_silent_console(
    tmp_path: Path, env: dict[str, str], missing: str
) -> None:
    """Before: exit 0 and no output without a terminal (a silent restart loop under Docker)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "will not start the console" in done.stderr and missing in done.stderr
    assert "accessbot init" in done.stderr and done.stdout == ""


def test_piped_console_refuses_when_tokens_are_partly_set(tmp_path: Path) -> None:
    done = _accessbot(tmp_path, "console", stdin="status\n", SLACK_BOT_TOKEN=BOT)
    assert done.returncode == 1 and "SLACK_APP_TOKEN is not set" in done.stderr


def test_a_console_without_credentials_or_terminal_says_what_it_is_doing(tmp_path: Path) -> None:
    done = _accessbot(tmp_path, "run")
    assert done.returncode == 0
    assert "no Slack or Discord credentials are set" in done.stderr and "accessbot init" in done.stderr


def test_a_signing_secret_without_http_mode_names_the_flag(tmp_path: Path) -> None:
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace("slack: C0REVIEWERS", "slack: G0LABREVIEW").replace(
        'admins: ["console:admin"]', 'admins: ["slack:U0ADMIN1"]'
    )
    text = text.replace('users: ["console:reviewer", "console:reviewer2"]', 'users: ["slack:U0REVIEW1"]')
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    rules = str(tmp_path / "rules.yaml")
    done = _accessbot(
        tmp_path, "run", SLACK_BOT_TOKEN=BOT, SLACK_SIGNING_SECRET=SECRET, ACCESSBOT_RULES=rules
    )
    assert done.returncode == 1
    assert "accessbot run slack --http" in done.stderr and "SLACK_APP_TOKEN" in done.stderr


def test_the_bot_reads_dotenv_itself_and_the_environment_wins(tmp_path: Path) -> None:
    """Before: a .env made from .env.example (no `export`) left the platform on the console."""
    (tmp_path / ".env").write_text(
        f"# made from .env.example\nSLACK_BOT_TOKEN='{BOT}'\nSLACK_APP_TOKEN={APP}  # socket mode\n"
        "ACCESSBOT_LOG_LEVEL=DEBUG\n"
    )
    (tmp_path / ".env").chmod(0o600)
    done = _accessbot(tmp_path, "doctor", ACCESSBOT_LOG_LEVEL="WARNING")
    assert "platform chosen by `accessbot run`: slack" in done.stdout, done.stdout
    assert (
        "✓ SLACK_BOT_TOKEN is well-formed" in done.stdout
        and "✓ SLACK_APP_TOKEN is well-formed" in done.stdout
    )
    assert f"settings from {tmp_path / '.env'}: SLACK_APP_TOKEN, SLACK_BOT_TOKEN" in done.stdout
    assert (
        "settings from the environment: ACCESSBOT_DATA_DIR, ACCESSBOT_LOG_LEVEL, ACCESSBOT_RULES"
        in done.stdout
    )


def test_a_dotenv_line_accessbot_cannot_read_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=ok\nthis is not a setting\n")
    done = _accessbot(tmp_path, "doctor")
    assert done.returncode == 2 and ".env:2: not a KEY=value line" in done.stderr


def test_a_person_at_a_terminal_may_start_the_console_on_purpose_and_is_warned() -> None:
    import io

    from bot.runtime import refusal
    from bot.settings import Settings

    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT})
    err = io.StringIO()
    assert not refusal(settings, "console", named=True, interactive=True, err=err)
    assert err.getvalue().startswith("warning: the credentials of slack are only partly set")
    assert refusal(settings, "console", named=False, interactive=True, err=io.StringIO())  # `run`: refused
    assert not refusal(settings, "slack", named=False, interactive=False, err=io.StringIO())  # its own checks
