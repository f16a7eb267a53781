"""revoke, block and the close-out on Slack: the real slack-bolt App with signed requests against the
fake Slack Web API. Approval invites the member to the private data channel (conversations.invite);
a revoke by an admin's DM, with the member named by a mention, removes them (conversations.kick)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.documents import Validator
from tests.conftest import Clock
from tests.test_slack import ADMIN, ALICE, REVIEWER, SlackWorld, slack_rules, slack_world

DATA_CHANNEL = "C0DATA1234"


@pytest.fixture
def world(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[SlackWorld]:
    rules = slack_rules(tmp_path)
    rules.write_text(
        rules.read_text(encoding="utf-8")
        + f"entitlements:\n  - id: data_channel\n    kind: slack_channel\n    target: {DATA_CHANNEL}\n"
        + "access:\n  reviewers_may_revoke: true\n",
        encoding="utf-8",
    )
    channels = {DATA_CHANNEL: {"name": "mimic-data", "is_private": True, "members": []}}
    with slack_world(tmp_path, validator, clock, rules, channels=channels) as created:
        yield created


def _approved(world: SlackWorld) -> None:
    review = world.complete_package()
    world.react(REVIEWER, "white_check_mark", review.posts[0].message_id)
    assert world.fake.channels[DATA_CHANNEL]["members"] == [ALICE]
    assert world.fake.calls_to_params("conversations.invite") == [{"channel": DATA_CHANNEL, "users": ALICE}]


def test_a_revoke_by_mention_kicks_the_member_from_the_data_channel_and_tells_them(
    world: SlackWorld,
) -> None:
    _approved(world)
    assert world.dm(ADMIN, f"revoke <@{ALICE}> left the lab").status == 200
    assert world.fake.calls_to_params("conversations.kick") == [{"channel": DATA_CHANNEL, "user": ALICE}]
    assert world.fake.channels[DATA_CHANNEL]["members"] == []
    assert "revoked by the lab: left the lab" in world.texts(ALICE)[-1]
    assert "is revoked" in world.texts(ADMIN)[-1]
    record = world.bot.store.get(f"slack:{ALICE}")
    assert record is not None and record.access.state == "revoked" and record.access.granted == []
    assert [e.action for e in record.access.history][-2:] == ["revoked", "removed"]


def test_a_reviewer_revokes_when_rules_yaml_allows_and_the_admins_hear_of_it(world: SlackWorld) -> None:
    _approved(world)
    world.dm(REVIEWER, f"revoke <@{ALICE}> shared the data")
    assert world.fake.channels[DATA_CHANNEL]["members"] == []
    assert "shared the data" in world.texts(ADMIN)[-1]
    world.dm(REVIEWER, f"block <@{ALICE}> shared the data")
    assert "not an admin" in world.texts(REVIEWER)[-1]


def test_a_failed_kick_is_reported_kept_and_retried_until_slack_takes_it(world: SlackWorld) -> None:
    _approved(world)
    world.fake.errors["conversations.kick"] = "restricted_action"
    world.dm(ADMIN, f"block <@{ALICE}> shared the data")
    record = world.bot.store.get(f"slack:{ALICE}")
    assert record is not None and record.access.blocked == "shared the data"
    assert world.fake.channels[DATA_CHANNEL]["members"] == [ALICE], "Slack refused"
    assert any("restricted_action" in t for t in world.texts(ADMIN)), world.texts(ADMIN)
    assert len(list(world.bot.store.oplog.undelivered())) == 1, "kept in the outbox"
    del world.fake.errors["conversations.kick"]
    world.clock.advance(seconds=31)
    world.bot.redeliver()
    assert world.fake.channels[DATA_CHANNEL]["members"] == []
    assert not list(world.bot.store.oplog.undelivered())
    assert "went through" in world.texts(ADMIN)[-1]


def test_the_close_out_on_slack_ends_with_the_kick(world: SlackWorld) -> None:
    _approved(world)
    world.dm(ADMIN, f"closeout <@{ALICE}> project ended")
    assert "Please confirm you deleted the MIMIC-CXR files" in world.texts(ALICE)[-1]
    world.dm(ALICE, "아직 안 했어요")
    assert world.fake.calls_to("conversations.kick") == []
    world.dm(ALICE, "I deleted them all")
    assert world.fake.calls_to_params("conversations.kick") == [{"channel": DATA_CHANNEL, "user": ALICE}]
    assert "deleted the MIMIC-CXR files" in world.texts(ADMIN)[-1]
