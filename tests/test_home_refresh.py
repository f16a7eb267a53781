"""The Slack App Home tab is kept up to date: the real bolt App, signed events, the fake Web API.

A person who opened their tab sees it redrawn (views.publish again, in the background) when their
state changes: a step done in DM, their package decided; a reviewer's tab when the queue changes.
Nobody else's tab is published, a reply never waits for it, and a refused publish is logged."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.adapters.slack.home import HomeTabs
from bot.events import Home, Outgoing, UserRef
from bot.platform import RefreshesHome
from tests.fake_slack import FakeSlack
from tests.test_slack import ALICE, REVIEWER, REVIEWER2, SlackWorld, world  # noqa: F401  (the fixture)


def opened(w: SlackWorld, user: str) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    assert w.signer.event(event).status == 200


def tabs(w: SlackWorld) -> HomeTabs:
    homes = w.adapter.homes
    assert homes is not None
    homes.spacing_s = 0.0  # the pace between background publishes; tested on its own below
    return homes


def published(w: SlackWorld, user: str) -> list[str]:
    """The blocks of every views.publish for `user`, as JSON text, oldest first."""
    out = []
    for call in w.fake.calls_to("views.publish"):
        if call.params["user_id"] == user:
            view = call.params["view"]
            blocks = (json.loads(view) if isinstance(view, str) else view)["blocks"]
            out.append(json.dumps(blocks, ensure_ascii=False))
    return out


def settle(w: SlackWorld) -> None:
    assert tabs(w).idle(10.0), "the App Home redraws did not finish"


def test_the_adapter_offers_refreshes() -> None:
    assert "refresh_home" in RefreshesHome.__dict__
    with FakeSlack() as fake:
        from bot.adapters.slack.outbound import SlackAdapter

        assert isinstance(SlackAdapter(client=WebClient(token=fake.token), token=fake.token), RefreshesHome)


def test_a_step_done_in_dm_redraws_the_opened_tab_with_the_new_checklist(world: SlackWorld) -> None:  # noqa: F811
    tabs(world)
    world.dm(ALICE, "hi")
    opened(world, ALICE)
    [first] = published(world, ALICE)
    assert "👉 1. Create a PhysioNet account" in first
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")  # the username is confirmed: step 1 is done
    settle(world)
    latest = published(world, ALICE)[-1]
    assert "✅ 1. Create a PhysioNet account" in latest and "👉 2." in latest
    # The step's buttons on the tab are the new current step's (block actions route like the DM's).
    assert '"action_id": "accessbot_done"' in latest
    assert len(published(world, ALICE)) <= 3  # "hi" and the question changed nothing shown


def test_nobody_is_published_a_tab_they_never_opened(world: SlackWorld) -> None:  # noqa: F811
    tabs(world)
    world.complete_package()
    settle(world)
    assert world.fake.calls_to("views.publish") == []


def test_the_queue_and_the_decision_redraw_the_reviewer_and_the_applicant(world: SlackWorld) -> None:  # noqa: F811
    tabs(world)
    opened(world, REVIEWER)
    assert "Packages waiting" in published(world, REVIEWER)[-1]
    assert f"<@{ALICE}>" not in published(world, REVIEWER)[-1]
    world.dm(ALICE, "hi")
    opened(world, ALICE)
    review = world.complete_package()
    settle(world)
    assert f"<@{ALICE}>" in published(world, REVIEWER)[-1]  # the package joined the queue
    assert published(world, REVIEWER2) == []  # a reviewer who never opened the tab
    before = len(published(world, ALICE))
    world.press(REVIEWER, "approve", review.posts[0].message_id, review.id)  # on the review post
    settle(world)
    assert f"<@{ALICE}>" not in published(world, REVIEWER)[-1]  # decided: out of the queue
    assert len(published(world, ALICE)) > before
    assert "✅ 8. The lab's team reviews your package" in published(world, ALICE)[-1]


def test_a_refused_publish_is_logged_and_later_ones_still_go(
    world: SlackWorld,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    tabs(world)
    world.dm(ALICE, "hi")
    opened(world, ALICE)
    world.fake.errors["views.publish"] = "not_enabled"
    with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.home"):
        world.dm(ALICE, "alice_kim")
        world.dm(ALICE, "yes")
        settle(world)
    assert "could not publish the App Home of a user: not_enabled" in caplog.text
    del world.fake.errors["views.publish"]
    world.upload(ALICE, world.fake.add_file("FREPORT", world.report()))  # step 2 done
    settle(world)
    assert "✅ 2." in published(world, ALICE)[-1]


# -- HomeTabs on its own: bounded memory, coalescing, pace, never on the caller's thread ------------


class SlowClient(WebClient):
    """views.publish waits for the test's go-ahead (the only Web API call HomeTabs makes)."""

    def __init__(self) -> None:
        super().__init__(token="xoxb-test")
        self.go = threading.Event()
        self.waiting = threading.Event()
        self.published: list[tuple[str, float]] = []
        self.thread_names: list[str] = []

    def views_publish(self, **kwargs: Any) -> Any:
        self.waiting.set()
        self.go.wait(10)
        self.published.append((str(kwargs["user_id"]), time.monotonic()))
        self.thread_names.append(threading.current_thread().name)
        return None


