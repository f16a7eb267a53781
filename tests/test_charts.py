"""The stats chart: a PNG that decodes at the expected size, carries no personal detail, is written by
`accessbot admin stats --plot`, and goes to the reviewers channel as the weekly digest."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.admin_cli import ReadOptions, admin_command
from bot.charts import DPI, HEIGHT, WIDTH, chart_data, stats_png
from bot.cli import main as cli_main
from bot.digest import digest_due, last_slot, send_weekly_digest
from bot.i18n import Translator
from bot.rules import Digest
from bot.rules_loader import load_rules, parse_rules
from bot.settings import Settings
from bot.store import Store
from examples.stats_demo import NOW, START, _Clock, populate
from tests.conftest import ROOT, RULES, Clock, make_bot
from tests.journey import Driver

SECRET_NAME = "Zqxjvbwk Plmoknij"  # distinctive: found nowhere else


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("charts") / "data"
    with Store(folder, clock=_Clock(START)) as store:
        populate(store, load_rules(RULES), people=9, name=SECRET_NAME)
    return folder


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_chart_decodes_at_its_size_and_holds_no_personal_detail(data: Path) -> None:
    rules = load_rules(RULES)
    with Store(data, exclusive=False) as store:
        names = [a.display_name for a in store.all()] + [a.key for a in store.all()]
        png = stats_png(rules, store, Translator(), "en", NOW)
        figures = chart_data(rules, store, Translator().bound("en"), "en", NOW)
    image = _decoded(png)
    assert image.format == "PNG" and image.size == (WIDTH * DPI, HEIGHT * DPI)
    assert figures.people == 9 and sum(c for _, c in figures.weeks) == figures.approved
    texts = [str(v) for v in image.info.values()] + [str(v) for v in getattr(image, "text", {}).values()]
    assert not any("matplotlib" in t.lower() for t in texts)  # no "Software" chunk either
    for secret in [SECRET_NAME, SECRET_NAME.split()[0], "zqxjvbwk", *names]:
        assert secret.encode() not in png
        assert not any(secret in t for t in texts)
        assert not any(secret.casefold() in label.casefold() for label in figures.labels())


def test_korean_chart_and_an_empty_store(tmp_path: Path) -> None:
    rules = load_rules(RULES)
    with Store(tmp_path / "empty") as store:
        png = stats_png(rules, store, Translator(), "ko", NOW)
    assert _decoded(png).size == (WIDTH * DPI, HEIGHT * DPI)


def test_admin_stats_plot_writes_a_png_beside_a_live_bot(data: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "out.png"
    settings = Settings(data_dir=data, rules_path=RULES)
    code = admin_command(settings, "stats", [], out, err, ReadOptions(plot=target))
    assert code == 0, err.getvalue()
    assert "9 people" in out.getvalue() and str(target) in out.getvalue()
    assert _decoded(target.read_bytes()).size == (1200, 900)


def test_the_command_line_takes_plot(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(data))
    monkeypatch.setenv("ACCESSBOT_RULES", str(RULES))
    target = tmp_path / "cli.png"
    assert cli_main(["admin", "stats", "--plot", str(target), "--lang", "ko"]) == 0
    assert _decoded(target.read_bytes()).size == (1200, 900)
    assert cli_main(["admin", "stats", "--lang", "fr"]) == 2


def test_matplotlib_is_not_imported_at_start_up() -> None:
    code = "import sys, bot.cli, bot.app, bot.admin, bot.digest; assert 'matplotlib' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=60)


def test_digest_due_once_per_week_at_the_hour() -> None:
    on = Digest(weekly=True, weekday="mon", hour=9)
    monday_8 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
    monday_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert last_slot(monday_8, on) == datetime(2026, 2, 23, 9, 0, tzinfo=UTC)
    assert not digest_due(monday_8, datetime(2026, 2, 23, 9, 5, tzinfo=UTC), on)
    assert digest_due(monday_9, datetime(2026, 2, 23, 9, 5, tzinfo=UTC), on)
    assert not digest_due(datetime(2026, 3, 4, 12, tzinfo=UTC), monday_9, on)
    assert digest_due(monday_9, None, on)
    assert not digest_due(monday_9, None, Digest(weekly=False))
    seoul = Digest(weekly=True, weekday="mon", hour=9, timezone="Asia/Seoul")
    assert last_slot(monday_9, seoul) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 09:00 in Seoul


def test_digest_settings_are_checked() -> None:
    text = RULES.read_text(encoding="utf-8")
    rules = parse_rules(text + "\ndigest: {weekly: true, weekday: fri, hour: 16}\n")
    assert rules.digest == Digest(weekly=True, weekday="fri", hour=16)
    for bad, where in (
        ("digest: {hour: 25}", "digest.hour"),
        ("digest: {weekday: funday}", "digest.weekday"),
        ("digest: {timezone: Mars/Olympus}", "digest.timezone"),
        ("estimates: {sample: 2, min_sample: 5}", "estimates.sample"),
        ("claims: {stale_after_hours: -1}", "claims.stale_after_hours"),
    ):
        with pytest.raises(Exception, match=where.replace(".", r"\.")):
            parse_rules(text + "\n" + bad + "\n")


def test_the_weekly_digest_posts_the_chart_in_the_reviewers_channel(
    tmp_path: Path, validator: object, clock: Clock
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text(encoding="utf-8") + "\ndigest: {weekly: true}\n", encoding="utf-8")
    bot = make_bot(tmp_path / "data", validator, clock, path)  # type: ignore[arg-type]
    try:
        driver = Driver(bot)
        driver.as_("alice").say("hi")
        assert send_weekly_digest(bot.services)  # Monday 09:00, never sent
        posted = driver.console.to("#reviewers")[-1].message
        assert "Weekly digest: 1 applicants" in posted.text
        assert _decoded(posted.files[0].data).size == (1200, 900)
        assert not send_weekly_digest(bot.services)  # once a week
        clock.advance(days=7)
        assert send_weekly_digest(bot.services)
    finally:
        bot.close()
