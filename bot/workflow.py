"""Pure functions over (rules, applicant): where someone is, what is done, what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.documents.summary import expiry as document_expiry
from bot.models import Applicant, StepProgress
from bot.rules import Rules, Step
from bot.step_kinds import kind_of

ItemState = Literal["done", "current", "todo"]


@dataclass(frozen=True)
class ChecklistItem:
    number: int
    step: Step
    state: ItemState
    reopened: bool = False
    applied: str = ""
    """When the applicant said they applied (steps with `records_applied`), as a date."""


def is_applicant(rules: Rules, applicant: StepProgress) -> bool:
    """Reviewers and admins who only talk to the bot are not applicants (no reminders, not counted),
    unless they started an application themselves: asked to apply, uploaded a document, or have steps."""
    staff = rules.is_reviewer(applicant.key) or rules.is_admin(applicant.key)
    return not staff or applicant.applying or applicant.has_steps or applicant.has_documents


def current_step(rules: Rules, applicant: StepProgress) -> Step | None:
    """The first step not done, in order; None once every step (the review included) is done."""
    return next((s for s in rules.steps if not applicant.is_done(s.id)), None)


def checklist(rules: Rules, applicant: Applicant) -> list[ChecklistItem]:
    current = current_step(rules, applicant)
    items = []
    for number, step in enumerate(rules.steps, start=1):
        if applicant.is_done(step.id):
            state: ItemState = "done"
        elif current is not None and step.id == current.id:
            state = "current"
        else:
            state = "todo"
        state_record = applicant.steps.get(step.id)
        reopened = state_record is not None and state_record.status == "reopened"
        applied = applicant.applied.get(step.id, "")[:10] if step.records_applied else ""
        items.append(ChecklistItem(number, step, state, reopened, applied))
    return items


def last_done(rules: Rules, applicant: Applicant) -> Step | None:
    """The step the applicant finished most recently (the lab's review never counts)."""
    done = [s for s in rules.steps if applicant.is_done(s.id) and not kind_of(s).decided_by_reviewers]
    return max(done, key=lambda s: (applicant.steps[s.id].at, rules.step_index(s.id)), default=None)


def review_step(rules: Rules) -> Step | None:
    last = rules.steps[-1] if rules.steps else None
    return last if last is not None and kind_of(last).decided_by_reviewers else None


def missing_for_review(rules: Rules, applicant: StepProgress) -> list[Step]:
    """Steps that must be done before the package can go to the reviewers."""
    return [s for s in rules.steps if not kind_of(s).decided_by_reviewers and not applicant.is_done(s.id)]


def package_complete(rules: Rules, applicant: StepProgress) -> bool:
    return not missing_for_review(rules, applicant)


def done_count(rules: Rules, applicant: StepProgress) -> int:
    return sum(1 for s in rules.steps if applicant.is_done(s.id))


def training_expiry(rules: Rules, applicant: Applicant) -> date | None:
    """The latest expiry among the person's accepted documents (their CITI training), read by each
    document's parser; None when no document says."""
    dates = []
    for doc in applicant.documents:
        step = rules.step(doc.step)
        profile = rules.documents.get(step.document or "") if step is not None else None
        until = document_expiry(profile.parser, doc.fields) if doc.accepted and profile else None
        if until is not None:
            dates.append(until)
    return max(dates) if dates else None
