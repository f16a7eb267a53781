"""Stages of approval on Slack: the real bolt App, signed requests and the fake Slack Web API.

Stage 1 is the supervisor's DM (with Block Kit buttons); their Approve press moves the package to
stage 2, posted in the reviewers channel, where only the data team decides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.documents import Validator
from tests.conftest import Clock
from tests.fake_slack import BOT_USER
from tests.test_slack import (
    ALICE,
    REVIEWER,
    REVIEWERS,
    SlackWorld,
    dm_channel,
    slack_world,
)
from tests.test_slack import slack_rules as plain_slack_rules

PROF = "UPROF"


BUTTONS = ["accessbot_approve", "accessbot_reject", "accessbot_return_for_changes", "accessbot_claim"]
"""The review post's buttons, at every stage."""


def staged_rules(tmp_path: Path) -> Path:
    path = plain_slack_rules(tmp_path)
    stages = f"""
stages:
  - id: supervisor
    title: {{en: "supervisor", ko: "지도교수"}}
    where: dm
    users: ["slack:{PROF}"]
  - id: data_team
    title: {{en: "data team", ko: "데이터 팀"}}
    where: channel
    role: reviewers
"""
    path.write_text(path.read_text(encoding="utf-8") + stages, encoding="utf-8")
    return path


@pytest.fixture
def world(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[SlackWorld]:
    people = {PROF: ("Paul Professor", "")}
    with slack_world(tmp_path, validator, clock, staged_rules(tmp_path), people=people) as created:
        yield created


def press_in(world: SlackWorld, user: str, action: str, channel: str, post_ts: str, value: str) -> Any:
    """A button press on a message in `channel` (a DM channel for stage-1 posts)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": post_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"1234.5678.{world.ts()}",
        "team": {"id": "T0LAB", "domain": "lab"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": post_ts, "user": BOT_USER, "text": "package"},
        "actions": [
            {
                "action_id": f"accessbot_{action}",
                "block_id": "accessbot_actions",
                "text": {"type": "plain_text", "text": action.title()},
                "value": value,
                "type": "button",
                "action_ts": world.ts(),
            }
        ],
    }
    return world.signer.interaction(payload)


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _buttons(params: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in _blocks(params) if b["type"] == "actions" for e in b["elements"]]


def test_stage_1_in_the_supervisors_dm_with_buttons_then_stage_2_in_the_channel(world: SlackWorld) -> None:
    review = world.complete_package()
    assert world.fake.messages_to(REVIEWERS) == [], "nothing in the channel at stage 1"
    [dm] = [m for m in world.fake.messages_to(dm_channel(PROF)) if m.get("blocks")]
    assert _buttons(dm) == BUTTONS
    assert "Stage 1 of 2: supervisor, 0 of 1 approvals" in dm["text"] and "40512345" in dm["text"]
    [post_ref] = world.review(review.id).posts
    assert (post_ref.channel, post_ref.to, post_ref.stage) == (
        dm_channel(PROF),
        f"slack:{PROF}",
        "supervisor",
    )
    seeded = world.fake.calls_to("reactions.add")
    assert {c.params["channel"] for c in seeded} == {dm_channel(PROF)}, "the approve/reject emoji, in the DM"

    # A data-team reviewer voting at stage 1 (by the text command in their DM) changes nothing.
    world.dm(REVIEWER, f"approve {review.id}")
    assert world.review(review.id).votes == {}
    assert any("at the supervisor stage" in t for t in world.texts(REVIEWER)), world.texts(REVIEWER)

    response = press_in(world, PROF, "approve", dm_channel(PROF), post_ref.message_id, review.id)
    assert response.status == 200
    moved = world.review(review.id)
    assert moved.state == "pending" and moved.stage == "data_team"
    assert moved.stages_passed[0].by == [f"slack:{PROF}"]
    assert any("passed the supervisor stage" in t for t in world.texts(ALICE))
    [closed] = [c.params for c in world.fake.calls_to("chat.update") if c.params["ts"] == post_ref.message_id]
    assert _buttons(closed) == [] and "supervisor: approved by <@UPROF>" in closed["text"]

    [post] = world.fake.messages_to(REVIEWERS)
    assert _buttons(post) == BUTTONS
    assert "Stage 2 of 2: data team, 0 of 1 approvals" in post["text"]
    assert "supervisor approved by <@UPROF> on 2026-03-02" in post["text"]
    channel_ref = world.review(review.id).posts[-1]
    assert (channel_ref.channel, channel_ref.stage) == (REVIEWERS, "data_team")

    # The supervisor cannot decide stage 2; the data team can.
    world.react(PROF, "white_check_mark", channel_ref.message_id)
    assert world.review(review.id).state == "pending"
    assert any("at the data team stage" in t for t in world.texts(PROF))
    world.press(REVIEWER, "approve", channel_ref.message_id, review.id)
    decided = world.review(review.id)
    assert decided.state == "approved" and decided.decided_by == [f"slack:{REVIEWER}"]
    assert any(t.startswith("🎉 Your access is approved") for t in world.texts(ALICE))


def test_the_supervisors_reject_press_opens_the_form_and_ends_the_round(world: SlackWorld) -> None:
    review = world.complete_package()
    [post_ref] = world.review(review.id).posts
    assert press_in(world, PROF, "reject", dm_channel(PROF), post_ref.message_id, review.id).status == 200
    [opened] = world.fake.calls_to("views.open")
    assert opened.params["view"]["callback_id"] == "accessbot_reject_reason"
    world.fake.errors["views.open"] = "expired_trigger_id"  # the DM fallback: the reason asked by DM
    press_in(world, PROF, "reject", dm_channel(PROF), post_ref.message_id, review.id)
    assert any("step to reopen" in t for t in world.texts(PROF)), world.texts(PROF)
    world.dm(PROF, "2 the report is for another course")
    decided = world.review(review.id)
    assert decided.state == "rejected" and decided.stage == "supervisor"
    assert "the report is for another course" in world.texts(ALICE)[-1]
    assert world.fake.messages_to(REVIEWERS) == [], "never posted for the data team"
