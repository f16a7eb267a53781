"""Forms in chat: the questions of a `form` step (rules.yaml), their answers, and what reading them means.

Pure functions over the rules, the stored answers and the words a message holds; nothing here
writes, sends or knows a platform. bot/handlers/form.py carries the conversation out (the store,
the replies); bot/step_kinds.py shows the answers to reviewers; bot/rules_loader.py asks
`question_problems` when rules.yaml is checked.

Answers are kept as text by question id, on the applicant's record: the step's evidence
(`{"answers": {...}}`) once saved, a `FormDraft` while the form is answered one question at a time.
A choice is kept as its option's `value`, a yes / no as `yes` or `no`, a skipped optional question as
"". Answers are personal data: never logged, removed by `forget` with the record.

Answering one question at a time (DM and console), like python-telegram-bot's ConversationHandler:
a state per question, `skip` for optional ones, `back`, `cancel` (the answers so far are kept), a
summary at the end ("are these right? yes, or the number of one to change"), and a timeout
(CONVERSATION_MINUTES): after it, the next message shows where the applicant was instead of being
taken as an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot import safe_regex
from bot.events import Choice, Form, FormField
from bot.i18n import Bound
from bot.intents import Intent, Understood
from bot.language.text import normalise
from bot.models import Applicant, FormDraft, StepState, from_iso
from bot.rules import FormQuestion, Rules, Step

FORM_ID = "step_form"
"""The neutral Form's id (Slack's callback_id `accessbot_step_form`); its context is the step id."""
FORM_EDIT = "form_edit"
"""The button that opens a saved form again, pre-filled (Slack and Discord)."""
SUMMARY = "*summary"
"""FormDraft.asking while the applicant is shown every answer and asked whether they are right."""
CONVERSATION_MINUTES = 60
"""How long a question asked in the conversation stays open (the answers are kept longer: always)."""
MAX_QUESTIONS = 25
MAX_TEXT = 3000
"""Slack's longest plain_text_input; Discord allows 4000."""
YES, NO = "yes", "no"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# -- rules.yaml ---------------------------------------------------------------------------------


def question_problems(step: Step, language: str) -> list[tuple[str, str]]:
    """rules.yaml problems of a form step's questions, as (field under the step, message).

    A question or option with no text in the default `language` cannot be asked: refused. One
    lacking another of `languages` is a warning (bot.rules_loader.missing_translations), as for every
    text of rules.yaml, so that adding a language stays adding files."""
    langs = (language,)
    if not step.questions:
        return [("questions", "needs at least one question when complete_by is form")]
    out: list[tuple[str, str]] = []
    if len(step.questions) > MAX_QUESTIONS:
        out.append(
            ("questions", f"has {len(step.questions)} questions; a form may have at most {MAX_QUESTIONS}")
        )
    seen: dict[str, int] = {}
    for i, q in enumerate(step.questions):
        where = f"questions[{i}]"
        if not _ID.match(q.id):
            out.append((f"{where}.id", f"must be lower-case letters, digits and _ (got {q.id!r})"))
        if q.id in seen:
            out.append((f"{where}.id", f"{q.id!r} is already used by questions[{seen[q.id]}]"))
        seen.setdefault(q.id, i)
        out += [(f"{where}.label", m) for m in _languages_problems(q.label.texts, langs)]
        if q.type == "choice":
            if len(q.options) < 2:
                out.append((f"{where}.options", "needs at least two options for a choice question"))
            values: dict[str, int] = {}
            for j, option in enumerate(q.options):
                at = f"{where}.options[{j}]"
                if not _ID.match(option.value):
                    out.append(
                        (f"{at}.value", f"must be lower-case letters, digits and _ (got {option.value!r})")
                    )
                if option.value in values:
                    out.append(
                        (
                            f"{at}.value",
                            f"{option.value!r} is already used by options[{values[option.value]}]",
                        )
                    )
                values.setdefault(option.value, j)
                out += [(f"{at}.label", m) for m in _languages_problems(option.label.texts, langs)]
        elif q.options:
            out.append((f"{where}.options", f"are only for choice questions (this one is {q.type})"))
        if q.pattern is not None:
            if q.type != "text":
                out.append((f"{where}.pattern", f"is only for text questions (this one is {q.type})"))
            problem = pattern_problem(q.pattern)
            if problem:
                out.append((f"{where}.pattern", problem))
        if not 1 <= q.max_length <= MAX_TEXT:
            out.append((f"{where}.max_length", f"must be from 1 to {MAX_TEXT}"))
    return out


def _languages_problems(texts: Mapping[str, str], languages: tuple[str, ...]) -> list[str]:
    missing = [lang for lang in languages if not str(texts.get(lang, "")).strip()]
    return [f"needs a text in the default language ({', '.join(missing)})"] if missing else []


