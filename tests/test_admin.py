"""Admin commands: only admins (by stable id), every override audited, no personal data exported."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from bot.application import Application
from bot.cli import main as cli_main
from bot.documents import Validator
from tests.conftest import RULES, Clock, make_bot
from tests.journey import Driver, complete_package, write_documents


def _submitted(bot: Application, clock: Clock, tmp_path: Path) -> Driver:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    return driver


def test_non_admin_is_refused_politely_and_audited(bot: Application) -> None:
    driver = Driver(bot)
    reply = driver.as_("mallory").say("forget alice")[0]
    assert reply.where == "DM → mallory" and "admin command" in reply.text
    entries = list(bot.store.audit_entries())
    assert entries[-1]["action"] == "admin.refused" and entries[-1]["command"] == "forget"
    assert "mallory" not in str(entries)


def test_display_name_admin_is_not_an_admin(bot: Application) -> None:
    from bot.events import DirectMessage, UserRef

    driver = Driver(bot)
    impostor = UserRef("console", "eve", display_name="admin")  # a display name proves nothing
    bot.dispatch(DirectMessage(event_id="x1", user=impostor, text="stats"))
    assert "admin command" in driver.dm_texts("eve")[-1]


def test_pending_show_stats_and_export(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say("hi")  # staff talking to the bot are not applicants
    clock.advance(hours=5)
    driver.as_("admin")
    assert "console:alice: waiting 5 h, 0/1 approvals, posted" in driver.say("pending")[0].text
    shown = driver.say("show alice")[0].text
    assert "citi_training: done" in shown and "report, accepted" in shown
    stats = driver.say("stats")[0].text
    assert "8. lab_review: 1 here now" in stats
    assert stats.startswith("1 people")  # the admin and reviewer who talked to the bot are not counted
    exported = driver.say("export")[0].text
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:4] == ["user", "language", "created", "current_step"] and rows[1][0] == "console:alice"
    assert [r[0] for r in rows[1:]] == ["console:alice"]
    assert "Alice" not in exported and "example.edu" not in exported and "40512345" not in exported


def test_overrides_reset_and_forget(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = _submitted(bot, clock, tmp_path)
    driver.as_("admin").say("reject alice citi_training please upload a newer report")
    assert "please upload a newer report" in driver.dm_texts("alice")[-1]
    refused = driver.say("approve alice")[0].text  # step 2 was reopened: not complete
    assert "not complete" in refused and "2. Complete the CITI course" in refused
    assert "approve alice force" in refused
    assert not any("Your access is approved" in t for t in driver.dm_texts("alice"))
    driver.say("approve alice force")
    assert any("Your access is approved" in t for t in driver.dm_texts("alice"))
    actions = [e["action"] for e in bot.store.audit_entries()]
    assert "review.rejected" in actions and "review.approved" in actions
    assert any(e.get("override") for e in bot.store.audit_entries() if e["action"] == "review.approved")
    driver.say("reset alice lab_form")
    assert "redo the step" in driver.dm_texts("alice")[-1]
    driver.say("forget alice")
    assert bot.store.get("console:alice") is None and bot.store.record_id_owner("40512345") is None
    assert "I do not know console:alice" in driver.say("show alice")[0].text


def test_reload_keeps_old_rules_and_tells_admin(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    bot = make_bot(tmp_path / "data", validator, clock, path)
    try:
        driver = Driver(bot)
        path.write_text("version: 1\nsteps: [", encoding="utf-8")
        reply = driver.as_("admin").say("reload")[0].text
        assert "has errors, so I kept the previous rules" in reply and "rules.yaml:" in reply
        assert len(bot.rules.steps) == 8
        assert "PhysioNet account" in driver.as_("alice").say("status")[0].text
    finally:
        bot.close()


def test_admin_cli_on_a_data_folder(
    tmp_path: Path,
    bot: Application,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _submitted(bot, clock, tmp_path)
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(bot.store.dir))
    monkeypatch.setenv("ACCESSBOT_RULES", str(RULES))
    assert cli_main(["admin", "pending"]) == 0  # read-only: works beside the running bot
    assert "console:alice" in capsys.readouterr().out
    assert cli_main(["admin", "forget", "console:alice"]) == 1  # a change needs the bot stopped
    assert "already using" in capsys.readouterr().err
    bot.store.close()
    assert cli_main(["admin", "forget", "console:alice"]) == 0
    assert cli_main(["admin", "show", "console:alice"]) == 1


def test_a_long_export_in_chat_is_a_csv_file_not_a_message(
    bot: Application, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above EXPORT_INLINE_ROWS people the chat export is attached (100,000 rows are a 10 MB message);
    on a platform without files the admin is told the CLI command instead."""
    monkeypatch.setattr("bot.handlers.admin.EXPORT_INLINE_ROWS", 0)
    driver = _submitted(bot, clock, tmp_path)
    reply = driver.as_("admin").say("export")[0]
    assert reply.where == "DM → admin" and "The export of 1 people is attached" in reply.text
    (attached,) = reply.message.files
    assert attached.filename.startswith("accessbot-export-") and attached.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(attached.data.decode("utf-8"))))
    assert rows[0][:2] == ["user", "language"] and [r[0] for r in rows[1:]] == ["console:alice"]
    monkeypatch.setattr(driver.adapter, "capabilities", replace(driver.adapter.capabilities, files=False))
    refused = driver.say("export")[0]
    assert "accessbot admin export > export.csv" in refused.text and not refused.message.files
