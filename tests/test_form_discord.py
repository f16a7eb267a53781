"""The usage-authorization form on Discord: the real discord.py client parsing real gateway payloads.

"Fill in the form" (a button on the step's DM message) answers with a modal (interaction response
type 9) of Labels around a text input or a select; a MODAL_SUBMIT (interaction type 5) with a bad
date keeps the valid answers and asks for the rest; the button again opens the modal pre-filled; a
valid submission completes the step and the package goes to the reviewers with the answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from bot.documents import Validator
from tests.citi_pdfs import make_png
from tests.conftest import Clock
from tests.discord_harness import APPLICANT, BOT_ID, Harness
from tests.test_discord import report_pdf, say

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def h(tmp_path: Path, validator: Validator, clock: Clock) -> AsyncIterator[Harness]:
    async with Harness(tmp_path, validator, clock) as harness:
        yield harness


async def to_the_form(h: Harness, clock: Clock) -> int:
    """Every step before the form; returns the id of the DM message carrying its button."""
    for line in ("hi", "alice_kim", "yes"):
        await say(h, APPLICANT, line)
    await say(h, APPLICANT, files=[("report.pdf", report_pdf(clock))])
    for _ in range(3):
        await say(h, APPLICANT, "done")
    await say(h, APPLICANT, files=[("approval.png", make_png())])
    dm = h.fake.dm_channel(APPLICANT)
    ids = [i for i, m in h.fake.messages.items() if int(m["channel_id"]) == dm and m["components"]]
    return ids[-1]


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def labelled(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """custom_id -> the component inside each Label (type 18) of a modal."""
    out = {}
    for item in modal["components"]:
        assert item["type"] == 18, item  # a Label, as discord.py 2.7 sends them
        out[item["component"]["custom_id"]] = item["component"]
    return out


def modal_submit(h: Harness, message_id: int, custom_id: str, answers: dict[str, str]) -> None:
    """INTERACTION_CREATE type 5 (MODAL_SUBMIT) with a Label per question: a text input's value, or
    a select's values (storage)."""
    components = []
    for n, (key, value) in enumerate(answers.items(), start=1):
        inner: dict[str, Any] = (
            {"type": 3, "id": n * 2, "custom_id": key, "values": [value]}
            if key == "storage"
            else {"type": 4, "id": n * 2, "custom_id": key, "value": value}
        )
        components.append({"type": 18, "id": n * 2 - 1, "component": inner})
    payload = h._interaction(
        APPLICANT, 5, {"custom_id": custom_id, "components": components}, message=h.fake.messages[message_id]
    )
    h.gateway("INTERACTION_CREATE", payload)


GOOD = {
    "project": "Pneumothorax detection",
    "storage": "lab_server",
    "supervisor": "Prof. Lee (lee@example.org)",
    "end_date": "2027-06-30",
}


async def test_discord_modal_with_a_select_then_a_fix_then_the_step_completes(
    h: Harness, clock: Clock
) -> None:
    message_id = await to_the_form(h, clock)
    assert "accessbot:done:lab_form" in button_ids(h.fake.messages[message_id])
    h.press(APPLICANT, message_id, "accessbot:done:lab_form")
    [opened] = await h.until(lambda: h.fake.of("interaction_response"))
    assert opened.args["type"] == 9  # MODAL
    modal = opened.args["data"]
    inputs = labelled(modal)
    assert list(inputs) == ["project", "storage", "supervisor", "end_date"]
    assert inputs["storage"]["type"] == 3  # a select menu
    assert [o["value"] for o in inputs["storage"]["options"]] == ["lab_server", "university_hpc", "other"]
    assert inputs["project"]["type"] == 4  # a text input

    modal_submit(h, message_id, modal["custom_id"], {**GOOD, "end_date": "soon"})
    await h.until(lambda: any("need fixing" in t for t in h.followup_texts() + h.dm_texts(APPLICANT)))
    await h.settle()
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and not applicant.is_done("lab_form")
    assert applicant.form is not None and "end_date" not in applicant.form.answers
    assert applicant.form.answers["storage"] == "lab_server"  # the valid answers are kept

    h.press(APPLICANT, message_id, "accessbot:done:lab_form")
    await h.until(lambda: len(h.fake.of("interaction_response")) >= 3)
    reopened = [c for c in h.fake.of("interaction_response") if c.args["type"] == 9][-1].args["data"]
    again = labelled(reopened)
    assert again["project"]["value"] == "Pneumothorax detection"  # pre-filled
    assert [o.get("default") for o in again["storage"]["options"]] == [True, False, False]
    assert not again["end_date"].get("value")

    modal_submit(h, message_id, reopened["custom_id"], GOOD)
    await h.until(lambda: h.channel_posts())
    await h.settle()
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.is_done("lab_form")
    assert applicant.steps["lab_form"].evidence["answers"] == GOOD and applicant.form is None
    told = "\n".join(h.followup_texts() + h.dm_texts(APPLICANT))
    assert "are saved" in told and "The lab's server" in told
    post = h.channel_posts()[0].args["payload"]
    shown = str(post.get("content")) + str(post.get("embeds"))
    assert "Pneumothorax detection" in shown and "2027-06-30" in shown


async def test_a_form_of_more_than_five_questions_is_asked_in_pages(h: Harness, clock: Clock) -> None:
    data = yaml.safe_load(h.rules_path.read_text(encoding="utf-8"))
    form = next(s for s in data["steps"] if s["id"] == "lab_form")
    for n in (1, 2):
        form["questions"].append(
            {"id": f"extra{n}", "label": {"en": f"Extra {n}", "ko": f"추가 {n}"}, "required": False}
        )
    h.rules_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.utime(h.rules_path, (time.time() + 5, time.time() + 5))  # seen as changed: reloaded on the next event
    message_id = await to_the_form(h, clock)
    h.press(APPLICANT, message_id, "accessbot:done:lab_form")
    [opened] = await h.until(lambda: h.fake.of("interaction_response"))
    first = opened.args["data"]
    assert first["title"].endswith("(1/2)") and len(first["components"]) == 5
    modal_submit(h, message_id, first["custom_id"], {**GOOD, "extra1": "first extra"})
    await h.until(lambda: len(h.fake.of("interaction_response")) >= 2)
    offered = h.fake.of("interaction_response")[1].args
    assert offered["type"] == 4 and offered["data"]["flags"] == 64  # an ephemeral message
    [row] = offered["data"]["components"]
    [button] = row["components"]
    ephemeral = h.fake.message_payload(
        h.fake.dm_channel(APPLICANT), BOT_ID, {"components": [row], "flags": 64}
    )
    payload = h._interaction(
        APPLICANT, 3, {"custom_id": button["custom_id"], "component_type": 2}, message=ephemeral
    )
    h.gateway("INTERACTION_CREATE", payload)
    await h.until(lambda: len(h.fake.of("interaction_response")) >= 3)
    second = h.fake.of("interaction_response")[2].args
    assert second["type"] == 9 and second["data"]["title"].endswith("(2/2)")
    assert list(labelled(second["data"])) == ["extra2"]
    modal_submit(h, message_id, second["data"]["custom_id"], {"extra2": "second extra"})
    await h.until(lambda: h.channel_posts())
    await h.settle()
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None
    assert applicant.steps["lab_form"].evidence["answers"] == {
        **GOOD,
        "extra1": "first extra",
        "extra2": "second extra",
    }