def pattern_problem(pattern: str) -> str | None:
    """A pattern from rules.yaml: valid in both engines, and not one that backtracks for ever."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return safe_regex.problem(pattern)


def questions_changed(old: Step, new: Step) -> list[str]:
    """What changed in a form's questions (for `rules diff`): added, removed and changed ones."""
    before = {q.id: q for q in old.questions}
    after = {q.id: q for q in new.questions}
    out = [f"question {i} added" for i in after if i not in before]
    out += [f"question {i} removed" for i in before if i not in after]
    out += [f"question {i} changed" for i, q in after.items() if i in before and before[i] != q]
    return out


# -- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """An answer read: its value to keep, or why it cannot be taken (a locale key and parameters)."""

    value: str | None
    problem: str = ""
    params: tuple[tuple[str, object], ...] = ()


def check(question: FormQuestion, raw: str) -> Checked:
    """A submitted value (a modal's field: a choice's value, typed text) as it will be kept."""
    value = raw.strip()
    if not value:
        return Checked("") if not question.required else Checked(None, "forms.required")
    if question.type == "choice":
        known = {o.value for o in question.options}
        return Checked(value) if value in known else Checked(None, "forms.pick_one")
    if question.type == "yes_no":
        return Checked(value) if value in (YES, NO) else Checked(None, "forms.yes_or_no")
    if len(value) > question.max_length:
        return Checked(None, "forms.too_long", (("limit", question.max_length),))
    if question.pattern:
        matched = safe_regex.fullmatch(question.pattern, value)
        if not matched:  # False, or None: could not be decided in time (never taken as a match)
            return Checked(None, "forms.invalid", (("hint", question.pattern_hint or ""),))
    return Checked(value)


def problems(step: Step, answers: Mapping[str, str], t: Bound) -> dict[str, str]:
    """Question id -> what is wrong with its answer, in the reader's language (empty: all fine)."""
    out: dict[str, str] = {}
    for q in step.questions:
        checked = check(q, answers.get(q.id, ""))
        if checked.value is None:
            out[q.id] = t(checked.problem, **dict(checked.params))
    return out


def saved_answers(state: StepState | None) -> dict[str, str]:
    raw = state.evidence.get("answers") if state is not None else None
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def current_answers(applicant: Applicant, step: Step) -> dict[str, str]:
    """What the form would be pre-filled with: the draft's answers, else the saved ones."""
    draft = applicant.form
    if draft is not None and draft.step == step.id:
        return dict(draft.answers)
    return saved_answers(applicant.steps.get(step.id))


def shown(question: FormQuestion, value: str, t: Bound) -> str:
    """An answer as the reader sees it: a choice's label, yes or no in their language."""
    if question.type == "choice":
        option = next((o for o in question.options if o.value == value), None)
        return option.label.get(t.lang) if option is not None else value
    if question.type == "yes_no" and value in (YES, NO):
        return t("forms.answer_yes" if value == YES else "forms.answer_no")
    return value if value else t("forms.skipped")


def summary_lines(step: Step, answers: Mapping[str, str], t: Bound) -> list[str]:
    lines = []
    for n, q in enumerate(step.questions, start=1):
        value = shown(q, answers[q.id], t) if q.id in answers else t("forms.unanswered")
        lines.append(f"{n}. {q.label.get(t.lang)}: {value}")
    return lines


def for_reviewers(step: Step, state: StepState, t: Bound, limit: int = 200) -> str:
    """The answers as one line of the review post, each clipped (they are the applicant's words)."""
    answers = saved_answers(state)
    parts = []
    for q in step.questions:
        if q.id in answers:
            value = shown(q, answers[q.id], t)
            parts.append(
                f"{q.label.get(t.lang)}: {value if len(value) <= limit else value[: limit - 1] + '…'}"
            )
    return "; ".join(parts) if parts else t("review.evidence_confirmed", date=state.at[:10])


def admin_lines(rules: Rules, applicant: Applicant) -> list[str]:
    """`show`: each saved form's answers (by question id), and a form being answered."""
    lines = []
    for step in rules.steps:
        if not step.questions:
            continue
        answers = saved_answers(applicant.steps.get(step.id))
        if answers:
            lines.append(f"  {step.id} answers: " + "; ".join(f"{k}={v!r}" for k, v in answers.items()))
    draft = applicant.form
    if draft is not None:
        lines.append(
            f"  {draft.step} form being answered: {len(draft.answers)} answered"
            + (f", asking {draft.asking}" if draft.asking else ", paused")
        )
    return lines


