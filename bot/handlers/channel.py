"""Channel messages: documents posted publicly are refused privately; other chatter is ignored."""

from __future__ import annotations

from bot.context import Context
from bot.events import ChannelMessage


class ChannelFileHandler:
    def match(self, ctx: Context) -> ChannelMessage | None:
        event = ctx.event
        return event if isinstance(event, ChannelMessage) and event.attachments else None

    def handle(self, ctx: Context, found: ChannelMessage) -> None:
        # Personal data may already be public: do not read the file, tell the person in private.
        ctx.store.audit(ctx.user.key, "upload.channel_refused")
        ctx.reply(ctx.t("upload.in_channel"))


class ChannelIgnoreHandler:
    def match(self, ctx: Context) -> ChannelMessage | None:
        return ctx.event if isinstance(ctx.event, ChannelMessage) else None

    def handle(self, ctx: Context, found: ChannelMessage) -> None:
        return None