def _draw(user: UserRef) -> Home:
    return Home("Home", (Outgoing(f"checklist of {user.id}"),))


def test_refresh_returns_at_once_and_coalesces_a_burst_per_person() -> None:
    client = SlowClient()
    homes = HomeTabs(client, _draw, lambda key: key == "slack:UREV", spacing_s=0.0)
    for user in ("UA", "UB", "UREV"):
        homes.opened(user)
    homes.refresh(["slack:UA"], queue=False)  # the thread takes UA and waits on the client
    deadline = time.monotonic() + 10
    while not client.waiting.is_set() and time.monotonic() < deadline:
        client.waiting.wait(0.01)
    for _ in range(50):
        homes.refresh(["slack:UA", "slack:UB", "slack:UNEVER"], queue=True)  # never blocks
    client.go.set()
    assert homes.idle(10)
    users = [u for u, _ in client.published]
    assert users.count("UA") == 2 and users.count("UB") == 1 and users.count("UREV") == 1
    assert "UNEVER" not in users  # never opened the tab
    assert set(client.thread_names) == {"slack-home"}
    homes.close()


def test_publishes_are_paced_and_memory_is_bounded() -> None:
    client = SlowClient()
    client.go.set()
    homes = HomeTabs(client, _draw, lambda key: False, spacing_s=0.05, remembered=3)
    for user in ("U1", "U2", "U3", "U4"):
        homes.opened(user)
    homes.refresh([f"slack:U{i}" for i in range(1, 5)], queue=False)
    assert homes.idle(10)
    assert [u for u, _ in client.published] == ["U2", "U3", "U4"]  # U1, the oldest, was forgotten
    times = [t for _, t in client.published]
    assert all(b - a >= 0.045 for a, b in itertools.pairwise(times))
    homes.close()
    homes.refresh(["slack:U4"], queue=False)  # closed: nothing more is drawn
    assert len(client.published) == 3


def test_a_stale_claim_released_by_the_tick_redraws_the_reviewers_tab(world: SlackWorld) -> None:  # noqa: F811
    tabs(world)
    world.dm(ALICE, "hi")
    review = world.complete_package()
    opened(world, REVIEWER)
    world.press(REVIEWER, "claim", review.posts[0].message_id, review.id)
    settle(world)
    assert world.bot.store.review(review.id).claimed_by == f"slack:{REVIEWER}"  # type: ignore[union-attr]
    before = len(published(world, REVIEWER))
    hours = world.bot.rules.claims.stale_after_hours
    assert hours > 0, "the shipped rules release stale claims"
    world.clock.advance(hours=hours + 1)
    world.bot.tick()
    settle(world)
    assert world.bot.store.review(review.id).claimed_by == ""  # type: ignore[union-attr]
    assert len(published(world, REVIEWER)) > before, "the queue changed outside any event: redrawn"
