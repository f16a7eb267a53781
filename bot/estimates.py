"""Honest wait estimates, from the store's own timestamps: pure functions, nothing stored.

How long a step takes in this lab is measured over the last `estimates.sample` applicants who
finished it (rules.yaml): the median and the 80th percentile, or "not enough data yet" below
`estimates.min_sample`. A step's time runs from when the applicant could start it (the previous
step done, or their first message) to when it was done. The review step's place in the queue is
counted among the packages still pending, oldest first.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.i18n import Bound
from bot.models import Applicant, Review, StepProgress, from_iso
from bot.rules import Rules
from bot.step_kinds import kind_of
from bot.workflow import current_step, is_applicant


class Records(Protocol):
    """What the estimates read from the store (bot.store.Store is one)."""

    def all(self) -> list[Applicant]: ...

    def reviews(self) -> list[Review]: ...


@dataclass(frozen=True)
class Finished:
    """One applicant's time on one step (no name or key: only what the estimate needs)."""

    at: str
    """When the step was done (ISO, UTC)."""
    hours: float


@dataclass(frozen=True)
class Estimate:
    step_id: str
    count: int
    """How many finished passages the figures are over (at most `estimates.sample`)."""
    median_hours: float | None = None
    p80_hours: float | None = None

    @property
    def enough(self) -> bool:
        return self.median_hours is not None


def _hours(start: str, end: str) -> float:
    return max(0.0, (from_iso(end) - from_iso(start)).total_seconds() / 3600)


def time_on_steps(rules: Rules, applicant: StepProgress) -> dict[str, Finished]:
    """Each done step's time: from the latest earlier step done before it (or the applicant's first
    message) to its own completion."""
    out: dict[str, Finished] = {}
    done_before: list[str] = []
    for step in rules.steps:
        at = applicant.done_time(step.id)
        if at:
            starts = [earlier for earlier in done_before if earlier <= at]
            start = max(starts) if starts else applicant.created
            out[step.id] = Finished(at, _hours(start, at))
            done_before.append(at)
    return out


def durations(rules: Rules, applicants: Iterable[StepProgress]) -> dict[str, list[Finished]]:
    """Every step's finished passages, oldest first, over the applicants (staff excluded)."""
    out: dict[str, list[Finished]] = {s.id: [] for s in rules.steps}
    for applicant in applicants:
        if not is_applicant(rules, applicant):
            continue
        for step_id, finished in time_on_steps(rules, applicant).items():
            out[step_id].append(finished)
    for passages in out.values():
        passages.sort(key=lambda f: f.at)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def estimate_from(step_id: str, passages: Sequence[Finished], sample: int, min_sample: int) -> Estimate:
    recent = [f.hours for f in sorted(passages, key=lambda f: f.at)[-sample:]] if sample > 0 else []
    if len(recent) < max(1, min_sample):
        return Estimate(step_id, len(recent))
    return Estimate(step_id, len(recent), statistics.median(recent), percentile(recent, 80))


def estimate(rules: Rules, applicants: Iterable[Applicant], step_id: str) -> Estimate:
    """How long `step_id` takes here, with rules.yaml's `estimates` settings."""
    passages = durations(rules, applicants).get(step_id, [])
    return estimate_from(step_id, passages, rules.estimates.sample, rules.estimates.min_sample)


def queue_place(reviews: Iterable[Review], review_id: str) -> tuple[int, int] | None:
    """(place, of how many) of a pending package among the pending ones, oldest first; None when
    the package is not pending."""
    waiting = sorted((r for r in reviews if r.state == "pending"), key=lambda r: (r.created, r.id))
    for place, review in enumerate(waiting, start=1):
        if review.id == review_id:
            return place, len(waiting)
    return None


def duration_text(hours: float, t: Bound) -> str:
    """A rounded, readable duration in the reader's language."""
    if hours < 1:
        return t("estimate.under_an_hour")
    if hours < 36:
        n = round(hours)
        return t("estimate.hour") if n == 1 else t("estimate.hours", n=n)
    days = hours / 24
    if days < 14:
        n = round(days)
        return t("estimate.day") if n == 1 else t("estimate.days", n=n)
    return t("estimate.weeks", n=round(days / 7))


def estimate_sentence(found: Estimate, t: Bound) -> str:
    if found.median_hours is None or found.p80_hours is None:
        return t("estimate.not_enough")
    return t(
        "estimate.typical",
        median=duration_text(found.median_hours, t),
        p80=duration_text(found.p80_hours, t),
        count=found.count,
    )


INLINE_LIMIT = 2000
"""Up to this many people, the very first ask (before the background loop has run) works the
estimates out inline; above it the first checklists go without an estimate for the few seconds
the background pass takes, so a start-up never reads every record before its first reply."""


