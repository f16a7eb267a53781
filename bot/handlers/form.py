"""Form steps answered: in a modal (Slack, Discord) or one question at a time in a DM and the console.

Two handlers, because they sit at two places of the handler list:

- FormButtonHandler, beside the other buttons: a modal's submission (FormSubmitted `step_form`) and
  the "Fill in the form" / "Change my answers" buttons when no modal could be shown (then the
  questions are asked in the conversation). It also offers the modal itself (`form_for`) and checks
  a submission before the modal closes (`form_problems`: Slack shows the errors under each field).
- FormConversationHandler, beside the conversation: while a question is open, a message is its
  answer (or "skip", "back", "keep", "cancel"); "start" begins or resumes the form; "change my
  answers" shows the summary to change one. The state is on the applicant's record after every
  answer (bot.models.FormDraft), so a restart resumes at the next unanswered question; a question
  left open longer than bot.forms.CONVERSATION_MINUTES is not answered by a later message: that
  message shows where the applicant was instead.

Answers are personal data: they go to the store and to the applicant's own replies, never to a log
or the audit (which records only that a form was saved).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot import forms
from bot.context import Context, Services
from bot.events import Button, ButtonPress, DirectMessage, Form, FormSubmitted, Outgoing
from bot.forms import FORM_EDIT, FORM_ID, SUMMARY, Control
from bot.handlers.status import help_text
from bot.handlers.steps import after_step, answer_step_to_change, complete_step, locked_reason
from bot.i18n import Translator
from bot.intents import Intent
from bot.language.text import normalise
from bot.memo import per_object
from bot.models import Applicant, FormDraft
from bot.presenter import STEP_DONE, checklist_message
from bot.rules import FormQuestion, Rules, Step
from bot.step_kinds import kind_of
from bot.workflow import current_step


@per_object
def control_words(translator: Translator) -> dict[str, Control]:
    """`forms.words.*` of every language: "skip" and "건너뛰기" are understood in any conversation.
    Asked for every message, so worked out once per translator (its texts do not change)."""
    lists: dict[str, list[str]] = {
        name: [
            w for lang in translator.languages for w in translator.t(lang, f"forms.words.{name}").split(",")
        ]
        for name in forms.CONTROLS
    }
    return forms.control_words(lists)


def _is_form(step: Step | None) -> bool:
    return step is not None and kind_of(step).takes_form


def _done_form(rules: Rules, applicant: Applicant) -> Step | None:
    """The latest saved form (the one "change my answers" is about when no form is open)."""
    done = [s for s in rules.steps if _is_form(s) and applicant.is_done(s.id)]
    return done[-1] if done else None


def _target(rules: Rules, applicant: Applicant) -> tuple[Step, FormDraft | None] | None:
    """The form the conversation is about: the draft's (for the current step, or an edit of a saved
    form), else the current step when it is a form."""
    draft = applicant.form
    if draft is not None:
        step = rules.step(draft.step)
        if _is_form(step) and step is not None:
            current = current_step(rules, applicant)
            if (draft.editing and applicant.is_done(step.id)) or (
                current is not None and current.id == step.id
            ):
                return step, draft
    current = current_step(rules, applicant)
    if current is not None and _is_form(current):
        return current, None
    return None


# -- what is said -----------------------------------------------------------------------------------


def question_text(ctx: Context, step: Step, q: FormQuestion, answers: dict[str, str], *, first: bool) -> str:
    t = ctx.tr
    lines = [
        t("forms.question", number=forms.number_of(step, q.id), total=len(step.questions), label=q.label)
    ]
    if q.help is not None:
        lines.append(q.help.get(ctx.lang))
    if q.type == "choice":
        lines += [f"  {n}. {o.label.get(ctx.lang)}" for n, o in enumerate(q.options, start=1)]
        lines.append(t("forms.answer_number"))
    elif q.type == "yes_no":
        lines.append(t("forms.answer_yes_no"))
    elif q.pattern_hint is not None:
        lines.append(q.pattern_hint.get(ctx.lang))
    if not q.required:
        lines.append(t("forms.optional"))
    if q.id in answers:
        lines.append(t("forms.current", answer=forms.shown(q, answers[q.id], t)))
    if first:
        lines.append(t("forms.controls"))
    return "\n".join(lines)


def summary_text(ctx: Context, step: Step, answers: dict[str, str]) -> str:
    lines = [ctx.t("forms.summary_title", title=step.title), *forms.summary_lines(step, answers, ctx.tr)]
    return "\n".join(lines)


def _keep(ctx: Context, draft: FormDraft | None) -> None:
    """The draft on the applicant's record (None: removed), in one atomic write."""
    ctx.refresh(ctx.store.update(ctx.applicant().key, lambda a: setattr(a, "form", draft)))


