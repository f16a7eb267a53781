"""Where am I, what next, help, language, and the friendly fallback."""

from __future__ import annotations

from bot.core import Context
from bot.events import Command, DirectMessage
from bot.intents import Intent, understand
from bot.presenter import checklist_text, next_step_text


class StatusHandler:
    def accepts(self, ctx: Context) -> bool:
        if not isinstance(ctx.event, DirectMessage):
            return False
        return understand(ctx.text).intent in (
            Intent.STATUS,
            Intent.NEXT,
            Intent.HELP,
            Intent.GREETING,
            Intent.THANKS,
        )

    def handle(self, ctx: Context) -> None:
        intent = understand(ctx.text).intent
        if intent is Intent.HELP:
            ctx.reply(help_text(ctx))
        elif intent is Intent.NEXT:
            ctx.reply(next_step_text(ctx))
        elif intent is Intent.THANKS:
            ctx.reply(ctx.t("thanks"))
        elif intent is Intent.GREETING:
            ctx.reply(
                ctx.t("greeting", program=ctx.rules.program.name.get(ctx.lang)) + "\n\n" + checklist_text(ctx)
            )
        else:
            ctx.reply(checklist_text(ctx))


def help_text(ctx: Context) -> str:
    role = ""
    if ctx.rules.is_admin(ctx.user.key):
        role = "\n\n" + ctx.t("help.admin")
    elif ctx.rules.is_reviewer(ctx.user.key):
        role = "\n\n" + ctx.t("help.reviewer")
    contact = ctx.rules.program.contact
    return ctx.t("help.applicant", contact=contact or "-") + role


class SlashCommandHandler:
    """Discord's /status and /help (and any platform's commands) behave like the same words in DM."""

    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, Command)

    def handle(self, ctx: Context) -> None:
        assert isinstance(ctx.event, Command)
        if ctx.event.name == "help":
            ctx.reply(help_text(ctx))
        else:
            ctx.reply(checklist_text(ctx))


class LanguageHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, DirectMessage) and understand(ctx.text).intent is Intent.LANGUAGE

    def handle(self, ctx: Context) -> None:
        wanted = understand(ctx.text).language
        languages = ctx.rules.languages
        if wanted is None or wanted not in languages:
            ctx.reply(ctx.t("language.which", languages=", ".join(languages)))
            return
        applicant = ctx.bot.store.update(ctx.applicant().key, lambda a: setattr(a, "lang", wanted))
        ctx.refresh(applicant)
        ctx.reply(ctx.t("language.switched"))


class FallbackHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, DirectMessage)

    def handle(self, ctx: Context) -> None:
        ctx.applicant()
        ctx.reply(ctx.t("fallback"))  # never silence: even a sticker gets a pointer to help
