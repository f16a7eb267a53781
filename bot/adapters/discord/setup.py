"""Discord's settings and offline checks, the invite link's permissions: no discord.py needed here.

`doctor` prints `checks()`; `accessbot run` enforces them, and `serve` refuses to connect with a token
that fails `token_check` (the one token checker, shared by both).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.adapters.discord.roles import DISCORD_API, live_checks, role_entitlements
from bot.platform import Check, Environment, ServeOptions, Setting
from bot.rules import Rules
from bot.setup_checks import people_checks
from bot.setup_checks import token_check as shape_check

NAME = "discord"
TOKEN_VAR = "DISCORD_TOKEN"  # noqa: S105 (the variable's name, not a token)
GUILD_VAR = "DISCORD_GUILD_ID"

SETTINGS = (
    Setting(TOKEN_VAR, "Discord bot token (Developer Portal → Bot → Reset Token)", secret=True),
    Setting(GUILD_VAR, "Optional: the lab server's id, so /status and /help appear there at once"),
)

_TOKEN_SHAPE = re.compile(r"^[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}$")
SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")
PLACEHOLDER_CHANNEL = "100000000000000001"
"""The example reviewers channel of the shipped rules.yaml: valid-looking, but nobody's channel."""
CHANNEL_HELP = "the channel id (Developer Mode on, right-click the channel, Copy Channel ID)"
RESET_HELP = "copy the bot token from the Developer Portal (Bot → Reset Token), without a `Bot ` prefix"

PERMISSIONS: dict[str, int] = {
    "add_reactions": 1 << 6,  # seed ✅ and ❌ under each review post
    "view_channel": 1 << 10,  # see the reviewers channel
    "send_messages": 1 << 11,  # post reviews and decisions
    "embed_links": 1 << 14,  # the review post is an embed
    "attach_files": 1 << 15,  # the approval proof is attached under the review post
    "read_message_history": 1 << 16,  # react to and reply to its own posts
    "use_application_commands": 1 << 31,  # /status, /help
    "send_messages_in_threads": 1 << 38,  # decisions in a thread reviewers started on a post
}
"""Exactly what the bot needs, by discord.Permissions flag name and bit (docs/discord.md lists them)."""
PERMISSIONS_VALUE = sum(PERMISSIONS.values())
ROLE_PERMISSIONS: dict[str, int] = {
    "manage_roles": 1 << 28,  # give and remove the roles of `discord_role` entitlements
}
"""Asked for only when rules.yaml has `discord_role` entitlements (docs/discord.md says why)."""
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int | str, *, roles: bool = False) -> str:
    """The link that adds the bot to a server with exactly PERMISSIONS (and ROLE_PERMISSIONS when the
    rules grant Discord roles) and the two scopes."""
    value = PERMISSIONS_VALUE + (sum(ROLE_PERMISSIONS.values()) if roles else 0)
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope={'+'.join(SCOPES)}&permissions={value}"
    )


def token_check(env: Environment) -> Check:
    """DISCORD_TOKEN's shape: set, unquoted, no `Bot ` prefix, three dot-separated parts."""
    return shape_check(
        TOKEN_VAR,
        env.get(TOKEN_VAR),
        _TOKEN_SHAPE,
        RESET_HELP,
        lambda v: (
            "remove the `Bot ` prefix" if v.lower().startswith("bot ") else "not three dot-separated parts"
        ),
    )


def guild_check(env: Environment) -> Check:
    guild = env.get(GUILD_VAR)
    if guild and not SNOWFLAKE.match(guild):
        return Check.fail(
            f"{GUILD_VAR} is {guild!r}, not a server id",
            "Developer Mode on, right-click the server, Copy Server ID (digits only); or leave it empty",
        )
    if not guild:
        return Check.warn(
            f"{GUILD_VAR} is not set: /status and /help are registered globally only",
            "set it to the lab server's id so the commands appear there at once (docs/discord.md)",
        )
    return Check.good(f"{GUILD_VAR} is a server id")


def guild_id(env: Environment) -> int | None:
    """The lab server's id, when DISCORD_GUILD_ID holds one."""
    guild = env.get(GUILD_VAR)
    return int(guild) if SNOWFLAKE.match(guild) else None


def checks(
    env: Environment, rules: Rules | None, options: ServeOptions, *, api_url: str = DISCORD_API
) -> Iterator[Check]:
    """Offline checks; with discord_role entitlements and a token, the roles are checked live too."""
    token = token_check(env)
    yield token
    yield guild_check(env)
    if role_entitlements(rules):
        if token.ok:
            yield from live_checks(env, rules, env.get(TOKEN_VAR), api_url)
        else:
            yield Check.warn("Discord roles not checked: the token is not set or malformed", token.fix)
    if rules is not None:
        yield from people_checks(
            rules,
            NAME,
            options.rules_path,
            channel_pattern=SNOWFLAKE,
            channel_help=CHANNEL_HELP,
            placeholder=PLACEHOLDER_CHANNEL,
        )