def _ask(
    ctx: Context, step: Step, draft: FormDraft, asking: str, first_line: str = "", *, first: bool = False
) -> None:
    """Ask `asking` (a question id, or SUMMARY) and remember that it is asked, and when."""
    now = ctx.store.now()
    draft = replace(draft, asking=asking, at=now, returning=draft.returning and asking != SUMMARY)
    _keep(ctx, draft)
    q = forms.question(step, asking)
    if q is None:
        body = summary_text(ctx, step, draft.answers) + "\n" + ctx.t("forms.summary_ask")
    else:
        body = question_text(ctx, step, q, draft.answers, first=first)
    first_line = first_line.strip()
    ctx.reply(f"{first_line}\n{body}" if first_line else body)


def _next(step: Step, draft: FormDraft, after: str) -> str:
    if draft.returning:
        return SUMMARY
    following = forms.next_unanswered(step, draft.answers, after) or forms.next_unanswered(
        step, draft.answers
    )
    return following.id if following is not None else SUMMARY


def start(ctx: Context, step: Step, draft: FormDraft | None, *, welcome: str = "") -> None:
    """Begin the form, or go on at the next unanswered question."""
    draft = draft if draft is not None else FormDraft(step.id)
    answered = len([q for q in step.questions if q.id in draft.answers])
    first_line = welcome
    if answered and not welcome:
        first_line = ctx.t("forms.resume", title=step.title, answered=answered, total=len(step.questions))
    following = forms.next_unanswered(step, draft.answers)
    _ask(ctx, step, draft, following.id if following is not None else SUMMARY, first_line, first=not answered)


def show_summary(ctx: Context, step: Step, draft: FormDraft | None) -> None:
    """ "Change my answers": every answer, and "yes, or the number of one to change"."""
    applicant = ctx.applicant()
    editing = applicant.is_done(step.id)
    if editing:
        locked = locked_reason(ctx, applicant)
        if locked:
            ctx.reply(locked)
            return
    answers = forms.current_answers(applicant, step)
    if not answers:
        start(ctx, step, draft)
        return
    base = draft if draft is not None else FormDraft(step.id)
    _ask(ctx, step, replace(base, answers=answers, editing=editing, returning=False), SUMMARY)


def save(ctx: Context, step: Step, answers: dict[str, str], *, editing: bool) -> None:
    """Keep the answers: complete the step (then what comes next), or replace a saved form's."""
    applicant = ctx.applicant()
    if editing:
        locked = locked_reason(ctx, applicant)
        if locked:
            ctx.reply(locked)
            return

        def replace_answers(a: Applicant) -> None:
            state = a.steps.get(step.id)
            if state is not None:
                state.evidence["answers"] = dict(answers)
            a.form = None

        ctx.refresh(ctx.store.update(applicant.key, replace_answers))
        ctx.store.audit(ctx.user.key, "form.updated", ctx.user.key, step=step.id)
        ctx.reply(
            "\n".join([ctx.t("forms.updated", title=step.title), *forms.summary_lines(step, answers, ctx.tr)])
        )
        return
    complete_step(ctx, step, {"answers": dict(answers)})
    _keep(ctx, None)  # after the step is done: a crash between the two loses no answer
    lines = [ctx.t("forms.saved", title=step.title), *forms.summary_lines(step, answers, ctx.tr)]
    upcoming = current_step(ctx.rules, ctx.applicant())
    if upcoming is not None and not kind_of(upcoming).decided_by_reviewers:
        lines.append(ctx.t("forms.edit_hint"))
    after_step(ctx, "\n".join(lines))


def _save_or_fix(ctx: Context, step: Step, draft: FormDraft) -> None:
    """From the summary: save, unless the rules changed meanwhile and an answer no longer fits."""
    wrong = forms.problems(step, draft.answers, ctx.tr)
    if wrong:
        first = next(q for q in step.questions if q.id in wrong)
        answers = {k: v for k, v in draft.answers.items() if k not in wrong}
        _ask(ctx, step, replace(draft, answers=answers, returning=False), first.id, wrong[first.id])
        return
    save(ctx, step, draft.answers, editing=draft.editing)


