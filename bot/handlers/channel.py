"""Channel messages: documents posted publicly are refused privately; other chatter is ignored."""

from __future__ import annotations

from bot.core import Context
from bot.events import ChannelMessage


class ChannelFileHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, ChannelMessage) and bool(ctx.event.attachments)

    def handle(self, ctx: Context) -> None:
        # Personal data may already be public: do not read the file, tell the person in private.
        ctx.bot.store.audit(ctx.user.key, "upload.channel_refused")
        ctx.reply(ctx.t("upload.in_channel"))


class ChannelIgnoreHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, ChannelMessage)

    def handle(self, ctx: Context) -> None:
        return None
