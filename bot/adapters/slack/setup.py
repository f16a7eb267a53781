"""What Slack needs before it can serve: its variables, the one token checker, and the live preflight.

`token_checks` is the only place that judges the Slack tokens: `accessbot doctor` prints it (through
SlackPlatform.checks, descriptor.py) and `accessbot run` refuses to start on its failures (serve.py).
Nothing here imports a Slack library at import time: the preflight imports slack_sdk only when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.platform import Check, Environment, Setting
from bot.setup_checks import token_check

if TYPE_CHECKING:
    from slack_sdk import WebClient

BOT_TOKEN, APP_TOKEN, SIGNING_SECRET = "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"
SETTINGS: tuple[Setting, ...] = (
    Setting(BOT_TOKEN, "Slack Bot User OAuth Token (xoxb-…, OAuth & Permissions)", secret=True),
    Setting(APP_TOKEN, "Slack App-Level Token with connections:write (xapp-…), for Socket Mode", secret=True),
    Setting(SIGNING_SECRET, "Slack Signing Secret (Basic Information), for HTTP mode", secret=True),
)

# What the code calls, and the scopes those calls need (kept in step with slack-manifest.yaml).
REQUIRED_SCOPES: tuple[str, ...] = (
    "chat:write",  # chat.postMessage
    "im:history",  # message.im events (DMs)
    "im:write",  # conversations.open (to DM a person first)
    "files:read",  # files.info and downloading url_private_download
    "reactions:read",  # reaction_added / reaction_removed events
    "reactions:write",  # reactions.add (seeding approve/reject on review posts)
    "users:read",  # users.info (names to match on documents)
)
OPTIONAL_SCOPES: dict[str, str] = {
    "users:read.email": "e-mail addresses cannot be matched against documents",
    "groups:history": "reject reasons replied in the private reviewers channel's threads are not seen",
    "channels:history": "files posted in public channels go unnoticed (nobody is told to send privately)",
    "files:write": "files applicants sent (the approval proof) cannot be attached to review posts",
    "groups:write": "entitlements cannot invite members to the private data channel or remove them"
    " (conversations.invite / conversations.kick), and accessbot init cannot create the reviewers channel",
}

SETUP_SCOPES: dict[str, str] = {
    "channels:read": "accessbot init lists public channels (conversations.list)",
    "groups:read": "accessbot init lists the private channels the bot is in (conversations.list)",
}
"""Scopes only `accessbot init` uses; the bot runs without them (slack-manifest.yaml asks for them)."""

# Shapes only, to catch a token pasted into the wrong variable, cut off, or wrapped in quotes.
_BOT_TOKEN = re.compile(r"^xoxb-[0-9A-Za-z-]{20,}$")
_APP_TOKEN = re.compile(r"^xapp-[0-9A-Za-z-]{20,}$")
_SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
CHANNEL_HELP = "the channel id (C… or G…, in the channel's About tab); invite the bot (/invite @accessbot)"
PLACEHOLDER_CHANNEL = "C0REVIEWERS"
"""The example id in the shipped rules.yaml: valid-looking, but nobody's channel."""

_FIXES = {
    BOT_TOKEN: "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions (docs/slack.md)",
    SIGNING_SECRET: "copy the Signing Secret (32 hex characters) from Basic Information → App Credentials",
    APP_TOKEN: "Basic Information → App-Level Tokens: generate one with connections:write (xapp-…)"
    " for Socket Mode, or set SLACK_SIGNING_SECRET and run with --http",
}
"""What to do about each variable, printed under its failed check."""

Mode = Literal["any", "socket", "http"]
"""`any`: doctor, which does not know how run is started; `socket` / `http`: what run was asked for."""


def _prefix(expected: str) -> Callable[[str], str]:
    kinds = {"xoxb-": "a bot token", "xoxp-": "a user token", "xapp-": "an app-level token"}

    def why(value: str) -> str:
        for prefix, kind in kinds.items():
            if value.startswith(prefix) and prefix != expected:
                return f"it is {kind} ({prefix}…), not the {expected}… token"
        if not value.startswith(expected):
            return f"it must start with {expected}"
        return f"{len(value)} characters, expected about 50 (cut off?)"

    return why


