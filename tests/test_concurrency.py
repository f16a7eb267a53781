"""Adapters dispatch from several threads: decisions happen once, nobody waits on someone else's PDF."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.application import Application
from bot.events import DirectMessage, MessageRef, ReactionAdded, UserRef
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents


def _run_together(*actions: object) -> None:
    start = threading.Barrier(len(actions))

    def runner(action: object) -> None:
        start.wait()
        action()  # type: ignore[operator]

    threads = [threading.Thread(target=runner, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


def test_simultaneous_approvals_decide_once(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    post = driver.console.last_post("reviewers")
    assert post is not None
    ref = MessageRef(post.ref.platform, post.ref.channel, post.ref.message_id)

    real_update = bot.store.update_review

    def slow_update(review_id: str, change: object) -> object:  # widen the check-then-act window
        result = real_update(review_id, change)  # type: ignore[arg-type]
        time.sleep(0.05)
        return result

    bot.store.update_review = slow_update  # type: ignore[assignment, method-assign]

    def approve(name: str) -> object:
        user = UserRef("console", name)
        return lambda: bot.dispatch(ReactionAdded(event_id=f"r-{name}", user=user, message=ref, emoji="✅"))

    _run_together(approve("reviewer"), approve("reviewer2"))
    approvals = [t for t in driver.dm_texts("alice") if t.startswith("🎉")]
    assert len(approvals) == 1
    reviews = [r for r in bot.store.reviews() if r.applicant == "console:alice"]
    assert len(reviews) == 1 and reviews[0].state == "approved" and len(reviews[0].decided_by) == 1


def test_one_slow_event_does_not_block_other_people(bot: Application) -> None:
    driver = Driver(bot)
    slow_started = threading.Event()
    real_validate = bot.services.validator.validate

    class SlowHandler:
        def match(self, ctx: object) -> bool | None:
            return getattr(getattr(ctx, "user", None), "id", "") == "slowpoke" or None

        def handle(self, ctx: object, found: bool) -> None:
            slow_started.set()
            time.sleep(1.0)

    bot.handlers.insert(0, SlowHandler())
    slow = threading.Thread(
        target=bot.dispatch,
        args=(DirectMessage(event_id="s1", user=UserRef("console", "slowpoke"), text="hi"),),
    )
    slow.start()
    assert slow_started.wait(5)
    began = time.monotonic()
    bot.dispatch(DirectMessage(event_id="f1", user=UserRef("console", "alice"), text="status"))
    assert time.monotonic() - began < 0.5  # answered while the slow event is still running
    assert driver.dm_texts("alice")
    slow.join()
    assert bot.services.validator.validate == real_validate


def test_one_persons_events_stay_in_order(bot: Application) -> None:
    driver = Driver(bot)
    user = UserRef("console", "alice")
    driver.say("alice_kim")  # the bot asks to confirm the username
    before = len(driver.dm_texts("alice"))
    events = [DirectMessage(event_id=f"o{i}", user=user, text=t) for i, t in enumerate(["yes", "status"])]
    _run_together(*(lambda e=e: bot.dispatch(e) for e in events))
    applicant = bot.store.get("console:alice")
    assert applicant is not None and applicant.is_done("physionet_account")
    assert len(driver.dm_texts("alice")) == before + 2
