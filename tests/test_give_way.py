"""Background passes give way to the people being answered (bot/give_way.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bot import give_way
from bot.application import Application
from bot.events import DirectMessage, UserRef
from bot.give_way import Foreground
from tests.journey import Driver


def test_a_pass_pauses_only_while_someone_is_being_served() -> None:
    foreground = Foreground()
    assert list(foreground.give_way(range(64))) == list(range(64))
    assert foreground.pauses == 0
    with foreground.serving():
        assert foreground.busy
        assert list(foreground.give_way(range(64))) == list(range(64))
    assert foreground.pauses == 4 and not foreground.busy


def test_a_pass_keeps_a_twentieth_of_the_cpu_while_someone_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = [0.0]  # this thread's CPU time, moved by the items below
    slept: list[float] = []
    monkeypatch.setattr(time, "thread_time", lambda: cpu[0])
    monkeypatch.setattr(time, "sleep", slept.append)

    def items(cost: float, n: int) -> Iterator[int]:
        for i in range(n):
            cpu[0] += cost
            yield i

    foreground = Foreground()
    with foreground.serving():
        list(foreground.give_way(items(0.0001, 64)))  # 16 cheap items: 1.6 ms of work per look
        assert slept == pytest.approx([0.0016 * 19] * 4)
        slept.clear()
        list(foreground.give_way(items(0.001, 32)))  # 16 ms per look: the pause is capped
        assert slept == [give_way.MAX_PAUSE_S] * 2
        slept.clear()
        list(foreground.give_way(items(0.0, 32)))  # free items: the shortest pause still lets go
        assert slept == [give_way.PAUSE_S] * 2
        slept.clear()
    list(foreground.give_way(items(0.001, 32)))
    assert slept == [], "nobody being served: no pause"


def test_a_stop_waits_for_the_events_in_hand() -> None:
    foreground = Foreground()
    done = threading.Event()

    def serve() -> None:
        with foreground.serving():
            done.wait(5)

    worker = threading.Thread(target=serve)
    worker.start()
    time.sleep(0.05)
    assert foreground.wait_idle(0.05) is False
    done.set()
    assert foreground.wait_idle(5) is True
    worker.join()


def test_the_start_up_repair_gives_way_while_a_message_is_handled(bot: Application) -> None:
    driver = Driver(bot)
    for n in range(40):
        driver.as_(f"p{n}").say("hi")
    foreground = bot.services.foreground
    with foreground.serving():  # a message in hand while the repair reads everyone
        assert bot.repair() == 0
    assert foreground.pauses >= 2
    before = foreground.pauses
    assert bot.repair() == 0
    assert foreground.pauses == before, "nobody waiting: full speed"
    bot.dispatch(DirectMessage(event_id="", user=UserRef("console", "p1"), text="status"))
    assert foreground.wait_idle(1)