def _secret_why(value: str) -> str:
    return "it holds a token" if value.startswith(("xox", "xapp-")) else "not 32 hex characters"


def value_check(name: str, value: str) -> Check:
    """One Slack variable's shape, as `token_checks` judges it (accessbot init asks until it passes)."""
    patterns = {BOT_TOKEN: _BOT_TOKEN, APP_TOKEN: _APP_TOKEN, SIGNING_SECRET: _SIGNING_SECRET}
    whys = {BOT_TOKEN: _prefix("xoxb-"), APP_TOKEN: _prefix("xapp-"), SIGNING_SECRET: _secret_why}
    return token_check(name, value, patterns[name], _FIXES[name], whys[name])


def token_checks(env: Environment, mode: Mode = "any") -> Iterator[Check]:
    """The Slack variables' shapes: the bot token always; the app token (Socket Mode) or the signing
    secret (HTTP mode) as `mode` needs them, and whichever is set anyway."""
    secret, app_token = env.get(SIGNING_SECRET), env.get(APP_TOKEN)
    yield token_check(BOT_TOKEN, env.get(BOT_TOKEN), _BOT_TOKEN, _FIXES[BOT_TOKEN], _prefix("xoxb-"))
    if secret or mode == "http":
        yield token_check(SIGNING_SECRET, secret, _SIGNING_SECRET, _FIXES[SIGNING_SECRET], _secret_why)
    if mode == "socket" and secret and not app_token:
        yield Check.fail(
            "SLACK_APP_TOKEN is not set: Socket Mode needs it (SLACK_SIGNING_SECRET is for HTTP mode)",
            "for HTTP mode start with `accessbot run slack --http --port 3000` (Docker: … accessbot run"
            " slack --http); for Socket Mode add SLACK_APP_TOKEN (xapp-…, Basic Information → App-Level"
            " Tokens, scope connections:write)",
        )
    elif app_token or mode == "socket" or (mode == "any" and not secret):
        yield token_check(APP_TOKEN, app_token, _APP_TOKEN, _FIXES[APP_TOKEN], _prefix("xapp-"))
    elif mode == "any":
        yield Check.warn(
            "Slack HTTP mode only (SLACK_SIGNING_SECRET set, no SLACK_APP_TOKEN)",
            "start with `accessbot run slack --http --port 3000` (`accessbot run` alone uses Socket"
            " Mode); in Docker: docker run … accessbot run slack --http",
        )


# -- live ---------------------------------------------------------------------------------------


@dataclass
class Preflight:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bot_user_id: str = ""


def preflight(client: WebClient) -> Preflight:
    """auth.test and the granted scopes (the x-oauth-scopes header) against what the code uses."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.adapters.slack.errors import header, slack_error

    result = Preflight()
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
            result.errors.append(
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again from "
                "OAuth & Permissions (reinstalling the app issues a new one)."
            )
        else:
            result.errors.append(f"Slack auth.test failed: {code}")
        return result
    except (SlackClientError, OSError) as exc:
        result.errors.append(
            f"cannot reach Slack to check the token ({slack_error(exc)}): check the network."
        )
        return result
    result.bot_user_id = str(response.get("user_id") or "")
    scopes_header = header(response.headers, "x-oauth-scopes")
    if not scopes_header:
        result.warnings.append("Slack did not say which scopes the token has; not checked.")
        return result
    granted = {s.strip() for s in scopes_header.split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if missing:
        result.errors.append(
            f"the bot token lacks the scope(s) {', '.join(missing)}: add them under OAuth & Permissions "
            "→ Bot Token Scopes (or re-create the app from slack-manifest.yaml), reinstall the app, and "
            "copy the new SLACK_BOT_TOKEN."
        )
    for scope, effect in OPTIONAL_SCOPES.items():
        if scope not in granted:
            result.warnings.append(f"the bot token lacks {scope}: {effect}.")
    return result
