"""The usage-authorization form on Slack: the real bolt App, signed requests, the fake Slack Web API.

"Fill in the form" on the step's DM message -> views.open with an input per question -> a
view_submission with a bad date gets `response_action: errors` under that field (the modal stays
open, nothing is recorded) -> a valid one closes it, the step completes, the DM says so and the
review post shows the answers.
"""

from __future__ import annotations

import json
from typing import Any

from tests.citi_pdfs import make_png
from tests.test_slack import ALICE, REVIEWERS, SlackWorld, dm_channel, world

__all__ = ["world"]  # the fixture, shared with tests/test_slack.py


def to_the_form(world: SlackWorld) -> None:
    """Every step before the form (step 7 of the shipped rules.yaml)."""
    report = world.fake.add_file("FREPORT", world.report())
    proof = world.fake.add_file("FPROOF", make_png(), name="approval.png", mimetype="image/png")
    for line in ("hi", "alice_kim", "yes"):
        world.dm(ALICE, line)
    world.upload(ALICE, report)
    for _ in range(3):
        world.dm(ALICE, "done")
    world.upload(ALICE, proof)


def form_button(world: SlackWorld) -> tuple[str, dict[str, Any]]:
    """The latest DM message's primary button: (the message ts, the button)."""
    for message in reversed(world.fake.messages_to(dm_channel(ALICE))):
        blocks = message.get("blocks") or []
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == "accessbot_done":
                    return str(message.get("ts") or "1772440000.000900"), element
    raise AssertionError("no button on the DM messages")


def press_in_dm(world: SlackWorld, post_ts: str, button: dict[str, Any]) -> Any:
    channel = dm_channel(ALICE)
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": post_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": "1234.5678.4242",
        "team": {"id": "T0LAB", "domain": "lab"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": post_ts, "user": "UBOT", "text": "step 7"},
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "accessbot_actions",
                "text": button["text"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1772440000.777777",
            }
        ],
    }
    return world.signer.interaction(payload)


def submit(world: SlackWorld, view: dict[str, Any], values: dict[str, Any], view_id: str) -> Any:
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id == "storage":
            state[block_id] = {
                f"{block_id}_input": {
                    "type": "static_select",
                    "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
                }
            }
        else:
            state[block_id] = {f"{block_id}_input": {"type": "plain_text_input", "value": value}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0LAB", "domain": "lab"},
        "user": {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "trigger_id": "1234.5678.99",
        "view": {
            **view,
            "id": view_id,
            "team_id": "T0LAB",
            "hash": "1772440000.abc",
            "state": {"values": state},
        },
        "response_urls": [],
    }
    return world.signer.interaction(payload)


GOOD = {
    "project": "Pneumothorax detection",
    "storage": "university_hpc",
    "supervisor": "Prof. Lee (lee@example.org)",
    "end_date": "2027-06-30",
}


def test_modal_refuses_a_bad_date_in_place_then_saves_and_the_review_post_shows_the_answers(
    world: SlackWorld,
) -> None:
    to_the_form(world)
    ts, button = form_button(world)
    assert button["value"] == "lab_form" and button["text"]["text"] == "Fill in the form"
    assert press_in_dm(world, ts, button).status == 200
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "accessbot_step_form"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["project", "storage", "supervisor", "end_date"]
    storage = inputs["storage"]["element"]
    assert storage["type"] == "static_select"
    assert [o["value"] for o in storage["options"]] == ["lab_server", "university_hpc", "other"]
    assert inputs["project"]["element"]["type"] == "plain_text_input"
    assert "hint" in inputs["project"]  # the question's help, under the field

    bad = submit(world, view, {**GOOD, "end_date": "next June"}, "V0FORM1")
    assert bad.status == 200
    answer = json.loads(bad.body)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["end_date"] and "2027-06-30" in answer["errors"]["end_date"]
    applicant = world.bot.store.get(f"slack:{ALICE}")
    assert applicant is not None and not applicant.is_done("lab_form")  # nothing recorded

    good = submit(world, view, GOOD, "V0FORM2")
    assert good.status == 200 and good.body == ""  # an empty ack closes the modal
    applicant = world.bot.store.get(f"slack:{ALICE}")
    assert applicant is not None and applicant.is_done("lab_form")
    assert applicant.steps["lab_form"].evidence["answers"] == GOOD
    told = "\n".join(world.texts(ALICE) + world.ephemeral(ALICE))
    assert 'answers for "Fill in the lab\'s usage-authorization form" are saved' in told
    assert "The university's HPC cluster" in told
    review = world.bot.store.review(applicant.review_id)
    assert review is not None and review.posts  # the package went to the reviewers
    post = world.fake.texts_to(REVIEWERS)[0]
    assert "Project title: Pneumothorax detection" in post
    assert "Where will the data be stored?: The university's HPC cluster" in post


def test_the_modal_is_pre_filled_with_the_answers_given_in_the_dm(world: SlackWorld) -> None:
    to_the_form(world)
    world.dm(ALICE, "start")
    world.dm(ALICE, "Chest X-ray study")
    world.dm(ALICE, "3")  # storage: somewhere else
    ts, button = form_button(world)
    assert press_in_dm(world, ts, button).status == 200
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["project"]["initial_value"] == "Chest X-ray study"
    assert inputs["storage"]["initial_option"]["value"] == "other"
    assert "initial_value" not in inputs["supervisor"]