def on_question(ctx: Context, step: Step, draft: FormDraft, q: FormQuestion, control: Control | None) -> None:
    t = ctx.t
    if control == "cancel":
        _keep(ctx, replace(draft, asking="", returning=False))
        ctx.reply(t("forms.paused"))
        return
    if control == "back":
        ids = [x.id for x in step.questions]
        previous = ids[max(0, ids.index(q.id) - 1)]
        _ask(ctx, step, replace(draft, returning=False), previous)
        return
    if control == "edit":
        _ask(ctx, step, replace(draft, returning=False), SUMMARY)
        return
    if control == "start":
        _ask(ctx, step, draft, q.id)
        return
    answers = dict(draft.answers)
    if control == "skip":
        if q.required:
            _ask(ctx, step, draft, q.id, t("forms.not_skippable"))
            return
        answers[q.id] = ""
    elif control == "keep":
        if q.id not in answers:
            _ask(ctx, step, draft, q.id, t("forms.nothing_to_keep"))
            return
    else:
        typed = forms.read_typed(q, ctx.text, ctx.understood)
        if typed.value is None:
            params = dict(typed.params)
            if typed.problem == "forms.pick_number":
                params["count"] = len(q.options)
            if typed.problem == "forms.invalid":
                params["hint"] = ""  # the question, asked again below, shows the hint
            _ask(ctx, step, draft, q.id, t(typed.problem, **params))
            return
        answers[q.id] = typed.value
    updated = replace(draft, answers=answers)
    _ask(ctx, step, updated, _next(step, updated, q.id))


def on_summary(ctx: Context, step: Step, draft: FormDraft, control: Control | None) -> None:
    understood = ctx.understood
    key = normalise(ctx.text).strip().rstrip(".)").strip()
    if control == "cancel":
        _keep(ctx, replace(draft, asking=""))
        ctx.reply(ctx.t("forms.paused"))
    elif control == "back":
        _ask(ctx, step, replace(draft, returning=True), step.questions[-1].id)
    elif key.isdigit() and 1 <= int(key) <= len(step.questions):
        _ask(ctx, step, replace(draft, returning=True), step.questions[int(key) - 1].id)
    elif understood.intent in (Intent.YES, Intent.DONE) or control == "keep":
        _save_or_fix(ctx, step, draft)
    else:  # a no, or anything unclear: which one, never a guess
        _keep(ctx, replace(draft, at=ctx.store.now()))
        ctx.reply(ctx.t("forms.summary_which", count=len(step.questions)))


# -- the conversation -------------------------------------------------------------------------------

MoveKind = Literal["answer", "start", "where", "summary", "edit"]


@dataclass(frozen=True)
class FormMove:
    kind: MoveKind
    step: Step
    draft: FormDraft | None
    control: Control | None = None


_START_INTENTS = frozenset({Intent.DONE, Intent.MAYBE_DONE, Intent.YES})
_PASS_THROUGH = frozenset({Intent.HELP, Intent.STATUS, Intent.LANGUAGE})
_WHERE_INTENTS = frozenset({Intent.UNKNOWN, Intent.GREETING, Intent.THANKS, Intent.NO, Intent.NOT_YET})


class FormConversationHandler:
    """A DM about a form step: an answer to the question open, or starting, resuming, changing."""

    def match(self, ctx: Context) -> FormMove | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.is_dm_text or ctx.staff_only:
            return None
        applicant = ctx.existing_applicant()
        if applicant is None:
            return None
        understood = ctx.understood
        control = forms.control_of(ctx.text, control_words(ctx.services.translator), understood)
        target = _target(ctx.rules, applicant)
        if target is None:
            wants_edit = control == "edit" or (
                understood.intent is Intent.CHANGE_ANSWER
                and answer_step_to_change(ctx.rules, applicant) is None
            )
            saved = _done_form(ctx.rules, applicant) if wants_edit else None
            return FormMove("edit", saved, None) if saved is not None else None
        step, draft = target
        if draft is not None and forms.is_live(draft, ctx.services.clock()):
            if understood.intent in _PASS_THROUGH or understood.faq is not None:
                return None  # "status", "help", an FAQ question: answered, and the question stays open
            return FormMove("answer", step, draft, control)
        if control == "start" or understood.intent in _START_INTENTS:
            return FormMove("start", step, draft)
        if control == "edit" or understood.intent is Intent.CHANGE_ANSWER:
            return FormMove("summary", step, draft)
        if draft is not None and draft.asking and understood.intent in _WHERE_INTENTS:
            return FormMove("where", step, draft)  # the conversation timed out: where they were
        return None

    def handle(self, ctx: Context, found: FormMove) -> None:
        step, draft = found.step, found.draft
        if found.kind == "edit" or found.kind == "summary":
            show_summary(ctx, step, draft)
        elif found.kind == "start":
            start(ctx, step, draft)
        elif found.kind == "where":
            assert draft is not None
            answered = len([q for q in step.questions if q.id in draft.answers])
            welcome = ctx.t(
                "forms.welcome_back", title=step.title, answered=answered, total=len(step.questions)
            )
            _ask(ctx, step, draft, draft.asking, welcome)
        else:
            assert draft is not None
            q = forms.question(step, draft.asking)
            if q is None:
                on_summary(ctx, step, draft, found.control)
            else:
                on_question(ctx, step, draft, q, found.control)


