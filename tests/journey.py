"""Drive a Application through the console adapter as several people, errbot-style."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from bot.adapters.console.adapter import ConsoleAdapter, Sent
from bot.adapters.console.serve import console_for
from bot.application import Application
from tests.citi_pdfs import make_png, make_report

FORM_ANSWERS = ("Chest X-ray study", "1", "Prof. Lee (lee@example.org)", "2027-06-30", "yes")
"""The lab's usage-authorization form of the shipped rules.yaml (step 7, complete_by: form), answered
one question at a time after "done" started it: project, storage (1: the lab's server), supervisor,
end date, then "yes" to the summary."""


class Driver:
    """`driver.as_("alice").say("status")`, then assert on what reached whom."""

    def __init__(self, bot: Application) -> None:
        self.bot = bot
        self.adapter, self.session = console_for(bot, None)
        self.adapter.names.update({"alice": "Alice Kim"})

    @property
    def console(self) -> ConsoleAdapter:
        return self.adapter

    def as_(self, name: str) -> Driver:
        self.session.feed(f"/as {name}")
        return self

    def say(self, line: str) -> list[Sent]:
        """Feed one console line; return what the bot sent in response."""
        before = len(self.adapter.sent)
        self.session.feed(line)
        return self.adapter.sent[before:]

    def dm_texts(self, name: str) -> list[str]:
        return [s.text for s in self.adapter.to(name)]


def write_documents(
    folder: Path, today: date, name: str = "Alice Kim", record_id: str = "40512345"
) -> tuple[Path, Path]:
    """A valid completion report for `name`, and a screenshot standing for the approval proof."""
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / f"report-{record_id}.pdf"
    report.write_bytes(
        make_report(
            name=name,
            record_id=record_id,
            completion=today - timedelta(days=20),
            expiration=today + timedelta(days=1000),
        )
    )
    proof = folder / "approval.png"
    proof.write_bytes(make_png())
    return report, proof


def complete_package(driver: Driver, report: Path, proof: Path, user: str = "alice") -> None:
    """Every step before the review, as `user` (a reviewer or admin too: they start by saying they want
    to apply; the username is confirmed before it is recorded)."""
    driver.as_(user)
    lines = (
        "I want to apply",
        "alice_kim",
        "yes",
        f"/upload {report}",
        "done",
        "done",
        "done",
        f"/upload {proof}",
        "done",
        *FORM_ANSWERS,
    )
    for line in lines:
        driver.say(line)
