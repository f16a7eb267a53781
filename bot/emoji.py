"""One name for each emoji: Slack short names, Discord unicode characters and skin tones all compare equal."""

from __future__ import annotations

import re

_ALIASES = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "ballot_box_with_check": "☑",
    "check": "✔",
    "x": "❌",
    "cross_mark": "❌",
    "negative_squared_cross_mark": "❎",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "eyes": "👀",
    "leftwards_arrow_with_hook": "↩",
}
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\ufe0e]")


def canonical(emoji: str) -> str:
    """`:white_check_mark::skin-tone-2:`, `white_check_mark` and `✅` all become `✅`."""
    name = emoji.strip().strip(":")
    name = name.split("::", 1)[0]
    name = _MODIFIERS.sub("", name)
    return _ALIASES.get(name.lower(), name)


def short_name(emoji: str) -> str:
    """The Slack short name for a canonical emoji (for seeding reactions), or the input."""
    char = canonical(emoji)
    for name, value in _ALIASES.items():
        if value == char:
            return name
    return emoji.strip(":")


def matches(emoji: str, accepted: tuple[str, ...]) -> bool:
    return canonical(emoji) in {canonical(a) for a in accepted}
