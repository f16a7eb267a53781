"""The App Home tab: the core's neutral Home (bot/home.py) drawn as a Block Kit `home` view and
published with views.publish when the person opens the tab (`app_home_opened`), again after a
button pressed on the tab (approve, claim, a step's "done"), and whenever their state changes
(`HomeTabs.refresh`, from the Application's RefreshesHome call: a step done in DM, a decision on
their package, a package joining or leaving a reviewer's queue).

Buttons on the tab are ordinary block actions (`accessbot_<action>`, the value a step or review id):
bolt routes them to the same listener as the review post's buttons (Inbound.on_action).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.blocks import clip, render_blocks
from bot.events import Home, UserRef

log = logging.getLogger(__name__)

MAX_BLOCKS = 100
"""Slack's limit for a view."""
REMEMBERED = 5000
"""People whose opened tab is kept up to date (the least recently opened are forgotten beyond this:
their tab is drawn afresh the next time they open it anyway)."""
SPACING_S = 0.7
"""Between two background views.publish calls: Slack's Tier 4 allows about 100 a minute per
workspace; a 429 is waited out by the client's retry handler besides."""
PLATFORM = "slack"


def home_view(home: Home) -> dict[str, Any]:
    """The Block Kit `home` view: a header, then each section (divided), buttons included."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(home.title, 150), "emoji": True}}
    ]
    for number, section in enumerate(home.sections):
        if number:
            blocks.append({"type": "divider"})
        for block in render_blocks(section):
            if block.get("type") == "actions":  # block ids must be unique within a view
                block = {**block, "block_id": f"accessbot_actions_{number}"}
            blocks.append(block)
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def publish(client: WebClient, user_id: str, home: Home) -> bool:
    """Publish the person's home tab; False (logged) when Slack refuses it."""
    try:
        client.views_publish(user_id=user_id, view=home_view(home))
    except SlackApiError as exc:
        log.warning("could not publish the App Home of a user: %s", exc.response.get("error", exc))
        return False
    return True


class HomeTabs:
    """Who opened their App Home tab (in memory, bounded), and redrawing those tabs in one background
    thread: a person waiting is redrawn once with their latest state however often it changed
    meanwhile, one views.publish every `spacing_s` at most, never on the caller's thread."""

    def __init__(
        self,
        client: WebClient,
        draw: Callable[[UserRef], Home],
        is_reviewer: Callable[[str], bool],
        *,
        remembered: int = REMEMBERED,
        spacing_s: float = SPACING_S,
    ) -> None:
        self.client = client
        self.draw = draw
        self.is_reviewer = is_reviewer
        self.remembered = remembered
        self.spacing_s = spacing_s
        self._opened: OrderedDict[str, None] = OrderedDict()
        self._due: OrderedDict[str, None] = OrderedDict()
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def opened(self, user_id: str) -> None:
        """The person opened the tab (drawn by the caller): keep it up to date from now on."""
        with self._cond:
            self._opened[user_id] = None
            self._opened.move_to_end(user_id)
            while len(self._opened) > self.remembered:
                self._opened.popitem(last=False)

    def show(self, user_id: str) -> bool:
        """Draw and publish the person's tab now, on this thread (they just opened it or pressed on it)."""
        self.opened(user_id)
        with self._cond:
            self._due.pop(user_id, None)  # a redraw waiting for them would show the same
        return self._publish(user_id)

    def refresh(self, users: Sequence[str], *, queue: bool) -> None:
        """Redraw, in the background, the tabs of `users` (keys `slack:U…`) and with `queue` every
        reviewer's, among the people who opened theirs. Returns at once."""
        with self._cond:
            if self._closed:
                return
            wanted = [k.partition(":")[2] for k in users if k.startswith(PLATFORM + ":")]
            due = [u for u in wanted if u in self._opened]
            if queue:
                due += [u for u in self._opened if self.is_reviewer(f"{PLATFORM}:{u}")]
            for user_id in due:
                self._due[user_id] = None
            if not due:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="slack-home", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no tab waits to be redrawn (tests; shutting down)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._due and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Draw nothing more; wait (at most `timeout`) for a publish under way. Never blocks on the
        thread itself (the Stopper may call this from anywhere)."""
        with self._cond:
            self._closed = True
            self._due.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._due) or self._closed)
                if self._closed:
                    return
                user_id, _ = self._due.popitem(last=False)
                self._busy = True
            try:
                self._publish(user_id)
            except Exception:  # the thread must outlive any one failure
                log.exception("redrawing an App Home tab failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            if self.spacing_s:
                with self._cond:  # the pause ends early when closing
                    self._cond.wait_for(lambda: self._closed, self.spacing_s)

    def _publish(self, user_id: str) -> bool:
        try:
            view = self.draw(UserRef(PLATFORM, user_id))
        except Exception:
            log.exception("could not draw the App Home")
            return False
        return publish(self.client, user_id, view)
