"""Return for changes on Discord: the real client parses real INTERACTION_CREATE payloads; the
modal's step and reason are select menus inside labels (discord.py 2.6+, component types 18 and 3)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.documents import Validator
from tests.conftest import Clock
from tests.discord_harness import APPLICANT, REVIEWER, Harness
from tests.test_discord import complete_package, review_state

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def h(tmp_path: Path, validator: Validator, clock: Clock) -> AsyncIterator[Harness]:
    async with Harness(tmp_path, validator, clock) as harness:
        yield harness


async def test_return_button_opens_menus_and_the_submission_returns_the_package(
    h: Harness, clock: Clock
) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(REVIEWER, post_id, f"accessbot:return_for_changes:{review_id}")
    [modal] = await h.until(lambda: h.fake.of("interaction_response"))
    assert modal.args["type"] == 9  # MODAL
    data = modal.args["data"]
    assert [c["type"] for c in data["components"]] == [18, 18, 18]
    step_menu, reason_menu, own_words = (c["component"] for c in data["components"])
    assert step_menu["type"] == 3 and "citi_training" in [o["value"] for o in step_menu["options"]]
    assert reason_menu["type"] == 3 and reason_menu["required"] is False
    assert [o["value"] for o in reason_menu["options"]][-1] == "other"
    assert reason_menu["options"][0]["label"].startswith("1. The report is for another course")
    assert own_words["type"] == 4 and own_words["style"] == 2 and own_words["required"] is False
    assert review_state(h) == "pending"

    edits_before = len(h.fake.of("edit_message"))
    h.submit_menu_form(
        REVIEWER,
        post_id,
        data["custom_id"],
        {"return_step": ["citi_training"], "reason_choice": ["name_mismatch"], "reason": ""},
    )
    await h.until(lambda: review_state(h) == "returned")
    await h.until(lambda: any("does not match your name" in t for t in h.dm_texts(APPLICANT)))
    await h.settle()
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.steps["citi_training"].status == "reopened"
    assert applicant.is_done("physionet_account")
    edits = h.fake.of("edit_message")[edits_before:]
    assert edits and {e.args["message_id"] for e in edits} == {post_id}
    shown = json.dumps(edits[-1].args["payload"], ensure_ascii=False)
    assert "Returned for changes" in shown and "does not match" in shown
    assert any("returned for changes" in t for t in h.followup_texts())


async def test_other_without_own_words_is_asked_again_and_decides_nothing(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(REVIEWER, post_id, f"accessbot:return_for_changes:{review_id}")
    [modal] = await h.until(lambda: h.fake.of("interaction_response"))
    h.submit_menu_form(
        REVIEWER,
        post_id,
        modal.args["data"]["custom_id"],
        {"return_step": ["citi_training"], "reason_choice": ["other"], "reason": ""},
    )
    await h.until(lambda: any("STEP REASON" in t for t in h.followup_texts()))
    assert review_state(h) == "pending"