# -- modals and buttons -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FormEvent:
    submitted: FormSubmitted | None = None
    press: ButtonPress | None = None


def _pressed_form(rules: Rules, press: ButtonPress) -> Step | None:
    if press.action not in (STEP_DONE, FORM_EDIT):
        return None
    step = rules.step(press.value)
    return step if _is_form(step) else None


class FormButtonHandler:
    """A modal's answers, and the form buttons pressed where no modal could be shown."""

    def match(self, ctx: Context) -> FormEvent | None:
        event = ctx.event
        if isinstance(event, FormSubmitted) and event.form == FORM_ID:
            return FormEvent(submitted=event)
        if isinstance(event, ButtonPress) and _pressed_form(ctx.rules, event) is not None:
            return FormEvent(press=event)
        return None

    def handle(self, ctx: Context, found: FormEvent) -> None:
        if ctx.staff_only:  # a reviewer or admin with no application of their own
            ctx.reply(help_text(ctx))
            return
        if found.press is not None:
            self._pressed(ctx, found.press)
        elif found.submitted is not None:
            self._submitted(ctx, found.submitted)

    @staticmethod
    def _pressed(ctx: Context, press: ButtonPress) -> None:
        step = _pressed_form(ctx.rules, press)
        assert step is not None
        applicant = ctx.applicant()
        current = current_step(ctx.rules, applicant)
        if press.action == FORM_EDIT and applicant.is_done(step.id):
            show_summary(
                ctx, step, applicant.form if applicant.form and applicant.form.step == step.id else None
            )
        elif current is not None and current.id == step.id:
            draft = applicant.form if applicant.form is not None and applicant.form.step == step.id else None
            start(ctx, step, draft)
        else:
            ctx.reply(checklist_message(ctx, ctx.t("forms.stale", title=step.title)))

    @staticmethod
    def _submitted(ctx: Context, event: FormSubmitted) -> None:
        step = ctx.rules.step(event.context)
        applicant = ctx.applicant()
        if step is None or not _is_form(step):
            ctx.reply(checklist_message(ctx))
            return
        editing = applicant.is_done(step.id)
        current = current_step(ctx.rules, applicant)
        if not editing and (current is None or current.id != step.id):
            ctx.reply(checklist_message(ctx, ctx.t("forms.stale", title=step.title)))
            return
        answers: dict[str, str] = {}
        for q in step.questions:
            checked = forms.check(q, event.answer(q.id))
            if checked.value is not None:
                answers[q.id] = checked.value
        wrong = forms.problems(step, {q.id: event.answer(q.id) for q in step.questions}, ctx.tr)
        if not wrong:
            save(ctx, step, answers, editing=editing)
            return
        # Platforms that cannot refuse a modal's answers in place (Discord): the valid answers are
        # kept, and the rest is asked again.
        _keep(ctx, FormDraft(step.id, answers, "", ctx.store.now(), editing=editing))
        lines = [ctx.t("forms.fix_title", title=step.title)]
        lines += [f"• {q.label.get(ctx.lang)}: {wrong[q.id]}" for q in step.questions if q.id in wrong]
        lines.append(ctx.t("forms.fix_how"))
        buttons: tuple[Button, ...] = ()
        if ctx.adapter.capabilities.buttons:
            action = FORM_EDIT if editing else STEP_DONE
            buttons = (Button(action, ctx.t(kind_of(step).done_button), step.id),)
        ctx.reply(Outgoing("\n".join(lines), buttons=buttons))

    # -- asked by the host before anything is dispatched (reads only) ---------------------------

    def form_for(self, services: Services, press: ButtonPress) -> Form | None:
        """The modal a form button opens, pre-filled with the answers so far (None: not ours, or
        not now: the press is then handled as it is)."""
        rules = services.rules
        step = _pressed_form(rules, press)
        applicant = services.store.get(press.user.key) if step is not None else None
        if step is None or applicant is None:
            return None
        if applicant.is_done(step.id):
            if press.action != FORM_EDIT or services.desk.pending_review(applicant) is not None:
                return None
        else:
            current = current_step(rules, applicant)
            if current is None or current.id != step.id:
                return None
        t = services.translator.bound(services.messenger.language_of(press.user.key))
        return forms.neutral_form(step, forms.current_answers(applicant, step), t)

    def form_problems(self, services: Services, submitted: FormSubmitted) -> dict[str, str]:
        """What is wrong with a modal's answers, by question id, in the person's language."""
        step = services.rules.step(submitted.context) if submitted.form == FORM_ID else None
        if step is None or not _is_form(step):
            return {}
        t = services.translator.bound(services.messenger.language_of(submitted.user.key))
        return forms.problems(step, {q.id: submitted.answer(q.id) for q in step.questions}, t)
