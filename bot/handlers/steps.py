"""What changes an applicant's steps, and answers taken carefully.

Nothing here guesses: a step is completed by an unambiguous "done" (or a button, or a yes to the
bot's own question), an answer is recorded only after the applicant confirmed it, "I applied" is
recorded as a date on steps with `records_applied` (the step stays open), and "undo" or "change my
answer" reopen a step only while no review is pending.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from bot.context import Context
from bot.events import DirectMessage
from bot.intents import Intent
from bot.language.answers import DEFAULT_PATTERN, extract_username
from bot.language.lexicon import default_lexicon
from bot.language.text import normalise
from bot.models import Applicant, Pending, StepState, from_iso
from bot.presenter import next_step_message
from bot.rules import Rules, Step
from bot.step_kinds import kind_of
from bot.workflow import current_step, last_done

log = logging.getLogger(__name__)

PENDING_MINUTES = 30
"""How long the bot's yes / no question stays open; a later "yes" is a yes to nothing."""


# -- completing -------------------------------------------------------------------------------------


def complete_step(ctx: Context, step: Step, evidence: dict[str, object]) -> Applicant:
    """Mark the step done and restart the idle clock (and forget any question pending)."""
    now = ctx.store.now()

    def mark(a: Applicant) -> None:
        proof = dict(evidence)
        applied = a.applied.get(step.id, "")
        if applied and step.records_applied:
            proof.setdefault("applied", applied)
        a.steps[step.id] = StepState("done", now, proof, by=ctx.user.key)
        a.step_started = now
        a.pending = None

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
        ctx.reply(next_step_message(ctx, first_line))
    ctx.carry_out(ctx.desk.submit_if_complete(ctx.user.key))


def finish(ctx: Context, step: Step) -> None:
    """The applicant finished `step` (said so, pressed the button, or said yes when asked)."""
    reply = kind_of(step).on_done(step, ctx.rules)
    if reply.complete:
        complete_step(ctx, step, {})
        after_step(ctx, ctx.t("steps.confirmed", title=step.title))
    else:
        clear_pending(ctx)
        ctx.reply(ctx.t(reply.key, **(reply.params or {})))


# -- the bot's own yes / no question ----------------------------------------------------------------


def pending_question(ctx: Context, applicant: Applicant | None) -> Pending | None:
    """The question waiting for a yes or no: about the current step, and not expired. Read only."""
    if applicant is None or applicant.pending is None:
        return None
    pending = applicant.pending
    step = current_step(ctx.rules, applicant)
    if step is None or step.id != pending.step:
        return None
    if from_iso(pending.at) < ctx.services.clock() - timedelta(minutes=PENDING_MINUTES):
        return None
    return pending


def ask(ctx: Context, kind: str, step: Step, answer: str = "") -> None:
    """Remember the question (with when it was asked) on the applicant."""
    now = ctx.store.now()
    question = Pending("answer" if kind == "answer" else "done", step.id, now, answer)
    ctx.refresh(ctx.store.update(ctx.applicant().key, lambda a: setattr(a, "pending", question)))


def clear_pending(ctx: Context) -> None:
    applicant = ctx.existing_applicant()
    if applicant is not None and applicant.pending is not None:
        ctx.refresh(ctx.store.update(applicant.key, lambda a: setattr(a, "pending", None)))


def ask_done(ctx: Context, step: Step) -> None:
    """ "Did you finish X? yes / no": nothing is recorded until the answer is yes."""
    reply = kind_of(step).on_done(step, ctx.rules)
    if not reply.complete:  # an answer or a document finishes this step, not a yes
        ctx.reply(ctx.t(reply.key, **(reply.params or {})))
        return
    ask(ctx, "done", step)
    ctx.reply(ctx.t("conversation.ask_done", title=step.title))


# -- applied, undo, change --------------------------------------------------------------------------


