"""Admin operations, shared by the DM commands and `accessbot admin ...` on a data folder."""

from __future__ import annotations

import csv
import io
import re
import statistics
from datetime import datetime

from bot.models import Applicant, StepState, from_iso
from bot.rules import Rules
from bot.store import ForgetReport, Store
from bot.workflow import current_step, done_count, is_applicant

_MENTION = re.compile(r"^<@!?([A-Za-z0-9]+)(\|[^>]*)?>$")


def resolve_user(text: str, platform: str) -> str:
    """`slack:U1`, `<@U1>` (a mention) or `alice` (on the admin's platform) -> a user key."""
    text = text.strip()
    match = _MENTION.match(text)
    if match:
        return f"{platform}:{match.group(1)}"
    if re.match(r"^[a-z]+:\S+$", text):
        return text
    return f"{platform}:{text.lstrip('@')}"


def _hours(since: str, now: datetime) -> float:
    return max(0.0, (now - from_iso(since)).total_seconds() / 3600)


def _age(hours: float) -> str:
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.0f} h"


def applicants(store: Store, rules: Rules) -> list[Applicant]:
    """Everyone with a record, less staff (reviewers, admins) who only talked to the bot."""
    return [a for a in store.all() if is_applicant(rules, a)]


def pending(store: Store, rules: Rules, now: datetime) -> list[str]:
    lines = []
    for review in sorted(store.reviews(), key=lambda r: r.created):
        if review.state != "pending":
            continue
        approvals = sum(1 for v in review.votes.values() if v == "approve")
        posted = "posted" if review.posts else "NOT POSTED (check the reviewers channel in rules.yaml)"
        lines.append(
            f"{review.applicant}: waiting {_age(_hours(review.created, now))},"
            f" {approvals}/{rules.reviewers.approvals_required} approvals, {posted}"
        )
    return lines


def show(store: Store, rules: Rules, key: str) -> list[str] | None:
    applicant = store.get(key)
    if applicant is None:
        return None
    step = current_step(rules, applicant)
    lines = [
        f"{applicant.key} (language {applicant.lang}, since {applicant.created[:10]},"
        f" {done_count(rules, applicant)}/{len(rules.steps)} done,"
        f" current: {step.id if step else 'finished'})"
    ]
    for s in rules.steps:
        state = applicant.steps.get(s.id)
        if state is None:
            lines.append(f"  {s.id}: to do")
        else:
            note = f" ({state.note})" if state.note else ""
            lines.append(f"  {s.id}: {state.status} {state.at}{note}")
    for doc in applicant.documents:
        verdict = "accepted" if doc.accepted else "rejected: " + ",".join(doc.problems)
        lines.append(
            f"  document for {doc.step} at {doc.at}: {doc.kind}, {verdict}; sha256 {doc.sha256[:12]}…"
        )
    review = store.review(applicant.review_id) if applicant.review_id else None
    if review is not None:
        lines.append(f"  review {review.id}: {review.state}, votes {dict(review.votes)}")
    return lines


def reset(store: Store, rules: Rules, key: str, step_id: str, by: str) -> str:
    step = rules.step(step_id)
    if step is None:
        return f"no step {step_id!r}; steps: {', '.join(s.id for s in rules.steps)}"
    if store.get(key) is None:
        return f"no applicant {key}"
    now = store.now()
    withdrawn: list[str] = []

    def reopen(a: Applicant) -> None:
        a.steps[step.id] = StepState("reopened", now, {}, by=by, note="reset by an admin")
        a.step_started = now
        if a.review_id:
            withdrawn.append(a.review_id)
            a.review_id = ""

    store.update(key, reopen)
    for review_id in withdrawn:
        store.update_review(
            review_id, lambda r: setattr(r, "state", "withdrawn") if r.state == "pending" else None
        )
    store.audit(by, "admin.reset", key, step=step.id)
    return f"{key}: step {step.id} reopened" + (" (pending review withdrawn)" if withdrawn else "")


class NotDone(Exception):
    """An admin command that changes data could not be carried out; `str()` says why."""


def forget(store: Store, key: str, by: str) -> ForgetReport:
    """Forget a person everywhere (Store.forget), audited. Raises NotDone when there is no such
    person, ForgetFailed (bot.store) when a write failed: never a success that did not happen."""
    report = store.forget(key)
    if not report:
        raise NotDone(f"no applicant {key} (use the full id, e.g. slack:U0123)")
    store.audit(by, "admin.forget", key)
    return report


def forget_text(report: ForgetReport) -> str:
    posts = f"; {len(report.review_posts)} review post(s) to mark withdrawn" if report.review_posts else ""
    return f"forgot {report.key}: {report.summary()}{posts}"


CHANGES = {"forget": 1, "reset": 2}
"""The admin commands that change data, with how many arguments each takes."""


def change(store: Store, rules: Rules, command: str, args: list[str], by: str = "cli") -> str:
    """Carry out `forget USER` or `reset USER STEP`; the text for the admin. Raises NotDone."""
    needed = CHANGES.get(command)
    if needed is None:
        raise NotDone(f"unknown command {command!r}")
    if len(args) < needed:
        raise NotDone(f"usage: {command} USER" + (" STEP" if needed == 2 else ""))
    if command == "forget":
        return forget_text(forget(store, args[0], by))
    if store.get(args[0]) is None:
        raise NotDone(f"no applicant {args[0]} (use the full id, e.g. slack:U0123)")
    return reset(store, rules, args[0], args[1], by)


def export_csv(store: Store, rules: Rules) -> str:
    """Everyone's progress, one row each; no document contents, names or e-mails."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["user", "language", "created", "current_step", "done", *[s.id for s in rules.steps], "review"]
    )
    for a in sorted(applicants(store, rules), key=lambda a: a.created):
        step = current_step(rules, a)
        review = store.review(a.review_id) if a.review_id else None
        writer.writerow(
            [
                a.key,
                a.lang,
                a.created,
                step.id if step else "finished",
                done_count(rules, a),
                *[(a.steps[s.id].at if a.is_done(s.id) else "") for s in rules.steps],
                review.state if review else ("approved" if a.approved_at else ""),
            ]
        )
    return out.getvalue()


def stats(store: Store, rules: Rules) -> list[str]:
    people = applicants(store, rules)
    at_step: dict[str, int] = {s.id: 0 for s in rules.steps}
    finished = 0
    durations: dict[str, list[float]] = {s.id: [] for s in rules.steps}
    for a in people:
        step = current_step(rules, a)
        if step is None:
            finished += 1
        else:
            at_step[step.id] += 1
        previous = a.created
        for s in rules.steps:
            state = a.steps.get(s.id)
            if state is None or state.status != "done":
                break
            durations[s.id].append(_hours(previous, from_iso(state.at)))
            previous = state.at
    lines = [f"{len(people)} people; {finished} approved"]
    for number, s in enumerate(rules.steps, start=1):
        times = durations[s.id]
        median = f", median {_age(statistics.median(times))}" if times else ""
        lines.append(f"{number}. {s.id}: {at_step[s.id]} here now{median}")
    return lines
