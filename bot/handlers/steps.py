"""Completing steps by saying so ("done") or by answering the step's question."""

from __future__ import annotations

import re

from bot.core import Context
from bot.events import DirectMessage
from bot.intents import Intent, understand
from bot.models import Applicant, StepState
from bot.presenter import next_step_text
from bot.rules import Step
from bot.workflow import current_step

_USERNAME_CUE = re.compile(r"(user\s*name|username|id|아이디|사용자|계정)", re.IGNORECASE)


def complete_step(ctx: Context, step: Step, evidence: dict[str, object]) -> Applicant:
    """Mark the step done, restart the idle clock, and send the package on when it is complete."""
    now = ctx.bot.store.now()

    def mark(a: Applicant) -> None:
        a.steps[step.id] = StepState("done", now, dict(evidence), by=ctx.user.key)
        a.step_started = now

    applicant = ctx.bot.store.update(ctx.applicant().key, mark)
    ctx.refresh(applicant)
    ctx.bot.store.audit(ctx.user.key, "step.done", ctx.user.key, step=step.id)
    return applicant


def after_step(ctx: Context, step: Step, first_line: str) -> None:
    """Tell the applicant what comes next; hand a complete package to the review desk."""
    upcoming = current_step(ctx.rules, ctx.applicant())
    if upcoming is not None and upcoming.complete_by == "review":
        ctx.reply(first_line)  # the review desk says what happens next
    else:
        ctx.reply(first_line + "\n\n" + next_step_text(ctx))
    ctx.bot.reviews.submit_if_complete(ctx.user.key)


class DoneHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, DirectMessage) and understand(ctx.text).intent is Intent.DONE

    def handle(self, ctx: Context) -> None:
        step = current_step(ctx.rules, ctx.applicant())
        if step is None:
            ctx.reply(ctx.t("status.all_done"))
            return
        title = step.title.get(ctx.lang)
        if step.complete_by == "confirm":
            complete_step(ctx, step, {})
            after_step(ctx, step, ctx.t("steps.confirmed", title=title))
        elif step.complete_by == "answer" and step.ask is not None:
            ctx.reply(ctx.t("steps.need_answer", title=title, question=step.ask.get(ctx.lang)))
        elif step.complete_by == "document" and step.document:
            document = ctx.rules.documents[step.document].title.get(ctx.lang)
            ctx.reply(ctx.t("steps.need_document", title=title, document=document))
        else:
            ctx.reply(ctx.t("steps.waiting_review"))


class AnswerHandler:
    """A message on an `answer` step that looks like an answer (or a near miss worth a hint)."""

    def accepts(self, ctx: Context) -> bool:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text:
            return False
        step = current_step(ctx.rules, ctx.applicant())
        return step is not None and step.complete_by == "answer" and self._candidate(ctx.text) is not None

    @staticmethod
    def _candidate(text: str) -> str | None:
        words = [w.strip("`'\"“”‘’").rstrip(".,") for w in text.split()]
        if len(words) == 1:
            return words[0]
        if 1 < len(words) <= 8 and _USERNAME_CUE.search(text):
            return words[-1]
        return None

    def handle(self, ctx: Context) -> None:
        step = current_step(ctx.rules, ctx.applicant())
        assert step is not None
        answer = self._candidate(ctx.text) or ""
        if step.answer_pattern and not re.fullmatch(step.answer_pattern, answer):
            hint = step.answer_hint.get(ctx.lang) if step.answer_hint else ""
            ctx.reply(ctx.t("steps.answer_invalid", answer=answer, hint=hint))
            return
        complete_step(ctx, step, {"answer": answer})
        after_step(ctx, step, ctx.t("steps.answered", title=step.title.get(ctx.lang), answer=answer))
