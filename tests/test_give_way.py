"""Background passes give way to the people being answered (bot/give_way.py)."""

from __future__ import annotations

import threading
import time

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
