"""The home view as commands: Discord's /queue (reviewers) and /stats (admins), answered only to
the person who asked (the adapter answers a Command ephemerally); /status stays SlashCommandHandler's."""

from __future__ import annotations

from bot import home
from bot.context import Context
from bot.events import Command

_ONLY = {"queue": "queue", "stats": "figures"}


class HomeCommandHandler:
    def match(self, ctx: Context) -> str | None:
        event = ctx.event
        return _ONLY.get(event.name) if isinstance(event, Command) else None

    def handle(self, ctx: Context, found: str) -> None:
        ctx.reply(home.gather(ctx.services, ctx.user, buttons=False, only=found).text())
