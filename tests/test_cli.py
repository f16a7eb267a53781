"""The accessbot command as a person runs it: pipes, exit codes, SIGTERM, clear start-up errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(ACCESSBOT_DATA_DIR=str(tmp_path / "data"), ACCESSBOT_RULES=str(ROOT / "rules.yaml"))
    env.update(extra)
    return env


def _accessbot(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=ROOT,
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
        cwd=ROOT,
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
