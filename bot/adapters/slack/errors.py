"""Slack Web API errors as the core's DeliveryError, with the hint that fixes the common ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.platform import DeliveryError

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",
        "messages_tab_disabled",
        "restricted_action",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "ekm_access_denied",
    }
)
"""Error codes that retrying will not fix (the core tells the admins instead of trying again)."""

_HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @accessbot)",
    "channel_not_found": "check the channel id in rules.yaml and that the bot was invited to it",
    "missing_scope": "add the scope in the app settings (see slack-manifest.yaml) and reinstall the app",
    "invalid_auth": "SLACK_BOT_TOKEN is wrong or revoked",
    "is_archived": "the channel is archived",
    "cannot_dm_bot": "that user is a bot",
}


def slack_error(exc: Exception) -> str:
    """Slack's error code (`not_in_channel`), or the exception's type and text for network trouble."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return f"{type(exc).__name__}: {exc}"


def delivery_error(doing: str, exc: Exception) -> DeliveryError:
    code = slack_error(exc)
    hint = _HINTS.get(code)
    text = f"Slack {doing} failed: {code}" + (f" ({hint})" if hint else "")
    return DeliveryError(text, permanent=code in PERMANENT_ERRORS)


def header(headers: Mapping[str, Any], name: str) -> str:
    """A response header by its lower-case name (slack_sdk keeps the server's spelling)."""
    for key, value in headers.items():
        if key.lower() == name:
            return ", ".join(value) if isinstance(value, list) else str(value)
    return ""