def record_applied(ctx: Context, step: Step) -> str:
    """Note today as the day the applicant applied (kept if they said so before); returns it."""
    today = ctx.services.clock().date().isoformat()
    recorded = ""

    def note(a: Applicant) -> None:
        nonlocal recorded
        recorded = a.applied.setdefault(step.id, today)
        a.pending = None

    ctx.refresh(ctx.store.update(ctx.applicant().key, note))
    ctx.store.audit(ctx.user.key, "step.applied", ctx.user.key, step=step.id)
    return recorded


def locked_reason(ctx: Context, applicant: Applicant) -> str:
    """Why the applicant's steps cannot be changed now ("" when they can)."""
    contact = ctx.rules.program.contact or "-"
    if ctx.desk.pending_review(applicant) is not None:
        return ctx.t("conversation.locked_under_review", contact=contact)
    if applicant.approved_at and current_step(ctx.rules, applicant) is None:
        return ctx.t("conversation.locked_approved", contact=contact)
    return ""


def reopen(ctx: Context, step: Step, action: str) -> Applicant:
    """Make `step` open again, as if never done (an undo, or an answer to give again)."""
    now = ctx.store.now()

    def open_again(a: Applicant) -> None:
        a.steps.pop(step.id, None)
        a.step_started = now
        a.pending = None

    applicant = ctx.store.update(ctx.applicant().key, open_again)
    ctx.refresh(applicant)
    ctx.store.audit(ctx.user.key, action, ctx.user.key, step=step.id)
    return applicant


def undo_last(ctx: Context) -> None:
    applicant = ctx.applicant()
    locked = locked_reason(ctx, applicant)
    if locked:
        ctx.reply(locked)
        return
    step = last_done(ctx.rules, applicant)
    if step is None:
        ctx.reply(ctx.t("conversation.nothing_to_undo"))
        return
    reopen(ctx, step, "step.undone")
    ctx.reply(next_step_message(ctx, ctx.t("conversation.undone", title=step.title)))


def answer_step_to_change(rules: Rules, applicant: Applicant) -> Step | None:
    """The answer a "change my answer" is about: the current step's, else the latest given."""
    current = current_step(rules, applicant)
    if current is not None and kind_of(current).takes_answer:
        return current
    answered = [s for s in rules.steps if kind_of(s).takes_answer and applicant.is_done(s.id)]
    return answered[-1] if answered else None


def change_answer(ctx: Context, answer: str) -> None:
    """Reopen the answer; with a new answer in the same message, ask to confirm it."""
    applicant = ctx.applicant()
    locked = locked_reason(ctx, applicant)
    if locked:
        ctx.reply(locked)
        return
    step = answer_step_to_change(ctx.rules, applicant)
    if step is None:
        ctx.reply(ctx.t("conversation.nothing_to_undo"))
        return
    if applicant.is_done(step.id):
        reopen(ctx, step, "step.answer_reopened")
    if answer:
        propose_answer(ctx, step, answer)
    elif step.answer_name is not None:
        ctx.reply(ctx.t("conversation.change_named", name=step.answer_name))
    else:
        ctx.reply(ctx.t("conversation.change_answer", title=step.title))


# -- answers ----------------------------------------------------------------------------------------


def find_answer(step: Step, text: str) -> str | None:
    """The answer inside the message ("my username is kim_j", "제 아이디는 kim_j 입니다"), or None."""
    return extract_username(text, pattern=step.answer_pattern or DEFAULT_PATTERN)


def check_answer(step: Step, answer: str) -> bool | None:
    """`answer_check`: True when the page exists, False when it is missing (404), None when the
    check is off or could not be made (slow, unreachable): a failed check never refuses an answer."""
    if not step.answer_check:
        return None
    url = step.answer_check.replace("{answer}", urllib.parse.quote(answer, safe=""))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    if not url.startswith(("https://", "http://")):  # rules.yaml is checked; never file: or others
        return None
    request = urllib.request.Request(url, headers={"User-Agent": "accessbot"})  # noqa: S310
    try:
        with opener.open(request, timeout=step.answer_check_timeout_seconds):
            return True
    except urllib.error.HTTPError as exc:
        return False if exc.code == 404 else None
    except Exception as exc:  # unreachable, slow, refused: say nothing, take the answer
        log.info("answer check of %s skipped: %s", step.id, type(exc).__name__)
        return None