def next_unanswered(step: Step, answers: Mapping[str, str], after: str = "") -> FormQuestion | None:
    """The first question without an answer (after the question `after`, when given)."""
    ids = [q.id for q in step.questions]
    start = ids.index(after) + 1 if after in ids else 0
    return next((q for q in step.questions[start:] if q.id not in answers), None)


def question(step: Step, question_id: str) -> FormQuestion | None:
    return next((q for q in step.questions if q.id == question_id), None)


def number_of(step: Step, question_id: str) -> int:
    return next((n for n, q in enumerate(step.questions, start=1) if q.id == question_id), 0)


def is_live(draft: FormDraft, now: datetime) -> bool:
    """The question asked is still open (the conversation has not timed out)."""
    return (
        bool(draft.asking)
        and bool(draft.at)
        and from_iso(draft.at) >= now - timedelta(minutes=CONVERSATION_MINUTES)
    )


# -- reading a message ----------------------------------------------------------------------------

Control = Literal["skip", "back", "keep", "cancel", "start", "edit"]
CONTROLS: tuple[Control, ...] = ("skip", "back", "keep", "cancel", "start", "edit")


def control_words(translator_words: Mapping[str, Iterable[str]]) -> dict[str, Control]:
    """The words of `forms.words.*` (every language) -> the control they ask for."""
    out: dict[str, Control] = {}
    for name in CONTROLS:
        for word in translator_words.get(name, ()):
            key = normalise(word).strip()
            if key:
                out.setdefault(key, name)
    return out


def control_of(text: str, words: Mapping[str, Control], understood: Understood) -> Control | None:
    """A message that is only a control word ("skip", "건너뛰기", "back", "cancel")."""
    key = normalise(text).strip()
    if key in words:
        return words[key]
    if understood.intent is Intent.CANCEL and len(key.split()) <= 3:
        return "cancel"
    return None


@dataclass(frozen=True)
class Typed:
    """A typed answer to one question: the value to keep, or the locale key saying why not."""

    value: str | None
    problem: str = ""
    params: tuple[tuple[str, object], ...] = ()


def read_typed(q: FormQuestion, text: str, understood: Understood) -> Typed:
    """A message as the answer to `q`. Nothing is guessed: an unclear answer gets the question again.

    choice: the option's number, value or label (any language); yes / no: the bot's own yes and no
    ("아직 안 했어요", "not yet" are a no); text: as typed, checked against the pattern."""
    value = text.strip()
    if q.type == "choice":
        key = normalise(value).strip().rstrip(".)").strip()
        if key.isdigit() and 1 <= int(key) <= len(q.options):
            return Typed(q.options[int(key) - 1].value)
        for option in q.options:
            names = {
                normalise(option.value).strip(),
                *(normalise(t).strip() for t in option.label.texts.values()),
            }
            if key in names:
                return Typed(option.value)
        return Typed(None, "forms.pick_number")
    if q.type == "yes_no":
        if understood.intent in (Intent.YES, Intent.DONE):
            return Typed(YES)
        if understood.intent in (Intent.NO, Intent.NOT_YET):
            return Typed(NO)
        return Typed(None, "forms.yes_or_no")
    checked = check(q, value)
    return Typed(checked.value, checked.problem, checked.params)


# -- the neutral form (Slack and Discord modals) --------------------------------------------------


def neutral_form(step: Step, answers: Mapping[str, str], t: Bound) -> Form:
    """The step's questions as a neutral Form in the reader's language, pre-filled with `answers`."""
    fields = []
    for q in step.questions:
        value = answers.get(q.id, "")
        hint = q.help.get(t.lang) if q.help is not None else ""
        if q.type == "choice":
            choices = tuple(Choice(o.value, o.label.get(t.lang)) for o in q.options)
            fields.append(
                FormField(q.id, q.label.get(t.lang), "choice", choices, q.required, value=value, hint=hint)
            )
        elif q.type == "yes_no":
            choices = (Choice(YES, t("forms.answer_yes")), Choice(NO, t("forms.answer_no")))
            fields.append(
                FormField(q.id, q.label.get(t.lang), "choice", choices, q.required, value=value, hint=hint)
            )
        else:
            placeholder = q.pattern_hint.get(t.lang) if q.pattern_hint is not None else ""
            fields.append(
                FormField(
                    q.id,
                    q.label.get(t.lang),
                    "paragraph" if q.long else "text",
                    required=q.required,
                    max_length=q.max_length,
                    placeholder=placeholder,
                    value=value,
                    hint=hint,
                )
            )
    return Form(
        id=FORM_ID,
        title=step.title.get(t.lang),
        submit=t("forms.submit"),
        cancel=t("forms.cancel"),
        fields=tuple(fields),
        context=step.id,
    )
