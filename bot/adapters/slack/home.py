"""The App Home tab: the core's neutral Home (bot/home.py) drawn as a Block Kit `home` view and
published with views.publish when the person opens the tab (`app_home_opened`), and again after a
button pressed on the tab (approve, claim, a step's "done"), so it shows the new state."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.blocks import clip, render_blocks
from bot.events import Home

log = logging.getLogger(__name__)

MAX_BLOCKS = 100
"""Slack's limit for a view."""


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
