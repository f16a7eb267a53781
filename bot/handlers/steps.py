"""Completing steps by saying so ("done") or by answering the step's question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.context import Context
from bot.events import DirectMessage
from bot.intents import Intent
from bot.models import Applicant, StepState
from bot.presenter import next_step_text
from bot.rules import Step
from bot.step_kinds import kind_of
from bot.workflow import current_step

_USERNAME_CUE = re.compile(r"(user\s*name|username|id|아이디|사용자|계정)", re.IGNORECASE)


def complete_step(ctx: Context, step: Step, evidence: dict[str, object]) -> Applicant:
    """Mark the step done and restart the idle clock."""
    now = ctx.store.now()

    def mark(a: Applicant) -> None:
        a.steps[step.id] = StepState("done", now, dict(evidence), by=ctx.user.key)
        a.step_started = now

    applicant = ctx.store.update(ctx.applicant().key, mark)
    ctx.refresh(applicant)
    ctx.saved.append(step.title)
    ctx.store.audit(ctx.user.key, "step.done", ctx.user.key, step=step.id)
    return applicant


def after_step(ctx: Context, first_line: str) -> None:
    """Tell the applicant what comes next; hand a complete package to the review desk."""
    upcoming = current_step(ctx.rules, ctx.applicant())
    if upcoming is not None and kind_of(upcoming).decided_by_reviewers:
        ctx.reply(first_line)  # the review desk says what happens next
    else:
        ctx.reply(first_line + "\n\n" + next_step_text(ctx))
    ctx.carry_out(ctx.desk.submit_if_complete(ctx.user.key))


class DoneHandler:
    def match(self, ctx: Context) -> Intent | None:
        if not isinstance(ctx.event, DirectMessage) or ctx.understood.intent is not Intent.DONE:
            return None
        return Intent.DONE

    def handle(self, ctx: Context, found: Intent) -> None:
        step = current_step(ctx.rules, ctx.applicant())
        if step is None:
            ctx.reply(ctx.t("status.all_done"))
            return
        reply = kind_of(step).on_done(step, ctx.rules)
        if reply.complete:
            complete_step(ctx, step, {})
            after_step(ctx, ctx.t("steps.confirmed", title=step.title))
        else:
            ctx.reply(ctx.t(reply.key, **(reply.params or {})))


@dataclass(frozen=True)
class Answered:
    step: Step
    answer: str


class AnswerHandler:
    """A message on an `answer` step that looks like an answer (or a near miss worth a hint)."""

    def match(self, ctx: Context) -> Answered | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text:
            return None
        applicant = ctx.existing_applicant()
        # Someone new is on the first step; their record is created only if the answer is taken.
        step = current_step(ctx.rules, applicant) if applicant is not None else ctx.rules.steps[0]
        if step is None or not kind_of(step).takes_answer:
            return None
        candidate = self._candidate(ctx.text)
        return Answered(step, candidate) if candidate is not None else None

    @staticmethod
    def _candidate(text: str) -> str | None:
        words = [w.strip("`'\"“”‘’").rstrip(".,") for w in text.split()]
        if len(words) == 1:
            return words[0]
        if 1 < len(words) <= 8 and _USERNAME_CUE.search(text):
            return words[-1]
        return None

    def handle(self, ctx: Context, found: Answered) -> None:
        step, answer = found.step, found.answer
        ctx.applicant()  # a first message that answers the first step makes the person known
        if step.answer_pattern and not re.fullmatch(step.answer_pattern, answer):
            hint = step.answer_hint.get(ctx.lang) if step.answer_hint else ""
            ctx.reply(ctx.t("steps.answer_invalid", answer=answer, hint=hint))
            return
        complete_step(ctx, step, {"answer": answer})
        after_step(ctx, ctx.t("steps.answered", title=step.title, answer=answer))
