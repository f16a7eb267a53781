"""Return for changes, without rejecting (issue 15, item 4).

A reviewer asks for more on one step: the round becomes `returned` (no vote is counted as a
rejection), only that step reopens for the applicant, and when the package is complete again the
same round, and the same post, come back to the reviewers with what changed. The desk calls these
under its lock and commits what they change with what they leave to send (bot/review/desk.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.documents.summary import changes as document_changes
from bot.events import ButtonPress, Choice, Form, FormField
from bot.i18n import Bound
from bot.messenger import Delivery, Mention, Tell
from bot.models import Applicant, ReturnInfo, Review, StepState
from bot.review import reasons
from bot.review.deliveries import PostReview, RefreshPost, ReturnedPost, ReviewNote, ShareAgain
from bot.review.reasons import Chosen
from bot.rules import Rules, Step
from bot.step_kinds import kind_of

RETURN = "return_for_changes"
"""The review post's button (its action) that returns a package for changes."""
RETURN_FORM = "return_reason"
STEP_FIELD = "return_step"

TEXT_COMMAND = re.compile(r"^\s*/?return\s+([0-9a-f]{12})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Returned:
    review: Review
    applicant: Applicant | None
    deliveries: tuple[Delivery, ...]


def give_back(
    current: Review, applicant: Applicant | None, by: str, step: Step, chosen: Chosen, now: str, lang: str
) -> Returned:
    """The pending round `current`, returned by `by` for changes on `step` (both records changed)."""
    before = dict(applicant.steps[step.id].evidence) if applicant and step.id in applicant.steps else {}
    voters = list(dict.fromkeys([*current.votes, by]))
    times = current.returned.times + 1 if current.returned is not None else 1
    current.state = "returned"
    current.returned = ReturnInfo(
        step=step.id,
        by=by,
        at=now,
        reason=chosen.text_in(lang),
        reason_id=chosen.id,
        note=chosen.note,
        before=before,
        voters=voters,
        times=times,
    )
    current.votes = {}  # the package will change: earlier votes are asked for again
    current.awaiting_reason_from = []
    current.reason_asked_at = {}
    if applicant is not None:
        # Other completed steps stay; the review round stays the applicant's (it comes back).
        applicant.steps[step.id] = StepState("reopened", now, {}, by=by, note=chosen.text_in(applicant.lang))
        applicant.step_started = now
        applicant.pending = None
        applicant.reminders_sent = [r for r in applicant.reminders_sent if not r.startswith("stale:")]
    said = chosen.for_applicant()
    deliveries: tuple[Delivery, ...] = (
        Tell(current.applicant, "returns.returned_dm", {"reason": said, "step": step.title}),
        ReviewNote(
            current.id, "returns.channel_returned", {"by": Mention(by), "step": step.title, "reason": said}
        ),
        ReturnedPost(current.id),
    )
    return Returned(current, applicant, deliveries)


def returned_round(review: Review | None) -> bool:
    return review is not None and review.state == "returned" and review.returned is not None


def come_back(rules: Rules, review: Review, applicant: Applicant, now: str) -> Returned:
    """A returned round whose package is complete again: pending once more, on the same post."""
    info = review.returned
    assert info is not None
    step = rules.step(info.step)
    after = applicant.steps[info.step].evidence if info.step in applicant.steps else {}
    info.changes = [{"key": k, "params": p} for k, p in what_changed(step, info.before, dict(after))]
    info.came_back = now
    review.state = "pending"
    review.last_ping = now
    title: object = step.title if step is not None else info.step
    deliveries: tuple[Delivery, ...] = (
        Tell(review.applicant, "returns.resubmitted_dm"),
        PostReview(review.id),  # only when the round never got its post; otherwise nothing
        RefreshPost(review.id),  # the same post, edited: pending again, with what changed
        ShareAgain(review.id, info.step),  # the new file, when the step's document is shared
        ReviewNote(
            review.id,
            "returns.channel_back",
            {"voters": tuple(Mention(v) for v in info.voters), "step": title},
        ),
    )
    return Returned(review, applicant, deliveries)


def what_changed(
    step: Step | None, before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[str, dict[str, str]]]:
    """A document's differences (bot/documents/summary.py), or whether another step's answer did."""
    parser = after.get("parser") or before.get("parser")
    if step is not None and step.document and isinstance(parser, str) and parser:
        return document_changes(parser, before, after)
    keep = ("answer", "applied")
    if {k: before.get(k) for k in keep} != {k: after.get(k) for k in keep}:
        return [("returns.change_answer", {})]
    return [("returns.change_none", {})]


def change_lines(review: Review, t: Bound) -> list[str]:
    """What the review post says changed since the package was returned (empty before it came back)."""
    info = review.returned
    if info is None or not info.came_back or review.state != "pending":
        return []
    return [t(str(c.get("key")), **dict(c.get("params") or {})) for c in info.changes]


def returnable(rules: Rules) -> list[Step]:
    return [s for s in rules.steps if not kind_of(s).decided_by_reviewers]


def form(rules: Rules, press: ButtonPress, t: Bound) -> Form | None:
    """The return form: which step to reopen, a reason from the menu, and the reviewer's own words."""
    if press.action != RETURN:
        return None
    steps = tuple(
        Choice(s.id, f"{n}. {s.title.get(t.lang)}")
        for n, s in enumerate(rules.steps, start=1)
        if not kind_of(s).decided_by_reviewers
    )
    return Form(
        id=RETURN_FORM,
        title=t("returns.form_title"),
        submit=t("returns.form_submit"),
        cancel=t("review.form_cancel"),
        fields=(
            FormField(STEP_FIELD, t("returns.form_step"), "choice", steps, max_length=60),
            *reasons.form_fields(rules, "return", t),
        ),
        context=press.value,
    )