def _timelines(records: Records) -> Iterable[StepProgress]:
    """Every record as its steps' times: a Progress of each when the store streams them (not a
    whole Applicant: a third of the pass's time at 100,000), else as given."""
    iter_progress = getattr(records, "iter_progress", None)
    if callable(iter_progress):
        return iter_progress()  # type: ignore[no-any-return]
    iter_all = getattr(records, "iter_all", None)
    return iter_all() if callable(iter_all) else records.all()


class EstimateCache:
    """Estimates read the whole store, so they are worked out at most every `ttl_s` seconds, not on
    every checklist: a status DM stays a keyed lookup however many applicants there are. Only the
    last `estimates.sample` passages of each step are kept (memory stays bounded)."""

    def __init__(
        self,
        ttl_s: float = 600.0,
        give_way: Callable[[Iterable[StepProgress]], Iterable[StepProgress]] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self._give_way = give_way
        """Paces a pass while people are being answered (bot/give_way.py); None: full speed."""
        self._at = -ttl_s
        self._rules: Rules | None = None
        self._durations: dict[str, list[Finished]] = {}
        self._lock = threading.Lock()
        self._working = False
        """A background first pass has been started (estimate() starts at most one)."""
        self._passing = False
        """A pass is reading the records right now."""

    def refresh(self, rules: Rules, records: Records, *, paced: bool = True) -> bool:
        """Work the figures out again when they are stale (the reminder loop calls this, in the
        background, so a status message never pays for reading every record). A pass already
        under way is not started again beside it: two passes over every record only slow each
        other and whatever else the bot is doing (an admin's export). False: that other pass is
        still working the figures out.

        `paced`: give way to the people being answered; not when the pass is itself what a person
        waits for (a small store's first ask), which would only make that person wait longer."""
        with self._lock:
            if self._rules is rules and time.monotonic() - self._at <= self.ttl_s:
                return True
            if self._passing:
                return False
            self._passing = True
        try:
            timelines = _timelines(records)
            found = durations(rules, self._give_way(timelines) if self._give_way and paced else timelines)
            sample = max(0, rules.estimates.sample)
            kept = {step: passages[-sample:] if sample else [] for step, passages in found.items()}
            with self._lock:
                self._durations, self._rules, self._at = kept, rules, time.monotonic()
            return True
        finally:
            with self._lock:
                self._passing = False

    @property
    def ready(self) -> bool:
        """The figures have been worked out at least once."""
        with self._lock:
            return self._rules is not None

    def _refresh_in_background(self, rules: Rules, records: Records) -> None:
        with self._lock:
            if self._working:
                return
            self._working = True

        def work() -> None:
            try:
                self.refresh(rules, records)
            except Exception:
                logging.getLogger(__name__).exception("could not work out the wait estimates")
            finally:
                with self._lock:
                    self._working = False

        threading.Thread(target=work, name="estimates", daemon=True).start()

    def estimate(self, rules: Rules, records: Records, step_id: str) -> Estimate | None:
        """None: not worked out yet (a large store just started; a background pass is under way)."""
        with self._lock:
            never = self._rules is None
        if never:  # the very first ask, before the loop has run
            count = getattr(records, "count", None)
            if callable(count) and count() > INLINE_LIMIT:
                self._refresh_in_background(rules, records)
                return None
            if not self.refresh(rules, records, paced=False):  # a small lab, or a test: now
                return None  # the loop's first pass is under way: no figure rather than a wrong one
        with self._lock:
            passages = self._durations.get(step_id, [])
        return estimate_from(step_id, passages, rules.estimates.sample, rules.estimates.min_sample)


def estimate_text(
    rules: Rules, records: Records, applicant: Applicant, t: Bound, cache: EstimateCache | None = None
) -> str:
    """The checklist's estimate for the applicant's current step, in `t`'s language ("" when every
    step is done). On the review step, the package's place in the queue follows."""
    step = current_step(rules, applicant)
    if step is None:
        return ""
    found = cache.estimate(rules, records, step.id) if cache else estimate(rules, records.all(), step.id)
    lines = [estimate_sentence(found, t)] if found is not None else []
    if kind_of(step).decided_by_reviewers and applicant.review_id:
        keyed = getattr(records, "queue_place", None)
        pending = getattr(records, "pending_reviews", None)
        place = (
            keyed(applicant.review_id)
            if callable(keyed)
            else queue_place(pending() if callable(pending) else records.reviews(), applicant.review_id)
        )
        if place is not None:
            lines.append(t("estimate.queue", place=place[0], total=place[1]))
    return "\n".join(lines)
