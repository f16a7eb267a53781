"""Claiming wired through the bot: the Claim button and 👀 on the post, the post naming the claimer,
reminders to the claimer alone, stale claims released with a note, decisions releasing the claim."""

from __future__ import annotations

from pathlib import Path

from bot.application import Application
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents


def _package(bot: Application, clock: Clock, tmp_path: Path) -> Driver:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    return driver


def _thread(driver: Driver) -> list[str]:
    return [s.text for s in driver.console.to("#reviewers") if s.destination.thread is not None]


def _post(driver: Driver) -> str:
    post = driver.console.last_post("reviewers")
    assert post is not None
    return post.text


def test_claim_button_names_the_claimer_and_refuses_a_second(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = _package(bot, clock, tmp_path)
    post = driver.console.last_post("reviewers")
    assert post is not None and [b.action for b in post.message.buttons] == [
        "approve",
        "reject",
        "return_for_changes",
        "claim",
    ]
    answer = driver.as_("reviewer").say("/press claim")
    assert any("the package is yours" in s.text for s in answer)
    assert "👀 @reviewer is taking this package." in _thread(driver)
    assert "Taken by @reviewer" in _post(driver)
    [review] = bot.store.pending_reviews()
    assert review.claimed_by == "console:reviewer"
    taken = driver.as_("reviewer2").say("/react 👀")
    assert any("@reviewer already took this package" in s.text for s in taken)
    assert "already took" in driver.as_("reviewer").say("/press claim")[-1].text
    driver.as_("reviewer").say("/react ✅")  # the decision releases the claim
    decided = bot.store.review(review.id)
    assert decided is not None and decided.state == "approved" and decided.claimed_by == ""
    assert "Taken by" not in _post(driver)


def test_eyes_claims_and_removing_it_releases(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = _package(bot, clock, tmp_path)
    driver.as_("reviewer2").say("/react 👀")
    assert bot.store.pending_reviews()[0].claimed_by == "console:reviewer2"
    driver.as_("reviewer2").say("/unreact 👀")
    assert bot.store.pending_reviews()[0].claimed_by == ""
    assert "@reviewer2 released this package: it is open to any reviewer." in _thread(driver)
    assert "Taken by" not in _post(driver)
    assert "only reviewers" in driver.as_("alice").say("/react 👀")[-1].text.lower() or (
        bot.store.pending_reviews()[0].claimed_by == ""
    )


def test_reminder_goes_to_the_claimer_and_a_stale_claim_is_released(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = _package(bot, clock, tmp_path)
    driver.as_("reviewer").say("/press claim")
    clock.advance(hours=23)
    assert bot.tick() == 0
    assert bot.store.pending_reviews()[0].claimed_by == "console:reviewer"
    clock.advance(hours=1)
    bot.tick()
    assert bot.store.pending_reviews()[0].claimed_by == ""
    assert (
        "The claim by @reviewer was released after 24 hours without a decision:"
        " this package is open to any reviewer again." in _thread(driver)
    )
    clock.advance(hours=6)
    driver.as_("reviewer2").say("/press claim")
    clock.advance(hours=18)
    assert bot.tick() == 1  # 48 hours waiting: the claimer alone is pinged, by name
    assert "⏰ @reviewer2: the package you took is still waiting for a decision (48 hours)." in _thread(
        driver
    )
