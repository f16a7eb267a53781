"""A dry run of a rules.yaml change: who it would affect, before anyone reloads.

    accessbot rules diff OLD NEW     reads the data folder read-only (beside a live bot)

Pure functions over (old rules, new rules, applicants, reviews); nothing is written. It lists:
  - applicants whose current step changes;
  - completed steps that no longer exist, or whose checks got stricter (a stored answer that no
    longer matches, a stored score under a new minimum, a document kind no longer accepted ...);
  - pending packages that would need a new document;
  - approved members whose access would change (a new step to do, or stricter checks).
`summarise_diff(old, new, store)` is the same summary as text, for admins after a live reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

from bot import forms, safe_regex
from bot.estimates import Records
from bot.models import Applicant, Review
from bot.rules import DocumentChecks, DocumentProfile, Rules, Step
from bot.step_kinds import kind_of
from bot.workflow import current_step, is_applicant, missing_for_review

_SEVERITY = {"off": 0, "warn": 1, "reject": 2}
_SEVERITIES = ("wrong_institution", "name_matches_applicant", "verification_link", "refresher_stage")
_ANY_WHEN_EMPTY = ("course_learner_group", "institution")


@dataclass(frozen=True)
class Affected:
    key: str
    detail: str


@dataclass
class RulesDiff:
    steps_added: list[str] = field(default_factory=list)
    steps_removed: list[str] = field(default_factory=list)
    steps_moved: list[str] = field(default_factory=list)
    stricter: dict[str, list[str]] = field(default_factory=dict)
    """Step id -> how its checks got stricter."""
    current_changes: list[Affected] = field(default_factory=list)
    done_removed: list[Affected] = field(default_factory=list)
    done_stricter: list[Affected] = field(default_factory=list)
    pending_need_document: list[Affected] = field(default_factory=list)
    approved_changed: list[Affected] = field(default_factory=list)
    people: int = 0
    other_sections: list[str] = field(default_factory=list)
    """Other top-level sections of rules.yaml that changed (reviewers, reminders, documents, ...)."""

    @property
    def affects_anyone(self) -> bool:
        return any(
            (
                self.current_changes,
                self.done_removed,
                self.done_stricter,
                self.pending_need_document,
                self.approved_changed,
            )
        )


def _severity_up(name: str, old: str, new: str) -> str | None:
    return f"{name} {old} → {new}" if _SEVERITY[new] > _SEVERITY[old] else None


def stricter_checks(old: DocumentChecks, new: DocumentChecks) -> list[str]:
    """How `new` refuses or flags more documents than `old`, in words; [] when it does not."""
    out: list[str] = []
    if not set(new.kind) >= set(old.kind):
        out.append(f"kind {', '.join(old.kind)} → {', '.join(new.kind)}")
    for name in _ANY_WHEN_EMPTY:
        before, after = getattr(old, name), getattr(new, name)
        if after and (not before or not set(after) >= set(before)):
            out.append(f"{name} {list(before) or 'any'} → {list(after)}")
    for name in _SEVERITIES:
        found = _severity_up(name, getattr(old, name), getattr(new, name))
        if found:
            out.append(found)
    if new.valid_for_at_least_days > old.valid_for_at_least_days:
        out.append(f"valid_for_at_least_days {old.valid_for_at_least_days} → {new.valid_for_at_least_days}")
    if new.unique_record_id and not old.unique_record_id:
        out.append("unique_record_id false → true")
    if new.min_score is not None and (old.min_score is None or new.min_score > old.min_score):
        out.append(f"min_score {old.min_score if old.min_score is not None else 'none'} → {new.min_score}")
    old_modules = {m.label: m for m in old.modules}
    for module in new.modules:
        before = old_modules.get(module.label)
        if before is None:
            out.append(f"new module {module.label!r} ({module.severity})")
        elif _SEVERITY[module.severity] > _SEVERITY[before.severity]:
            out.append(f"module {module.label!r} {before.severity} → {module.severity}")
    added = [p for p in new.phrases if p not in old.phrases]
    if added:
        out.append(f"new phrases {added}")
    return out


def stricter_profile(old: DocumentProfile | None, new: DocumentProfile | None) -> list[str]:
    if new is None:
        return []
    if old is None:
        return ["a different document"]
    out: list[str] = []
    if old.parser != new.parser:
        out.append(f"parser {old.parser} → {new.parser}")
    if not set(new.accept) >= set(old.accept):
        out.append(f"accept {', '.join(old.accept)} → {', '.join(new.accept)}")
    if new.max_bytes < old.max_bytes:
        out.append(f"max_bytes {old.max_bytes} → {new.max_bytes}")
    return out + stricter_checks(old.require, new.require)


def stricter_step(old: Step, new: Step, old_rules: Rules, new_rules: Rules) -> list[str]:
    """How completing the step got harder (the same id in both rules)."""
    if old.complete_by != new.complete_by:
        return [f"complete_by {old.complete_by} → {new.complete_by}"]
    out: list[str] = []
    if kind_of(new).takes_answer and new.answer_pattern and new.answer_pattern != old.answer_pattern:
        out.append(f"answer_pattern {old.answer_pattern!r} → {new.answer_pattern!r}")
    if kind_of(new).takes_form:
        out += forms.questions_changed(old, new)
    if kind_of(new).takes_document:
        old_profile = old_rules.documents.get(old.document or "")
        new_profile = new_rules.documents.get(new.document or "")
        if old.document != new.document and old_profile != new_profile:
            out.append(f"document {old.document} → {new.document}")
        out += stricter_profile(old_profile, new_profile)
    return out


def _still_passes(step: Step, reasons: list[str], applicant: Applicant, new_rules: Rules) -> bool:
    """For what can be re-checked from what is stored: does the applicant's completed step still pass?
    False when it cannot be told (the checks got stricter in a way only a new document would show)."""
    state = applicant.steps[step.id]
    if kind_of(step).takes_answer and step.answer_pattern:
        answer = str(state.evidence.get("answer", ""))
        return bool(safe_regex.fullmatch(step.answer_pattern, answer))
    if kind_of(step).takes_form:  # the saved answers, checked against the new questions
        answers = forms.saved_answers(state)
        return all(forms.check(q, answers.get(q.id, "")).value is not None for q in step.questions)
    if kind_of(step).takes_document:
        profile = new_rules.documents.get(step.document or "")
        if profile is None or any(not r.startswith("min_score") for r in reasons):
            return False
        scores = [
            d.fields.get("reported_score") for d in applicant.documents if d.step == step.id and d.accepted
        ]
        numbers = [int(s) for s in scores if isinstance(s, int | str) and str(s).isdigit()]
        floor = profile.require.min_score
        return bool(numbers) and floor is not None and max(numbers) >= floor
    return False


def _label(rules: Rules, step: Step | None) -> str:
    return "finished" if step is None else f"{rules.step_index(step.id) + 1}. {step.id}"


def diff_rules(
    old: Rules, new: Rules, applicants: Iterable[Applicant], reviews: Sequence[Review]
) -> RulesDiff:
    diff = RulesDiff(other_sections=changed_sections(old, new))
    old_ids, new_ids = [s.id for s in old.steps], [s.id for s in new.steps]
    diff.steps_added = [i for i in new_ids if i not in old_ids]
    diff.steps_removed = [i for i in old_ids if i not in new_ids]
    kept_old = [i for i in old_ids if i in new_ids]
    kept_new = [i for i in new_ids if i in old_ids]
    diff.steps_moved = [i for i, j in zip(kept_old, kept_new, strict=True) if i != j]
    for step in new.steps:
        before = old.step(step.id)
        if before is not None:
            reasons = stricter_step(before, step, old, new)
            if reasons:
                diff.stricter[step.id] = reasons
    pending = {r.applicant for r in reviews if r.state == "pending"}
    for a in sorted(applicants, key=lambda a: a.key):
        if not (is_applicant(old, a) or is_applicant(new, a)):
            continue
        diff.people += 1
        _affected(diff, old, new, a, a.key in pending)
    return diff


def _affected(diff: RulesDiff, old: Rules, new: Rules, a: Applicant, pending: bool) -> None:
    was, will = current_step(old, a), current_step(new, a)
    if (was.id if was else None) != (will.id if will else None):
        diff.current_changes.append(Affected(a.key, f"{_label(old, was)} → {_label(new, will)}"))
    for step_id in diff.steps_removed:
        if a.is_done(step_id):
            diff.done_removed.append(Affected(a.key, step_id))
    stricter_done: list[str] = []
    for step_id, reasons in diff.stricter.items():
        step = new.step(step_id)
        if step is not None and a.is_done(step_id) and not _still_passes(step, reasons, a, new):
            stricter_done.append(step_id)
            diff.done_stricter.append(Affected(a.key, f"{step_id} ({'; '.join(reasons)})"))
    if pending:
        needs = [
            s.id
            for s in new.steps
            if kind_of(s).takes_document and (s.id in stricter_done or s in missing_for_review(new, a))
        ]
        if needs:
            diff.pending_need_document.append(Affected(a.key, ", ".join(needs)))
    if a.approved_at:
        todo = [f"{new.step_index(s.id) + 1}. {s.id}" for s in missing_for_review(new, a)]
        parts = ([f"would have to do {', '.join(todo)}"] if todo else []) + (
            [f"stricter checks on {', '.join(stricter_done)}"] if stricter_done else []
        )
        if parts:
            diff.approved_changed.append(Affected(a.key, "; ".join(parts)))


def render(diff: RulesDiff) -> str:
    lines = ["Changes to the steps:"]
    lines += [f"  + {i} (added)" for i in diff.steps_added]
    lines += [f"  - {i} (removed)" for i in diff.steps_removed]
    lines += [f"  ↕ {i} (moved)" for i in diff.steps_moved]
    lines += [f"  ~ {i}: {'; '.join(r)}" for i, r in diff.stricter.items()]
    if len(lines) == 1:
        lines.append("  none that changes what applicants must do")
    if diff.other_sections:
        lines.append(f"Other sections changed: {', '.join(diff.other_sections)}")
    lines.append(f"Who it affects (of {diff.people} applicant(s) in the data folder):")
    for title, entries in (
        ("applicants whose current step changes", diff.current_changes),
        ("completed steps that no longer exist", diff.done_removed),
        ("completed steps whose checks got stricter", diff.done_stricter),
        ("pending packages that would need a new document", diff.pending_need_document),
        ("approved members whose access would change", diff.approved_changed),
    ):
        if entries:
            lines.append(f"  {title} ({len(entries)}):")
            lines += [f"    {e.key}: {e.detail}" for e in entries]
    if not diff.affects_anyone:
        lines.append("  nobody")
    return "\n".join(lines)


def summarise_diff(old: Rules, new: Rules, store: Records) -> str:
    """The dry run's summary as text: for `accessbot rules diff` and for admins after a live reload."""
    return render(diff_rules(old, new, store.all(), store.reviews()))


def changed_sections(old: Rules, new: Rules) -> list[str]:
    """The top-level sections of rules.yaml that differ, steps aside."""
    return [
        f.name for f in fields(Rules) if f.name != "steps" and getattr(old, f.name) != getattr(new, f.name)
    ]