def propose_answer(ctx: Context, step: Step, answer: str) -> None:
    """ "I'll note **kim_j** as your PhysioNet username. Right?": recorded only after a yes."""
    if step.answer_pattern and not re.fullmatch(step.answer_pattern, answer):
        hint = step.answer_hint.get(ctx.lang) if step.answer_hint else ""
        ctx.reply(ctx.t("steps.answer_invalid", answer=answer, hint=hint))
        return
    ask(ctx, "answer", step, answer)
    if step.answer_name is not None:
        text = ctx.t("conversation.confirm_named", answer=answer, name=step.answer_name)
    else:
        text = ctx.t("conversation.confirm_answer", answer=answer, title=step.title)
    if check_answer(step, answer) is False:
        url = (
            step.answer_check.replace("{answer}", urllib.parse.quote(answer, safe=""))
            if step.answer_check
            else ""
        )
        text += "\n" + ctx.t("conversation.profile_missing", url=url)
    ctx.reply(text)


def record_answer(ctx: Context, step: Step, answer: str) -> None:
    complete_step(ctx, step, {"answer": answer})
    if step.answer_name is not None:
        first = ctx.t("conversation.answered_named", answer=answer, name=step.answer_name)
    else:
        first = ctx.t("steps.answered", title=step.title, answer=answer)
    after_step(ctx, first)


def not_an_answer(ctx: Context, step: Step, shown: str) -> None:
    hint = step.answer_hint.get(ctx.lang) if step.answer_hint else ""
    ctx.reply(ctx.t("conversation.not_a_username", answer=shown, hint=hint))


@dataclass(frozen=True)
class Answered:
    step: Step
    answer: str
    """The answer found in the message; "" when the message looked like an answer but holds none."""
    shown: str = ""


_ANSWER_INTENTS = frozenset({Intent.UNKNOWN, Intent.GREETING, Intent.THANKS})
_LABELS = frozenset(
    normalise(label) for words in default_lexicon().languages.values() for label in words.username_labels
)


def _mentions_label(text: str) -> bool:
    norm = normalise(text)
    return any(label in norm for label in _LABELS)


class AnswerHandler:
    """A message on an `answer` step that holds an answer: the bot asks to confirm it. A message that
    looks like an attempt ("my username is 김철수", a lone word that cannot be one) gets the hint."""

    def match(self, ctx: Context) -> Answered | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.text or ctx.staff_only:
            return None
        understood = ctx.understood
        topical = understood.intent is Intent.QUESTION and not understood.question  # "my physionet id is x"
        if understood.intent not in _ANSWER_INTENTS and not topical:
            return None
        applicant = ctx.existing_applicant()
        # Someone new is on the first step; their record is created only when they write.
        step = current_step(ctx.rules, applicant) if applicant is not None else ctx.rules.steps[0]
        if step is None or not kind_of(step).takes_answer:
            return None
        answer = find_answer(step, ctx.text)
        if answer is not None:
            return Answered(step, answer)
        words = ctx.text.split()
        if ctx.understood.intent is Intent.UNKNOWN and (len(words) == 1 or _mentions_label(ctx.text)):
            return Answered(step, "", words[-1].strip("`'\"“”‘’.,!?"))
        return None

    def handle(self, ctx: Context, found: Answered) -> None:
        ctx.applicant()
        if found.answer:
            propose_answer(ctx, found.step, found.answer)
        else:
            not_an_answer(ctx, found.step, found.shown)
