"""Reminders with an injected clock: each sent once, at the right time, and never again after a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.application import Application
from bot.documents import Validator
from tests.conftest import Clock, make_bot
from tests.journey import Driver, complete_package, write_documents


def test_idle_applicant_is_nudged_once_after_14_days(bot: Application, clock: Clock) -> None:
    driver = Driver(bot)
    driver.say("hi")
    clock.advance(days=13)
    assert bot.tick() == 0
    clock.advance(days=1)
    assert bot.tick() == 1
    assert "for 14 days" in driver.dm_texts("alice")[-1]
    clock.advance(days=30)
    assert bot.tick() == 0  # one nudge per step, not a nag


def test_credentialing_wait_gets_notes_at_2_and_8_weeks(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    report, _ = write_documents(tmp_path / "docs", clock().date())
    for line in ("alice_kim", "yes", f"/upload {report}", "done"):
        driver.say(line)
    assert "Get credentialed on PhysioNet" in driver.dm_texts("alice")[-1]
    clock.advance(days=14)
    assert bot.tick() == 1
    assert "applicants often wait a few weeks" in driver.dm_texts("alice")[-1]
    clock.advance(days=41)
    assert bot.tick() == 0
    clock.advance(days=1)
    assert bot.tick() == 1
    assert bot.tick() == 0


def test_waiting_package_repings_reviewers_every_48_hours(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    clock.advance(hours=47)
    assert bot.tick() == 0
    clock.advance(hours=1)
    assert bot.tick() == 1
    assert "still waiting for a decision (48 hours)" in driver.console.to("#reviewers")[-1].text
    assert bot.tick() == 0
    clock.advance(hours=48)
    assert bot.tick() == 1


def test_expiring_training_asks_approved_member_for_new_report(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    data = tmp_path / "data"
    bot = make_bot(data, validator, clock)
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    expiry = clock().date() + timedelta(days=1000)
    clock.advance(days=1000 - 61)
    assert bot.tick() == 0
    clock.advance(days=1)
    assert bot.tick() == 1
    assert expiry.isoformat() in driver.dm_texts("alice")[-1]
    bot.close()
    again = make_bot(data, validator, clock)  # a restart neither loses nor repeats reminders
    try:
        Driver(again)
        assert again.tick() == 0
    finally:
        again.close()


def test_failed_review_post_is_retried_by_the_tick(bot: Application, clock: Clock, tmp_path: Path) -> None:
    from bot.events import Destination, MessageRef, Outgoing
    from bot.platform import DeliveryError

    driver = Driver(bot)
    real_send = driver.console.send
    failing = {"on": True}

    def flaky(destination: Destination, message: Outgoing) -> MessageRef:
        if failing["on"] and destination.channel == "reviewers":
            raise DeliveryError("channel temporarily unavailable")
        return real_send(destination, message)

    driver.console.send = flaky  # type: ignore[method-assign]
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    assert not driver.console.to("#reviewers")
    failing["on"] = False
    bot.tick()
    posts = [s for s in driver.console.to("#reviewers") if s.destination.thread is None]
    assert len(posts) == 1


def test_kept_files_are_deleted_after_retention(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    text = (Path(__file__).resolve().parent.parent / "rules.yaml").read_text(encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(text.replace("keep_files: false\n  keep_days: 0", "keep_files: true\n  keep_days: 30"))
    bot = make_bot(tmp_path / "data", validator, clock, rules)
    try:
        driver = Driver(bot)
        report, _ = write_documents(tmp_path / "docs", clock().date())
        driver.say("alice_kim")
        driver.say("yes")
        driver.say(f"/upload {report}")
        kept = list((bot.store.dir / "files").iterdir())
        assert len(kept) == 1 and oct(kept[0].stat().st_mode & 0o777) == "0o600"
        assert "alice" not in kept[0].name.lower()  # named by pseudonym and hash only
        clock.advance(days=31)
        bot.tick()
        assert not list((bot.store.dir / "files").iterdir())
        applicant = bot.store.get("console:alice")
        assert applicant is not None and all(not d.stored_file for d in applicant.documents)
    finally:
        bot.close()


def test_approved_member_renews_training_after_the_reminder(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    from tests.citi_pdfs import make_report

    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    clock.advance(days=1000 - 30)
    assert bot.tick() == 1
    renewed = tmp_path / "renewed.pdf"
    new_expiry = clock().date() + timedelta(days=1095)
    renewed.write_bytes(
        make_report(name="Alice Kim", record_id="40599999", completion=clock().date(), expiration=new_expiry)
    )
    driver.as_("alice").say(f"/upload {renewed}")
    assert f"now expires on {new_expiry.isoformat()}" in driver.dm_texts("alice")[-1]
    clock.advance(days=60)
    assert bot.tick() == 0  # the old expiry no longer counts
    applicant = bot.store.get("console:alice")
    assert applicant is not None and applicant.approved_at
    evidence = applicant.steps["citi_training"].evidence
    assert evidence["fields"]["record_id"] == "40599999"


def test_a_tick_with_nothing_due_writes_nothing(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    text = (Path(__file__).resolve().parent.parent / "rules.yaml").read_text(encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(text.replace("keep_days: 0", "keep_days: 30"))  # the retention sweep runs every tick
    bot = make_bot(tmp_path / "data", validator, clock, rules)
    try:
        Driver(bot).say("hi")
        before = {p.name: p.stat().st_mtime_ns for p in bot.store.dir.glob("applicants-*.json")}
        clock.advance(days=1)
        assert bot.tick() == 0
        after = {p.name: p.stat().st_mtime_ns for p in bot.store.dir.glob("applicants-*.json")}
        assert after == before
    finally:
        bot.close()
