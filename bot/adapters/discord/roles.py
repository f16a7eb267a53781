"""Discord roles as entitlements: where a rules.yaml target points, and why Discord would refuse it.

Discord lets a bot give or take a role only when (1) the bot has Manage Roles (or Administrator) in
the server and (2) the role is strictly below the bot's own highest role, and is not managed by an
integration. It answers 403 "Missing Permissions" (code 50013) for both, without saying which: the
same reasoning here tells the admins which one and what to change, in `doctor` (live, over plain
HTTPS, no discord.py) and when a grant is refused (bot/adapters/discord/grants.py).

The functions read Discord's REST shapes (a role: `id`, `name`, `position`, `permissions`,
`managed`; a member: `roles`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.platform import Check, Environment
from bot.rules import Entitlement, Rules
from bot.setup.http import HTTPFailure, JSONClient

DISCORD_API = "https://discord.com/api/v10"
MANAGE_ROLES = 1 << 28
ADMINISTRATOR = 1 << 3
HIERARCHY_FIX = (
    "Server Settings → Roles: drag the bot's role ({top}) above {role}"
    " (a bot manages only roles below its own)"
)
MANAGE_FIX = (
    "Server Settings → Roles → {top} → Permissions: turn on Manage Roles (or invite the bot again with"
    " the link for roles in docs/discord.md)"
)


@dataclass(frozen=True)
class RoleTarget:
    guild_id: str
    role_id: str


def role_target(target: str, default_guild: str) -> RoleTarget:
    """`GUILD_ID/ROLE_ID`, or a bare role id in DISCORD_GUILD_ID's server. ValueError when neither."""
    guild, _, role = target.strip().rpartition("/")
    guild = guild or default_guild
    if not guild.isdigit() or not role.isdigit():
        raise ValueError(
            f"role {target!r} names no server: write GUILD_ID/ROLE_ID in rules.yaml, or set DISCORD_GUILD_ID"
        )
    return RoleTarget(guild, role)


def role_entitlements(rules: Rules | None) -> list[Entitlement]:
    return [] if rules is None else [e for e in rules.entitlements if e.kind == "discord_role"]


def _name(role: Mapping[str, Any] | None, role_id: str = "") -> str:
    if role is None:
        return role_id
    return f"'{role.get('name') or role.get('id')}' ({role.get('id')})"


@dataclass(frozen=True)
class BotStanding:
    """The bot in one server: its permissions there and its highest role."""

    roles: Mapping[str, Mapping[str, Any]]
    """Every role of the server, by id."""
    permissions: int
    top: Mapping[str, Any] | None
    """The bot's highest role (None: it has only @everyone)."""

    @staticmethod
    def of(guild_id: str, roles: Sequence[Mapping[str, Any]], bot_role_ids: Sequence[str]) -> BotStanding:
        by_id = {str(r.get("id")): r for r in roles}
        mine = [by_id[str(i)] for i in bot_role_ids if str(i) in by_id]
        everyone = by_id.get(guild_id)  # @everyone's id is the server's
        permissions = 0
        for role in [*mine, *([everyone] if everyone is not None else [])]:
            permissions |= int(role.get("permissions") or 0)
        top = max(mine, key=_rank, default=None)
        return BotStanding(by_id, permissions, top)

    @property
    def manages_roles(self) -> bool:
        return bool(self.permissions & (MANAGE_ROLES | ADMINISTRATOR))

    @property
    def top_name(self) -> str:
        return _name(self.top) if self.top is not None else "the bot's role (it has none yet)"

    def problem(self, role_id: str) -> tuple[str, str] | None:
        """(what is wrong, how to fix it) for giving `role_id`, or None when Discord would allow it."""
        role = self.roles.get(role_id)
        if role is None:
            return (
                f"role {role_id} is not a role of this server",
                "copy the role's id again (Server Settings → Roles → … → Copy Role ID) into rules.yaml",
            )
        if role.get("managed"):
            return (
                f"role {_name(role)} is managed by an integration: nobody can give it",
                "pick a role you created yourself in rules.yaml",
            )
        if not self.manages_roles:
            return (
                "the bot lacks the Manage Roles permission in this server",
                MANAGE_FIX.format(top=self.top_name),
            )
        if self.top is None or _rank(role) >= _rank(self.top):
            return (
                f"role {_name(role)} is not below the bot's highest role, {self.top_name}",
                HIERARCHY_FIX.format(top=self.top_name, role=_name(role)),
            )
        return None


def _rank(role: Mapping[str, Any]) -> tuple[int, int]:
    """Discord's order: by position; of two at one position, the older (smaller id) is higher."""
    return int(role.get("position") or 0), -int(role.get("id") or 0)


# -- doctor: live, over plain HTTPS ------------------------------------------------------------------


def live_checks(
    env: Environment, rules: Rules | None, token: str, api_url: str = DISCORD_API
) -> Iterator[Check]:
    """For each discord_role entitlement: the bot may give it (Manage Roles, below the bot's role)."""
    wanted = role_entitlements(rules)
    if not wanted:
        return
    default_guild = env.get("DISCORD_GUILD_ID")
    targets: list[tuple[Entitlement, RoleTarget]] = []
    for ent in wanted:
        try:
            targets.append((ent, role_target(ent.target, default_guild)))
        except ValueError as exc:
            yield Check.fail(f"entitlement {ent.id}: {exc}", "see docs/rules.md, entitlements")
    if not targets:
        return
    client = JSONClient(api_url, {"Authorization": f"Bot {token}"})
    try:
        me = client.request("GET", "/users/@me").body or {}
    except HTTPFailure as exc:
        yield Check.warn(
            f"Discord roles not checked: {exc}", "run accessbot doctor again when Discord answers"
        )
        return
    standings: dict[str, BotStanding | Check] = {}
    for ent, target in targets:
        if target.guild_id not in standings:
            standings[target.guild_id] = _standing(client, target.guild_id, str(me.get("id")))
        standing = standings[target.guild_id]
        if isinstance(standing, Check):
            yield Check(standing.status, f"entitlement {ent.id}: {standing.what}", standing.fix)
            continue
        problem = standing.problem(target.role_id)
        if problem is None:
            yield Check.good(
                f"entitlement {ent.id}: the bot may give role {_name(standing.roles[target.role_id])}"
                f" in server {target.guild_id} (Manage Roles, below {standing.top_name})"
            )
        else:
            what, fix = problem
            yield Check.fail(f"entitlement {ent.id} (server {target.guild_id}): {what}", fix)


def _standing(client: JSONClient, guild_id: str, bot_id: str) -> BotStanding | Check:
    try:
        roles = client.request("GET", f"/guilds/{guild_id}/roles").body or []
        member = client.request("GET", f"/guilds/{guild_id}/members/{bot_id}").body or {}
    except HTTPFailure as exc:
        if exc.status in (403, 404):
            return Check.fail(
                f"the bot is not in server {guild_id}, or cannot see it ({exc})",
                "invite the bot to that server (link in docs/discord.md), or fix the target in rules.yaml",
            )
        return Check.warn(f"roles of server {guild_id} not checked: {exc}", "run accessbot doctor again")
    return BotStanding.of(guild_id, roles, [str(r) for r in member.get("roles") or []])
