"""Where am I, what next, help (each role its own), language, and the friendly fallback."""

from __future__ import annotations

from bot.context import Context
from bot.events import Command, DirectMessage
from bot.intents import Intent
from bot.presenter import checklist_message, checklist_text, next_step_message
from bot.workflow import current_step, last_done

_STATUS_INTENTS = (Intent.STATUS, Intent.NEXT, Intent.HELP, Intent.GREETING, Intent.THANKS)
_MAX_OPTIONS = 3


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
            ctx.reply(next_step_message(ctx))
        elif found is Intent.THANKS:
            ctx.reply(ctx.t("thanks"))
        elif found is Intent.GREETING:
            ctx.reply(checklist_message(ctx, ctx.t("greeting", program=ctx.rules.program.name)))
        else:
            ctx.reply(checklist_message(ctx))


def help_text(ctx: Context) -> str:
    """The help for the sender's role: applicants, reviewers and admins each get their own."""
    contact = ctx.rules.program.contact or "-"
    admin = ctx.rules.is_admin(ctx.user.key)
    reviewer = ctx.rules.is_reviewer(ctx.user.key)
    parts = [] if ctx.staff_only else [ctx.t("help.applicant", contact=contact), ctx.t("help.questions")]
    if reviewer:
        parts.append(ctx.t("help.reviewer"))
    if admin:
        parts.append(ctx.t("help.admin"))
    if ctx.staff_only:
        parts.append(ctx.t("help.staff_apply"))
    return "\n\n".join(p.strip() for p in parts)


class SlashCommandHandler:
    """Discord's /status and /help (and any platform's commands) behave like the same words in DM."""

    def match(self, ctx: Context) -> Command | None:
        return ctx.event if isinstance(ctx.event, Command) else None

    def handle(self, ctx: Context, found: Command) -> None:
        if found.name == "help" or ctx.staff_only:
            ctx.reply(help_text(ctx))
        else:
            ctx.reply(checklist_text(ctx))  # an answer only the person sees: no buttons on it


class LanguageHandler:
    """ "한국어로", "in English please", "I don't speak Korean": the reply is already in the language
    asked for (Context.language), and it is kept on the person's record."""

    def match(self, ctx: Context) -> str | None:
        if not isinstance(ctx.event, DirectMessage) or ctx.understood.intent is not Intent.LANGUAGE:
            return None
        return ctx.understood.language or ""

    def handle(self, ctx: Context, found: str) -> None:
        languages = ctx.rules.languages
        if not found or found not in languages:
            ctx.reply(ctx.t("language.which", languages=", ".join(languages)))
            return
        if not ctx.staff_only:
            ctx.applicant()
        ctx.reply(ctx.t("language.switched"))


class FallbackHandler:
    """Anything else gets an answer, never silence: the two or three things the person most likely
    meant ("Did you mean "status", "done" or "help"?"), from `Understood.alternatives`."""

    def match(self, ctx: Context) -> DirectMessage | None:
        return ctx.event if isinstance(ctx.event, DirectMessage) else None

    def handle(self, ctx: Context, found: DirectMessage) -> None:
        if ctx.staff_only:
            ctx.reply(help_text(ctx))
            return
        ctx.applicant()
        if not ctx.text:
            ctx.reply(ctx.t("fallback"))  # a sticker, an empty message: a pointer to help
            return
        options = did_you_mean(ctx)
        if ctx.understood.intent is Intent.QUESTION and ctx.understood.question:
            contact = ctx.rules.program.contact or "-"
            ctx.reply(ctx.t("conversation.question_unknown", contact=contact) + "\n" + options)
        else:
            ctx.reply(options)


def did_you_mean(ctx: Context) -> str:
    applicant = ctx.applicant()
    rules = ctx.rules
    step = current_step(rules, applicant)
    fits = {
        Intent.DONE: step is not None,
        Intent.UNDO: last_done(rules, applicant) is not None,
        Intent.APPLIED: step is not None and step.records_applied,
        Intent.CANCEL: applicant.pending is not None,
        Intent.NEXT: step is not None,
    }
    chosen: list[Intent] = []
    for intent in (*ctx.understood.alternatives, Intent.STATUS, Intent.HELP, Intent.NEXT):
        if fits.get(intent, True) and intent not in chosen and ctx.tr.has(f"intent.{intent.value}"):
            chosen.append(intent)
    names = [ctx.t(f"intent.{i.value}") for i in chosen[:_MAX_OPTIONS]]
    joined = (
        ", ".join(names[:-1]) + f" {ctx.t('conversation.or')} " + names[-1] if len(names) > 1 else names[0]
    )
    return ctx.t("conversation.did_you_mean", options=joined)
