"""`accessbot init` for Discord: the token checked live (GET /users/@me), the invite link with exactly
the permissions the code needs, the lab's server and its reviewers channel picked by name, reviewers
and admins found by name among the server's members (the application's owner by default).

Plain HTTPS to the REST API (bot/setup/http.py): no discord.py is loaded to set up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.adapters.discord.setup import GUILD_VAR, SNOWFLAKE, TOKEN_VAR, invite_url, token_check
from bot.platform import Environment
from bot.setup.ask import SetupError
from bot.setup.contract import PlatformSetup, SetupInput
from bot.setup.http import HTTPFailure, JSONClient

DISCORD_API = "https://discord.com/api/v10"
PORTAL = "https://discord.com/developers/applications"
VIEW_CHANNEL = 1 << 10
PUBLIC_WARNING = "review posts show applicants' documents; a private channel is safer"
TEXT_CHANNEL = 0


class DiscordRefused(Exception):
    def __init__(self, what: str, status: int, body: Any) -> None:
        detail = body.get("message") if isinstance(body, dict) else ""
        code = body.get("code") if isinstance(body, dict) else None
        super().__init__(
            f"Discord refused {what}: HTTP {status}" + (f" {detail} (code {code})" if detail else "")
        )
        self.status = status


@dataclass
class DiscordAPI:
    token: str
    base_url: str = DISCORD_API

    def get(self, path: str, **query: str) -> Any:
        client = JSONClient(self.base_url, {"Authorization": f"Bot {self.token}"})
        try:
            return client.request("GET", path, query=query or None).body
        except HTTPFailure as exc:
            if exc.status:
                raise DiscordRefused(path, exc.status, exc.body) from None
            raise SetupError(str(exc)) from None


@dataclass
class Conversation:
    setup: SetupInput
    api: DiscordAPI = field(init=False)
    application: dict[str, Any] = field(default_factory=dict)
    guild: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def token(self) -> str:
        say = self.setup.ask.say
        say("Discord, step 1: the application and its bot.")
        say(f"  {PORTAL} -> New Application (name it accessbot) -> Bot -> Reset Token, and copy it.")
        say("  No privileged intent is needed (leave Message Content and Server Members off).")

        def check(value: str) -> str:
            shape = token_check(Environment({TOKEN_VAR: value}))
            if not shape.ok:
                raise ValueError(f"{shape.what}: {shape.fix}")
            api = DiscordAPI(value, self.setup.api_url or DISCORD_API)
            try:
                me = api.get("/users/@me")
                self.application = api.get("/oauth2/applications/@me") or {}
            except DiscordRefused as exc:
                raise ValueError(
                    f"{exc}: reset the token in the Developer Portal and paste the new one"
                ) from None
            self.api = api
            say(f"  ✓ the bot {me.get('username')} (application {self.application.get('name') or '?'})")
            return value

        default = self.setup.answer("discord_token") or self.setup.env.get(TOKEN_VAR)
        return self.setup.ask.until("Bot token:", default, check, flag="--discord-token", secret=True)

    def server(self) -> str:
        ask = self.setup.ask
        app_id = str(self.application.get("id") or "")
        ask.say(
            "Discord, step 2: add the bot to the lab's server with this link (the exact permissions it uses):"
        )
        ask.say(f"  {invite_url(app_id)}")
        while True:
            guilds = self.api.get("/users/@me/guilds") or []
            if guilds or ask.yes:
                break
            ask.ask("The bot is in no server yet: open the link above, add it, then press Enter", "ok")
        if not guilds:
            raise SetupError(
                "the bot is in no server: open the invite link above, add the bot, and run init again"
            )
        given = self.setup.answer("guild") or self.setup.env.get(GUILD_VAR)
        default = next((i for i, g in enumerate(guilds) if given in (str(g.get("id")), g.get("name"))), 0)
        picked = ask.pick("The lab's server:", [str(g.get("name")) for g in guilds], default, flag="--guild")
        self.guild = self.api.get(f"/guilds/{guilds[picked]['id']}") or guilds[picked]
        return str(guilds[picked]["id"])

    def channel(self) -> str:
        ask = self.setup.ask
        guild_id = str(self.guild.get("id"))
        found = [
            c for c in self.api.get(f"/guilds/{guild_id}/channels") or [] if c.get("type") == TEXT_CHANNEL
        ]
        found.sort(key=lambda c: (not _private(c, guild_id), c.get("position", 0)))
        if not found:
            raise SetupError(
                "the bot sees no text channel: create a private one, add the bot to it, and run init again"
            )
        given = self.setup.answer("channel").lstrip("#") or self.setup.current_channel("discord")
        default = next((i for i, c in enumerate(found) if given in (str(c["id"]), c.get("name"))), None)
        if default is None:
            default = next(
                (i for i, c in enumerate(found) if _private(c, guild_id) and "review" in str(c.get("name"))),
                0,
            )
        labels = [f"#{c.get('name')} ({'private' if _private(c, guild_id) else 'public'})" for c in found]
        ask.say("Discord, step 3: the private channel where reviewers get the packages.")
        ask.say(
            "  (To make a new one: Create Channel -> Private Channel, add the reviewers and the bot's role.)"
        )
        picked = found[ask.pick("Reviewers channel (number or name):", labels, default, flag="--channel")]
        if not _private(picked, guild_id):
            ask.say(f"  ! #{picked.get('name')} is public: {PUBLIC_WARNING}")
        return str(picked["id"])

    def owner(self) -> str:
        team = self.application.get("team") or {}
        return str(team.get("owner_user_id") or (self.application.get("owner") or {}).get("id") or "")

    def person(self, wanted: str) -> tuple[str, str]:
        """(id, label) of the server member `wanted` names: @name, display name, or a user id."""
        guild_id = str(self.guild.get("id"))
        text = wanted.strip().removeprefix("<@").removesuffix(">").lstrip("!")
        if SNOWFLAKE.match(text):
            try:
                return text, _label(self.api.get(f"/guilds/{guild_id}/members/{text}"))
            except DiscordRefused:
                raise ValueError(f"{text} is not a member of {self.guild.get('name')}") from None
        name = text.lstrip("@")
        try:
            found = self.api.get(f"/guilds/{guild_id}/members/search", query=name, limit="10") or []
        except DiscordRefused as exc:
            raise ValueError(
                f"cannot search the server's members ({exc}); right-click the person -> Copy User ID"
                " (Developer Mode on) and give the id"
            ) from None
        exact = [m for m in found if name.lower() in _names(m)]
        matches = exact or found
        if len(matches) == 1:
            return str(matches[0]["user"]["id"]), _label(matches[0])
        if not matches:
            raise ValueError(f"nobody in {self.guild.get('name')} is called {name}")
        raise ValueError(
            f"{name} could be {', '.join(_label(m) for m in matches[:5])}: write more of the name"
        )

    def people(self, kind: str, defaults: list[str], flag: str) -> list[str]:
        ask = self.setup.ask

        def parse(answer: str) -> list[str]:
            found = [self.person(part) for part in answer.split(",") if part.strip()]
            if not found:
                raise ValueError("name at least one person")
            ask.say("  ✓ " + ", ".join(label for _, label in found))
            return list(dict.fromkeys(user_id for user_id, _ in found))

        default = self.setup.answer(kind) or ", ".join(defaults)
        return ask.until(f"{kind.title()} (names or ids, separated by commas):", default, parse, flag=flag)


def _private(channel: dict[str, Any], guild_id: str) -> bool:
    """@everyone (the role whose id is the server's) may not view it."""
    for overwrite in channel.get("permission_overwrites") or []:
        if str(overwrite.get("id")) == guild_id and int(overwrite.get("deny") or 0) & VIEW_CHANNEL:
            return True
    return False


def _names(member: dict[str, Any]) -> set[str]:
    user = member.get("user") or {}
    return {str(v).lower() for v in (member.get("nick"), user.get("username"), user.get("global_name")) if v}


def _label(member: dict[str, Any]) -> str:
    user = member.get("user") or {}
    shown = member.get("nick") or user.get("global_name")
    return f"@{user.get('username') or user.get('id')}" + (f" ({shown})" if shown else "")


def converse(setup: SetupInput) -> PlatformSetup:
    """The whole Discord conversation (bot/setup/contract.py)."""
    talk = Conversation(setup)
    token = talk.token()
    guild = talk.server()
    channel = talk.channel()
    setup.ask.say("Discord, step 4: who reviews, who administers.")
    owner = [talk.owner()] if talk.owner() else []
    reviewers = talk.people("reviewers", setup.current("reviewers", "discord") or owner, "--reviewers")
    admins = talk.people("admins", setup.current("admins", "discord") or owner or reviewers[:1], "--admins")
    return PlatformSetup(
        env={TOKEN_VAR: token, GUILD_VAR: guild},
        channel=channel,
        reviewers=reviewers,
        admins=admins,
        next_steps=talk.notes,
    )
