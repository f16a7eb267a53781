"""Where am I, what next, help, language, and the friendly fallback."""

from __future__ import annotations

from bot.context import Context
from bot.events import Command, DirectMessage
from bot.intents import Intent
from bot.presenter import checklist_text, next_step_text

_STATUS_INTENTS = (Intent.STATUS, Intent.NEXT, Intent.HELP, Intent.GREETING, Intent.THANKS)


class StatusHandler:
    def match(self, ctx: Context) -> Intent | None:
        if not isinstance(ctx.event, DirectMessage):
            return None
        intent = ctx.understood.intent
        return intent if intent in _STATUS_INTENTS else None

    def handle(self, ctx: Context, found: Intent) -> None:
        if found is Intent.HELP:
            ctx.reply(help_text(ctx))
        elif found is Intent.NEXT:
            ctx.reply(next_step_text(ctx))
        elif found is Intent.THANKS:
            ctx.reply(ctx.t("thanks"))
        elif found is Intent.GREETING:
            ctx.reply(ctx.t("greeting", program=ctx.rules.program.name) + "\n\n" + checklist_text(ctx))
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

    def match(self, ctx: Context) -> Command | None:
        return ctx.event if isinstance(ctx.event, Command) else None

    def handle(self, ctx: Context, found: Command) -> None:
        ctx.reply(help_text(ctx) if found.name == "help" else checklist_text(ctx))


class LanguageHandler:
    def match(self, ctx: Context) -> str | None:
        if not isinstance(ctx.event, DirectMessage) or ctx.understood.intent is not Intent.LANGUAGE:
            return None
        return ctx.understood.language or ""

    def handle(self, ctx: Context, found: str) -> None:
        languages = ctx.rules.languages
        if not found or found not in languages:
            ctx.reply(ctx.t("language.which", languages=", ".join(languages)))
            return
        applicant = ctx.store.update(ctx.applicant().key, lambda a: setattr(a, "lang", found))
        ctx.refresh(applicant)
        ctx.reply(ctx.t("language.switched"))


class FallbackHandler:
    def match(self, ctx: Context) -> DirectMessage | None:
        return ctx.event if isinstance(ctx.event, DirectMessage) else None

    def handle(self, ctx: Context, found: DirectMessage) -> None:
        ctx.applicant()
        ctx.reply(ctx.t("fallback"))  # never silence: even a sticker gets a pointer to help
