"""GrantsAccess for Discord: an entitlement of kind `discord_role` gives or takes a server role.

Through discord.py's HTTP client (PUT / DELETE /guilds/{g}/members/{u}/roles/{r}), on the client's
loop: DiscordAdapter.grant / revoke hop onto it from the worker thread like every send. Both routes
are idempotent on Discord's side (giving a role twice, or removing one the member lacks, is 204).
When Discord refuses (403, code 50013 for both a missing Manage Roles and a role above the bot's),
the server's roles are read to say which, and the DeliveryError tells the admins what to change.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord

from bot.adapters.discord.roles import BotStanding, RoleTarget, role_target
from bot.platform import DeliveryError

log = logging.getLogger(__name__)

UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_ROLE, UNKNOWN_USER = 10004, 10007, 10011, 10013
REASONS = {"grant": "accessbot: access approved", "revoke": "accessbot: access ended"}

Action = Literal["grant", "revoke"]


class RoleGrants:
    """Gives and removes roles with `client` (call `change` on the client's loop)."""

    def __init__(self, client: discord.Client, default_guild: str = "") -> None:
        self.client = client
        self.default_guild = default_guild

    def target(self, target: str) -> RoleTarget:
        try:
            return role_target(target, self.default_guild)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc

    async def change(self, user_id: str, target: RoleTarget, action: Action) -> None:
        http = self.client.http
        guild, role = int(target.guild_id), int(target.role_id)
        where = f"role {target.role_id} in server {target.guild_id}"
        try:
            if action == "grant":
                await http.add_role(guild, int(user_id), role, reason=REASONS[action])
            else:
                await http.remove_role(guild, int(user_id), role, reason=REASONS[action])
        except discord.NotFound as exc:
            if action == "revoke" and exc.code in (UNKNOWN_MEMBER, UNKNOWN_USER):
                log.info("member %s is no longer in server %s: no role to remove", user_id, guild)
                return
            permanent = exc.code not in (UNKNOWN_MEMBER, UNKNOWN_USER)  # they may join the server yet
            raise DeliveryError(_not_found(exc, user_id, target), permanent=permanent) from exc
        except discord.Forbidden as exc:
            why = await self._why_refused(target, exc)
            raise DeliveryError(f"Discord refused to {_verb(action)} {where}: {why}", permanent=True) from exc
        except discord.HTTPException as exc:
            raise DeliveryError(
                f"Discord failed to {_verb(action)} {where}: {exc.status} {exc.text} (code {exc.code})"
            ) from exc
        log.info("%s %s for member %s", "gave" if action == "grant" else "removed", where, user_id)

    async def _why_refused(self, target: RoleTarget, exc: discord.HTTPException) -> str:
        """Which of Discord's two conditions fails, read from the server's roles and the bot's."""
        generic = (
            f"{exc.status} {exc.text} (code {exc.code}). Give the bot Manage Roles and drag its role above"
            f" role {target.role_id} (Server Settings → Roles)"
        )
        me = self.client.user
        if me is None:
            return generic
        try:
            roles = await self.client.http.get_roles(int(target.guild_id))
            member = await self.client.http.get_member(int(target.guild_id), me.id)
        except discord.HTTPException as lookup:
            return f"{generic}; the server's roles could not be read to say which ({lookup.status})"
        standing = BotStanding.of(target.guild_id, list(roles), [str(r) for r in member.get("roles", [])])
        problem = standing.problem(target.role_id)
        if problem is None:
            return generic
        what, fix = problem
        return f"{what}. To fix: {fix}"


def _verb(action: Action) -> str:
    return "give" if action == "grant" else "remove"


def _not_found(exc: discord.HTTPException, user_id: str, target: RoleTarget) -> str:
    if exc.code == UNKNOWN_ROLE:
        return (
            f"role {target.role_id} does not exist in server {target.guild_id}: copy the role's id again"
            " (Server Settings → Roles → … → Copy Role ID) into the entitlement's target in rules.yaml"
        )
    if exc.code in (UNKNOWN_MEMBER, UNKNOWN_USER):
        return (
            f"member {user_id} is not in server {target.guild_id}: ask them to join it (the grant is"
            " tried again)"
        )
    if exc.code == UNKNOWN_GUILD:
        return f"the bot is not in server {target.guild_id}: invite it with the link in docs/discord.md"
    return f"Discord answered 404 {exc.text} (code {exc.code}) for role {target.role_id}"
