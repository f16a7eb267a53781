"""Slack's own ways: answers to a button press or a form are ephemeral (the interaction's
response_url, else chat.postEphemeral), and a DM goes to the channel the person's message came from."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_slack import ALICE, MALLORY, REVIEWER, REVIEWERS, SlackWorld, dm_channel
from tests.test_slack import world as slack_world

world = pytest.fixture(slack_world.__wrapped__, name="world")  # type: ignore[attr-defined]


def press(world: SlackWorld, user: str, ts: str, value: str, **extra: Any) -> Any:
    """A block_actions payload as Slack sends it, with the extras given (response_url, channel)."""
    original = world.signer.interaction

    def with_extra(payload: dict[str, Any]) -> Any:
        payload.update(extra)
        if "channel" in extra:
            payload["container"]["channel_id"] = extra["channel"]["id"]
        return original(payload)

    world.signer.interaction = with_extra  # type: ignore[method-assign]
    try:
        return world.press(user, "approve", ts, value)
    finally:
        world.signer.interaction = original  # type: ignore[method-assign]


def test_a_non_reviewer_press_is_answered_through_the_response_url_only_to_them(world: SlackWorld) -> None:
    review = world.complete_package()
    world.fake.reset()
    press(world, MALLORY, review.posts[-1].message_id, review.id, response_url=world.fake.response_url("m"))
    [answer] = world.fake.responses
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Only the lab's reviewers" in answer["text"]
    assert world.fake.calls_to("chat.postMessage") == [] and world.fake.calls_to("conversations.open") == []
    assert world.review(review.id).state == "pending"


def test_a_reviewer_press_is_acknowledged_ephemerally_and_the_applicant_by_dm(world: SlackWorld) -> None:
    review = world.complete_package()
    press(world, REVIEWER, review.posts[-1].message_id, review.id, response_url=world.fake.response_url("r"))
    assert world.review(review.id).state == "approved"
    assert any(t.startswith("🎉 Your access is approved") for t in world.texts(ALICE))  # the applicant: a DM
    assert world.texts(REVIEWER) == []  # the reviewer's own answers never land in their DM
    assert all(r["response_type"] == "ephemeral" for r in world.fake.responses)


def test_a_response_url_on_another_host_is_never_used(world: SlackWorld) -> None:
    review = world.complete_package()
    press(world, MALLORY, review.posts[-1].message_id, review.id, response_url="https://evil.example.org/x")
    assert world.fake.responses == []
    [ephemeral] = world.fake.calls_to("chat.postEphemeral")
    assert ephemeral.params["channel"] == REVIEWERS and ephemeral.params["user"] == MALLORY


def test_when_the_ephemeral_answer_fails_it_goes_by_dm(world: SlackWorld) -> None:
    review = world.complete_package()
    world.fake.errors["chat.postEphemeral"] = "user_not_in_channel"
    press(world, MALLORY, review.posts[-1].message_id, review.id)
    assert any("Only the lab's reviewers" in t for t in world.texts(MALLORY))


def test_a_press_in_the_dm_is_answered_in_that_dm_without_conversations_open(world: SlackWorld) -> None:
    channel = dm_channel(ALICE)
    press(world, ALICE, "1772440000.999999", "nope", channel={"id": channel, "name": "directmessage"})
    assert world.fake.calls_to("conversations.open") == []
    assert world.fake.calls_to("chat.postEphemeral") == []
    sent = world.fake.calls_to_params("chat.postMessage")
    assert sent and all(m["channel"] == channel for m in sent), sent
