"""The home view as commands: Discord's /queue (reviewers) and /stats (admins), answered only to
the person who asked (the adapter answers a Command ephemerally); /status stays SlashCommandHandler's.

Where the platform has buttons, /queue answers one message per package with its REVIEW_ACTIONS
(bot/home.py): pressing one is the same ButtonPress as on the review post, handled the same way."""

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
        buttons = found == "queue" and ctx.adapter.capabilities.buttons
        view = home.gather(ctx.services, ctx.user, buttons=buttons, only=found)
        if not any(section.buttons for section in view.sections):
            ctx.reply(view.text())
            return
        first, *packages = view.sections  # the queue's heading, then each package with its buttons
        ctx.reply(f"{view.title}\n\n" + (f"{first.title}\n" if first.title else "") + first.text)
        for package in packages:
            ctx.reply(package)
