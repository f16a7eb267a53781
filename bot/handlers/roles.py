"""Reviewers and admins talking to the bot are not applicants.

Whatever they say ("cancel", "lgtm", "done", a stray word) records nothing: they get the help for
their role, an FAQ answer, or a language switch. They become applicants only when they start an
application themselves: by sending a document (UploadHandler), or by saying they want to apply
("I want to apply", "apply", "신청하고 싶어요"); then they go through the steps like anyone else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.context import Context
from bot.events import DirectMessage
from bot.handlers.faq import faq_answer
from bot.handlers.status import help_text
from bot.intents import Intent
from bot.language.faq import FaqEntry
from bot.language.text import normalise
from bot.models import Applicant
from bot.presenter import checklist_message
from bot.rules import Rules

REVIEWER_MAY = {"revoke": "reviewers_may_revoke"}
"""Admin commands reviewers may use too, each when the named `access` setting of rules.yaml says so."""


def may(rules: Rules, user_key: str, command: str) -> bool:
    """Whether the person (by stable id, never by name) may use the admin command `command`: admins
    may use them all; reviewers those of REVIEWER_MAY that rules.yaml allows."""
    if rules.is_admin(user_key):
        return True
    setting = REVIEWER_MAY.get(command)
    return setting is not None and rules.is_reviewer(user_key) and bool(getattr(rules.access, setting))


# "apply", "I want to apply", "I'd like to apply for access", "let me apply", "start my application";
# "신청하고 싶어요", "신청할래요", "저도 신청할게요", "신청 시작". "How do applicants apply?" is not one.
_APPLY_WORDS = frozenset({"apply", "application"})
_DESIRE = re.compile(r"\b(?:want|wanna|like to|let me|can i|may i|ill|i will|start|begin|sign me up)\b")
_BARE = frozenset({"apply", "apply for access", "apply now", "start application", "start my application"})
_KO_WANTS_TO_APPLY = re.compile(
    r"신청\s*(?:하고\s*싶|할래|할게|할께|하겠|하려|시작)|지원\s*하고\s*싶|저도\s*신청"
)


def wants_to_apply(text: str) -> bool:
    """Says they want to apply themselves (not that they applied, nor how others apply)."""
    norm = normalise(text)
    if norm in _BARE or _KO_WANTS_TO_APPLY.search(text):
        return True
    return bool(_APPLY_WORDS & set(norm.split())) and bool(_DESIRE.search(norm))


@dataclass(frozen=True)
class StaffMessage:
    start: bool = False
    faq: FaqEntry | None = None
    intent: Intent = Intent.UNKNOWN


class StaffHandler:
    def match(self, ctx: Context) -> StaffMessage | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text or not ctx.staff_only:
            return None
        understood = ctx.understood
        if wants_to_apply(ctx.text):
            return StaffMessage(start=True)
        if understood.intent is Intent.LANGUAGE:
            return None  # LanguageHandler answers (and keeps nothing for someone without a record)
        faq = understood.faq.entry if understood.intent is Intent.QUESTION and understood.faq else None
        return StaffMessage(faq=faq, intent=understood.intent)

    def handle(self, ctx: Context, found: StaffMessage) -> None:
        if found.start:
            ctx.store.ensure(ctx.user.key, lang=ctx.lang, display_name=ctx.user.display_name)

            def start(a: Applicant) -> None:
                a.applying = True

            ctx.refresh(ctx.store.update(ctx.user.key, start))
            ctx.remember_language()
            ctx.store.audit(ctx.user.key, "applicant.started", ctx.user.key)
            ctx.reply(checklist_message(ctx, ctx.t("staff.started")))
        elif found.faq is not None:
            ctx.reply(faq_answer(ctx, found.faq))
        elif found.intent is Intent.THANKS:
            ctx.reply(ctx.t("thanks"))
        elif found.intent is Intent.GREETING:
            ctx.reply(ctx.t("staff.greeting", program=ctx.rules.program.name) + "\n\n" + help_text(ctx))
        else:
            ctx.reply(help_text(ctx))
