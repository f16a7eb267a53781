"""The lifecycle tick (access ending, suspension, a close-out asked again) runs from the store's
due-time index: a tick visits the people something is due for, not every member."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.application import Application
from bot.documents import Validator
from bot.entitlements import lifecycle
from bot.models import Applicant
from tests.conftest import Clock, make_bot
from tests.journey import Driver, complete_package, write_documents
from tests.test_access_commands import GRANTED, REMOVED, rules_file

MEMBERS = 150


def _active(until: str) -> Any:
    def change(a: Applicant) -> None:
        a.access.state = "active"
        a.access.since = "2026-03-02T09:00:00+00:00"
        a.access.until = until
        a.access.granted = ["data_folder"]
        a.step_started = ""  # no stale-step reminder: only access is due

    return change


def _crowd(bot: Application) -> None:
    """Members whose access ends in three years: nothing is due for them in this test."""
    for n in range(MEMBERS):
        key = f"console:member{n}"
        bot.store.ensure(key, lang="en")
        bot.store.update(key, _active("2029-03-01"))


@pytest.fixture
def world(tmp_path: Path, validator: Validator, clock: Clock) -> Any:
    bot = make_bot(tmp_path / "data", validator, clock, rules_file(tmp_path, "access:\n  days: 100\n"))
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    _crowd(bot)
    yield bot, driver
    bot.close()


def _visits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = lifecycle.due

    def counting(bot: Any, key: str) -> int:
        seen.append(key)
        return real(bot, key)

    monkeypatch.setattr(lifecycle, "due", counting)
    return seen


def test_a_tick_visits_only_the_members_something_is_due_for(
    world: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, driver = world
    alice = bot.store.get("console:alice")
    assert alice is not None and alice.access.until == "2026-06-10"  # 100 days
    seen = _visits(monkeypatch)
    bot.tick()
    assert seen == [], "nothing is due: nobody is looked at"

    clock.advance(days=70)  # 30 days before alice's end: her reminder
    assert bot.tick() == 1
    assert seen == ["console:alice"]
    assert "ends on 2026-06-10" in driver.dm_texts("alice")[-1]
    bot.tick()
    assert seen == ["console:alice"], "reminded once; not visited again before her end"

    clock.advance(days=30)
    assert bot.tick() == 1
    assert seen == ["console:alice", "console:alice"]
    assert "suspended" in driver.dm_texts("alice")[-1]
    assert driver.console.grants == [GRANTED, REMOVED]
    member = bot.store.get("console:member7")
    assert member is not None and member.access.state == "active"
    bot.tick()
    assert len(seen) == 2, f"{MEMBERS + 1} members, two visits in all"


def test_times_stored_by_an_older_rule_are_worked_out_again(world: Any, clock: Clock) -> None:
    bot, driver = world
    bot.tick()
    bot.store.set_due_rule(lambda a: "", "before-access-ends")  # an index written by an older version
    assert list(bot.store.due(clock() + timedelta(days=200))) == []
    clock.advance(days=100)
    bot.tick()
    assert "suspended" in driver.dm_texts("alice")[-1]
    assert driver.console.grants == [GRANTED, REMOVED]


def test_the_due_times_come_from_the_access_and_the_close_out(world: Any, clock: Clock) -> None:
    bot, _driver = world
    rules = bot.rules
    alice = bot.store.get("console:alice")
    assert alice is not None
    assert lifecycle.access_due(rules, alice) == ["2026-05-11T00:00:00+00:00", "2026-06-10T00:00:00+00:00"]
    alice.access.reminded_for = alice.access.until
    alice.access.closeout, alice.access.closeout_next = (
        "2026-03-02T09:00:00+00:00",
        "2026-03-09T09:00:00+00:00",
    )
    assert lifecycle.access_due(rules, alice) == ["2026-06-10T00:00:00+00:00", "2026-03-09T09:00:00+00:00"]
    alice.access.state = "revoked"
    assert lifecycle.access_due(rules, alice) == ["2026-03-09T09:00:00+00:00"]
