"""Buttons in the homes: Discord's ephemeral /queue carries each package's REVIEW_ACTIONS as real
discord.ui components, and pressing one is handled like the review post's button (the real client,
gateway payloads); the console's /home lists what can be typed, numbered, and `/home N` presses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.application import Application
from bot.documents import Validator
from bot.home import REVIEW_ACTIONS
from tests.conftest import Clock
from tests.discord_harness import APPLICANT, MALLORY, REVIEWER, Harness
from tests.journey import Driver, complete_package, write_documents
from tests.test_discord import complete_package as complete_on_discord


@pytest_asyncio.fixture
async def h(tmp_path: Path, validator: Validator, clock: Clock) -> AsyncIterator[Harness]:
    async with Harness(tmp_path, validator, clock) as harness:
        yield harness


def custom_ids(payload: dict[str, object]) -> list[str]:
    rows = payload.get("components") or []
    assert isinstance(rows, list)
    return [c["custom_id"] for row in rows for c in row["components"]]


async def queue_answers(h: Harness, user: int) -> list[tuple[int, dict[str, object]]]:
    before = len(h.fake.of("followup"))
    h.slash(user, "queue")
    await h.until(lambda: len(h.fake.of("followup")) > before)
    await h.settle()
    return [(c.args["id"], c.args["payload"]) for c in h.fake.of("followup")[before:]]


@pytest.mark.asyncio
async def test_discord_queue_has_the_review_buttons_and_they_decide(h: Harness, clock: Clock) -> None:
    await complete_on_discord(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    [(_, heading), (message_id, package)] = await queue_answers(h, REVIEWER)
    assert "Packages waiting for the reviewers" in str(heading["content"]) and not heading.get("components")
    assert f"<@{APPLICANT}>" in str(package["content"])
    assert package["flags"] == 64  # ephemeral: only the reviewer sees it
    assert custom_ids(package) == [f"accessbot:{a.action}:{review_id}" for a in REVIEW_ACTIONS]
    assert h.dm_texts(REVIEWER) == []

    h.press(REVIEWER, message_id, f"accessbot:claim:{review_id}")  # on the ephemeral answer
    await h.until(lambda: h.bot.store.review(review_id).claimed_by)  # type: ignore[union-attr]
    await h.settle()
    assert h.bot.store.review(review_id).claimed_by == f"discord:{REVIEWER}"  # type: ignore[union-attr]
    edits = h.fake.of("edit_message")  # the review post itself shows who took it
    assert edits and "Taken by" in str(edits[-1].args["payload"])

    h.press(REVIEWER, message_id, f"accessbot:approve:{review_id}")
    await h.until(lambda: any(t.startswith("🎉") for t in h.dm_texts(APPLICANT)))
    await h.settle()
    review = h.bot.store.review(review_id)
    assert review is not None and review.state == "approved" and review.decided_by == [f"discord:{REVIEWER}"]
    [(_, empty)] = await queue_answers(h, REVIEWER)  # decided: nothing left to press
    assert not empty.get("components")


@pytest.mark.asyncio
async def test_discord_queue_buttons_obey_the_same_permissions(h: Harness, clock: Clock) -> None:
    await complete_on_discord(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    [_, (message_id, _)] = await queue_answers(h, REVIEWER)
    before = len(h.followup_texts())
    h.press(MALLORY, message_id, f"accessbot:approve:{review_id}")  # a forwarded id, not a reviewer
    await h.until(lambda: len(h.followup_texts()) > before)
    await h.settle()
    assert "Only the lab's reviewers" in h.followup_texts()[-1]
    assert h.bot.store.review(review_id).state == "pending"  # type: ignore[union-attr]


def test_console_home_numbers_what_can_be_typed_and_home_n_presses_it(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    driver.say("hi")
    [mine] = driver.say("/home")
    assert "What you can type here:" in mine.text
    assert "  1. I've done this: /home 1" in mine.text
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review_id = bot.store.get("console:alice").review_id  # type: ignore[union-attr]
    reviewer = driver.as_("reviewer")
    queue = reviewer.say("/home")[-1].text
    assert f"  1. Approve: approve {review_id}" in queue
    assert f"  2. Reject: reject {review_id}" in queue
    assert "  3. I'll take this: /home 3" in queue
    reviewer.say("/home 3")  # the claim button, pressed by its number
    assert bot.store.review(review_id).claimed_by == "console:reviewer"  # type: ignore[union-attr]
    reviewer.say(f"approve {review_id}")  # what the list says to type
    assert bot.store.review(review_id).state == "approved"  # type: ignore[union-attr]
    again = reviewer.say("/home 9")[-1].text  # no such number: the home again (decided: empty)
    assert "0 package(s) waiting" in again and "What you can type here:" not in again
