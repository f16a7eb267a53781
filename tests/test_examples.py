"""The README tour works as typed, and the journey example runs on a fresh data folder of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.application import Application
from bot.documents import Validator
from tests.conftest import Clock, make_bot
from tests.journey import Driver

ROOT = Path(__file__).resolve().parent.parent


def tour_lines() -> list[str]:
    """What the README's tour has the reader type (`alice> ...`), without the explanations."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A short tour", 1)[1].split("```", 2)[1]
    lines = []
    for line in tour.splitlines():
        typed = re.match(r"^[a-z]+> (.*?)(?:\s{2,}\(.*\))?$", line)
        if typed:
            lines.append(typed.group(1).strip())
    return lines


@pytest.fixture
def today_bot(tmp_path: Path, validator: Validator) -> Iterator[Application]:
    """The example documents are dated near the real today: the tour runs on today's clock."""
    bot = make_bot(tmp_path / "data", validator, Clock(datetime.now(UTC)))
    yield bot
    bot.close()


def test_the_readme_tour_works_as_typed(today_bot: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = today_bot
    monkeypatch.chdir(ROOT)
    lines = tour_lines()
    assert "/upload examples/citi_report_alice.pdf" in lines and "I applied" in lines
    for line in lines:
        if line.startswith("/upload "):
            assert (ROOT / line.split(" ", 1)[1]).is_file(), line
    driver = Driver(bot)
    for line in lines:
        driver.say(line)
    assert driver.session.errors == [] or all("you are now" in e for e in driver.session.errors)
    alice = bot.store.get("console:alice")
    assert alice is not None
    assert alice.steps["physionet_account"].evidence["answer"] == "alice_kim"
    assert alice.is_done("citi_training") and not alice.is_done("citi_on_physionet")  # undone
    assert alice.applied.get("credentialing")  # "I applied" was noted
    assert any("PhysioNet은 추천인이 답한 뒤" in t or "several days" in t for t in driver.dm_texts("alice"))
    assert bot.store.get("console:reviewer") is None  # the reviewer's "pending" made no applicant


def _console(data: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCESSBOT_DATA_DIR": str(data), "ACCESSBOT_RULES": str(ROOT / "rules.yaml")}
    with (ROOT / script).open(encoding="utf-8") as stdin:
        return subprocess.run(
            [sys.executable, "-m", "bot", "console"],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )


def test_the_journey_example_runs_on_its_own_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "journey-data"
    journey = _console(data, "examples/journey.txt")
    assert journey.returncode == 0, journey.stderr
    out = journey.stdout
    assert "no such file" not in out and "[console] unknown command" not in out
    assert "I'll note **alice_kim** as your PhysioNet username" in out
    assert "noted that you applied on" in out
    assert "📨 Your package is complete" in out, out[-3000:]
    review = _console(data, "examples/review.txt")
    assert review.returncode == 0, review.stderr
    assert "🎉 Your access is approved" in review.stdout
