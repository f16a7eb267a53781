"""The home view through the console's /home: an applicant's checklist, a reviewer's queue with its
buttons working, an admin's figures; nothing written by looking."""

from __future__ import annotations

from pathlib import Path

from bot.application import Application
from bot.events import UserRef
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents


def test_home_as_applicant_then_reviewer_then_admin(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    driver.say("hi")
    [applicant_home] = driver.say("/home")
    assert "👉 1. Create a PhysioNet account" in applicant_home.text
    assert [b.action for b in applicant_home.message.buttons] == ["done", "not_yet", "help"]
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    clock.advance(hours=30)
    before = bot.store.get("console:alice")
    home = bot.home_for(UserRef("console", "reviewer"))
    assert bot.store.get("console:alice") == before  # looking writes nothing
    queue = home.text()
    assert "Packages waiting for the reviewers" in queue and "@alice" in queue
    assert "Waiting 30 hours (1 days)" in queue
    [package] = [s for s in home.sections if s.title == "@alice"]
    assert [b.action for b in package.buttons] == ["approve", "reject", "return_for_changes", "claim"]
    driver.as_("reviewer").say("/press claim")
    assert "Taken by @reviewer" in bot.home_for(UserRef("console", "reviewer2")).text()
    admin = driver.as_("admin").say("/home")[-1].text
    assert "The figures" in admin and "The latest problems" in admin and "alice" not in admin
