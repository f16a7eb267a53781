"""Step kinds: how a step of rules.yaml is completed, shown, given to reviewers and checked.

`complete_by` in rules.yaml names one of these. Each kind is one class, registered in `KINDS`; the
rest of the code asks the kind (`kind_of(step)`) and never compares `complete_by` itself. A new kind
(a form, say) is one class here and one line in KINDS.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import ClassVar

from bot import forms
from bot.documents.summary import reviewer_text
from bot.i18n import Bound
from bot.models import StepState
from bot.rules import Rules, Step

Translate = Bound


@dataclass(frozen=True)
class DoneReply:
    """What saying "done" on a step leads to: complete it, or a reply explaining what else is needed."""

    complete: bool
    key: str = ""
    params: dict[str, object] | None = None


class StepKind:
    name: ClassVar[str]
    decided_by_reviewers: ClassVar[bool] = False
    """The lab's review: not part of the applicant's package, never reopened by a rejection."""
    takes_answer: ClassVar[bool] = False
    takes_document: ClassVar[bool] = False
    takes_form: ClassVar[bool] = False
    done_button: ClassVar[str] = "buttons.done"
    """The locale key of the primary button on the step's instructions (bot/presenter.py)."""

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        """The last line of the step's instructions, in `lang`."""
        return str(t("status.finish_confirm"))

    def on_done(self, step: Step, rules: Rules) -> DoneReply:
        """The applicant says "done" while on this step."""
        return DoneReply(True)

    def for_reviewers(self, step: Step, state: StepState, rules: Rules, t: Translate) -> str:
        """The step's evidence, as one line of the review post."""
        return str(t("review.evidence_confirmed", date=state.at[:10]))

    def problems(self, step: Step, index: int, rules: Rules) -> list[tuple[str, str]]:
        """rules.yaml problems for this step, as (field, message)."""
        return []


class Confirm(StepKind):
    name = "confirm"

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        if step.records_applied:
            return str(t("status.finish_applied"))
        return super().how_to_finish(step, rules, lang, t)

    def for_reviewers(self, step: Step, state: StepState, rules: Rules, t: Translate) -> str:
        applied = str(state.evidence.get("applied", ""))
        if applied:
            return str(t("review.evidence_applied", applied=applied[:10], date=state.at[:10]))
        return super().for_reviewers(step, state, rules, t)


class Answer(StepKind):
    name = "answer"
    takes_answer = True

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        return step.ask.get(lang) if step.ask is not None else ""

    def on_done(self, step: Step, rules: Rules) -> DoneReply:
        return DoneReply(False, "steps.need_answer", {"title": step.title, "question": step.ask})

    def for_reviewers(self, step: Step, state: StepState, rules: Rules, t: Translate) -> str:
        answer = str(state.evidence.get("answer", ""))
        if step.review_link:
            return f"{answer} ({step.review_link.replace('{answer}', urllib.parse.quote(answer))})"
        return answer

    def problems(self, step: Step, index: int, rules: Rules) -> list[tuple[str, str]]:
        return [("ask", "is required when complete_by is answer")] if step.ask is None else []


class Document(StepKind):
    name = "document"
    takes_document = True

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        profile = rules.documents.get(step.document or "")
        return str(t("status.finish_document", document=profile.title)) if profile else ""

    def on_done(self, step: Step, rules: Rules) -> DoneReply:
        profile = rules.documents.get(step.document or "")
        document = profile.title if profile else step.document or ""
        return DoneReply(False, "steps.need_document", {"title": step.title, "document": document})

    def for_reviewers(self, step: Step, state: StepState, rules: Rules, t: Translate) -> str:
        profile = rules.documents.get(step.document or "")
        parser = profile.parser if profile is not None else "generic"
        return reviewer_text(parser, state.evidence, t, show_email=rules.reviewers.show_email)

    def problems(self, step: Step, index: int, rules: Rules) -> list[tuple[str, str]]:
        if step.document is None:
            return [("document", "is required when complete_by is document")]
        if step.document not in rules.documents:
            known = ", ".join(sorted(rules.documents)) or "none defined"
            return [("document", f"names an undefined document {step.document!r} (documents: {known})")]
        return []


class FormStep(StepKind):
    """Questions of rules.yaml (`questions`) answered in a modal, or one at a time in the
    conversation (bot/forms.py, bot/handlers/form.py)."""

    name = "form"
    takes_form = True
    done_button = "forms.button_fill"

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        return str(t("forms.how_to_finish", count=len(step.questions)))

    def on_done(self, step: Step, rules: Rules) -> DoneReply:
        return DoneReply(False, "forms.need_answers", {"title": step.title})

    def for_reviewers(self, step: Step, state: StepState, rules: Rules, t: Translate) -> str:
        return forms.for_reviewers(step, state, t)

    def problems(self, step: Step, index: int, rules: Rules) -> list[tuple[str, str]]:
        return forms.question_problems(step, rules.language)


class Review(StepKind):
    name = "review"
    decided_by_reviewers = True

    def how_to_finish(self, step: Step, rules: Rules, lang: str, t: Translate) -> str:
        return ""

    def on_done(self, step: Step, rules: Rules) -> DoneReply:
        return DoneReply(False, "steps.waiting_review")

    def problems(self, step: Step, index: int, rules: Rules) -> list[tuple[str, str]]:
        if index != len(rules.steps) - 1:
            return [("complete_by", "review must be the last step")]
        return []


KINDS: dict[str, StepKind] = {
    kind.name: kind for kind in (Confirm(), Answer(), Document(), FormStep(), Review())
}


def kind_of(step: Step) -> StepKind:
    return KINDS[step.complete_by]
