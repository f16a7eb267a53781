"""The applicant's side of the conversation about their current step.

What a message means (bot/intents.py) decides what happens, and nothing is completed by a guess:

- DONE completes the current step (an answer or document step says what it needs instead);
- MAYBE_DONE ("I think I'm done", "확인했어요") asks "Did you finish X? yes / no" and remembers the
  question; YES answers it, NO leaves everything as it was; the question expires (PENDING_MINUTES);
- a YES with no question pending completes nothing (it is taken as thanks), NO and NOT_YET get a
  kind word and change nothing;
- APPLIED on a step with `records_applied` records *applied on DATE* and the step stays open;
  elsewhere it is asked about like MAYBE_DONE;
- UNDO reopens the last finished step, CHANGE_ANSWER the answer (not while a review is pending);
- CANCEL drops the pending question.

Buttons on the step's instructions ("I've done this", "Not yet", "Help") are StepButtonHandler's.
A person's first message, whatever it says, gets the welcome and their checklist
(FirstContactHandler); what it also asked (an FAQ question, an answer) is answered after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.context import Context
from bot.events import ButtonPress, DirectMessage
from bot.handlers.faq import FaqHandler
from bot.handlers.status import help_text
from bot.handlers.steps import (
    AnswerHandler,
    answer_step_to_change,
    ask_done,
    change_answer,
    clear_pending,
    find_answer,
    finish,
    pending_question,
    propose_answer,
    record_answer,
    record_applied,
    undo_last,
)
from bot.intents import Intent
from bot.models import Pending
from bot.presenter import STEP_ACTIONS, STEP_DONE, STEP_HELP, checklist_message
from bot.rules import Step
from bot.step_kinds import kind_of
from bot.workflow import current_step

_STEP_INTENTS = frozenset(
    {
        Intent.DONE,
        Intent.MAYBE_DONE,
        Intent.NOT_YET,
        Intent.APPLIED,
        Intent.YES,
        Intent.NO,
        Intent.UNDO,
        Intent.CHANGE_ANSWER,
        Intent.CANCEL,
    }
)


@dataclass(frozen=True)
class Move:
    """What the message asks for, decided in `match` (read only) and carried out in `handle`."""

    intent: Intent
    step: Step | None
    pending: Pending | None = None
    answer: str = ""
    """An answer found in the message (answer steps)."""


class ConversationHandler:
    def match(self, ctx: Context) -> Move | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text or ctx.staff_only:
            return None
        intent = ctx.understood.intent
        if intent not in _STEP_INTENTS:
            return None
        applicant = ctx.existing_applicant()
        if applicant is None:
            return None  # someone new: FirstContactHandler
        step = current_step(ctx.rules, applicant)
        # The answer in the message, for the step it answers: "change my username to kim_j2" is for
        # the username step, wherever the applicant is now.
        target = answer_step_to_change(ctx.rules, applicant) if intent is Intent.CHANGE_ANSWER else step
        answer = ""
        if target is not None and kind_of(target).takes_answer and intent not in (Intent.UNDO, Intent.CANCEL):
            answer = find_answer(target, ctx.text) or ""
        return Move(intent, step, pending_question(ctx, applicant), answer)

    def handle(self, ctx: Context, found: Move) -> None:
        intent, step, pending = found.intent, found.step, found.pending
        if intent is Intent.UNDO:
            undo_last(ctx)
        elif intent is Intent.CHANGE_ANSWER:
            change_answer(ctx, found.answer)
        elif intent is Intent.CANCEL:
            if pending is not None:
                clear_pending(ctx)
                ctx.reply(ctx.t("conversation.cancelled"))
            else:
                ctx.reply(ctx.t("conversation.nothing_to_cancel"))
        elif step is None:
            self._all_done(ctx, intent)
        elif found.answer and (pending is None or pending.kind != "answer" or found.answer != pending.answer):
            propose_answer(ctx, step, found.answer)  # a (new) answer: confirmed before it is recorded
        elif intent is Intent.YES:
            self._yes(ctx, step, pending)
        elif intent is Intent.NO:
            self._no(ctx, step, pending)
        elif intent is Intent.DONE:
            finish(ctx, step)
        elif intent is Intent.APPLIED and step.records_applied:
            self._applied(ctx, step)
        elif intent in (Intent.MAYBE_DONE, Intent.APPLIED):
            ask_done(ctx, step)
        else:  # NOT_YET
            clear_pending(ctx)
            ctx.reply(ctx.t("conversation.not_yet", title=step.title))

    @staticmethod
    def _all_done(ctx: Context, intent: Intent) -> None:
        clear_pending(ctx)
        if intent in (Intent.YES, Intent.NO, Intent.NOT_YET):
            ctx.reply(ctx.t("thanks"))
        else:
            ctx.reply(ctx.t("conversation.all_done"))

    @staticmethod
    def _yes(ctx: Context, step: Step, pending: Pending | None) -> None:
        if pending is None:
            ctx.reply(ctx.t("conversation.yes_without_question"))  # a yes to nothing records nothing
        elif pending.kind == "answer":
            record_answer(ctx, step, pending.answer)
        else:
            finish(ctx, step)

    @staticmethod
    def _no(ctx: Context, step: Step, pending: Pending | None) -> None:
        if pending is None:
            ctx.reply(ctx.t("conversation.no_question"))
            return
        clear_pending(ctx)
        if pending.kind == "answer":
            question = step.ask.get(ctx.lang) if step.ask is not None else ""
            ctx.reply(ctx.t("conversation.answer_not_taken", question=question))
        else:
            ctx.reply(ctx.t("conversation.not_recorded", title=step.title))

    @staticmethod
    def _applied(ctx: Context, step: Step) -> None:
        applicant = ctx.applicant()
        before = applicant.applied.get(step.id, "")
        date = record_applied(ctx, step)
        key = "conversation.already_applied" if before else "conversation.applied"
        ctx.reply(ctx.t(key, date=date[:10]))


@dataclass(frozen=True)
class StepPress:
    action: str
    step_id: str


class StepButtonHandler:
    """The buttons on a step's instructions: "I've done this" completes that step (a press is not a
    guess), "Not yet" changes nothing, "Help" shows the help. A button left on an older message, for
    a step that is no longer the current one, changes nothing and shows the checklist."""

    def match(self, ctx: Context) -> StepPress | None:
        event = ctx.event
        if not isinstance(event, ButtonPress) or event.action not in STEP_ACTIONS:
            return None
        return StepPress(event.action, event.value)

    def handle(self, ctx: Context, found: StepPress) -> None:
        if ctx.staff_only:
            ctx.reply(help_text(ctx))
            return
        step = current_step(ctx.rules, ctx.applicant())
        if found.action == STEP_HELP:
            ctx.reply(help_text(ctx))
        elif step is None or step.id != found.step_id:
            old = ctx.rules.step(found.step_id)
            first = ctx.t("conversation.stale_button", title=old.title) if old is not None else ""
            ctx.reply(checklist_message(ctx, first))
        elif found.action == STEP_DONE:
            finish(ctx, step)
        else:
            clear_pending(ctx)
            ctx.reply(ctx.t("conversation.not_yet", title=step.title))


@dataclass(frozen=True)
class FirstContact:
    then: Callable[[], None] | None = None
    """What the first message also asked for (answered after the welcome), if anything."""


class FirstContactHandler:
    """Someone new (not staff) writes for the first time: the welcome and their checklist, in the
    language of their message, whatever it says. What it also holds is answered next: an FAQ
    question gets its answer, an answer to the first step is asked to be confirmed, "help" gets
    the help. Nothing is completed by a first message."""

    def __init__(self) -> None:
        self.faq = FaqHandler()
        self.answers = AnswerHandler()

    def match(self, ctx: Context) -> FirstContact | None:
        event = ctx.event
        if not isinstance(event, DirectMessage) or not ctx.text or event.attachments:
            return None
        if ctx.is_staff or ctx.existing_applicant() is not None:
            return None
        for handler in (self.faq, self.answers):
            found: Any = handler.match(ctx)
            if found is not None:
                return FirstContact(_later(handler, ctx, found))
        if ctx.understood.intent is Intent.HELP:
            return FirstContact(lambda: _help(ctx))
        return FirstContact()

    def handle(self, ctx: Context, found: FirstContact) -> None:
        ctx.applicant()
        ctx.reply(checklist_message(ctx, ctx.t("greeting", program=ctx.rules.program.name)))
        if found.then is not None:
            found.then()


def _help(ctx: Context) -> None:
    ctx.reply(help_text(ctx))


def _later(handler: Any, ctx: Context, found: Any) -> Callable[[], None]:
    return lambda: handler.handle(ctx, found)
