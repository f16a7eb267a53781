"""Questions asked while waiting ("how long does the review take?", "심사 얼마나 걸려요?"), answered
from rules.yaml's `faq` on any step, for anyone. A question never completes anything."""

from __future__ import annotations

from bot.context import Context
from bot.events import DirectMessage
from bot.intents import Intent
from bot.language.faq import FaqEntry


def faq_answer(ctx: Context, entry: FaqEntry) -> str:
    return entry.answer_in(ctx.lang, ctx.rules.language)


class FaqHandler:
    def match(self, ctx: Context) -> FaqEntry | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text:
            return None
        understood = ctx.understood
        if understood.intent is not Intent.QUESTION or understood.faq is None:
            return None
        return understood.faq.entry

    def handle(self, ctx: Context, found: FaqEntry) -> None:
        ctx.reply(faq_answer(ctx, found))
