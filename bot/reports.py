"""The export's rows and the stats' tally, made from Progress records alone (no Store, no lock).

Why a module of its own: the same code runs in the bot and in the report workers
(bot/report_workers.py), so an export cut into pieces and run in other processes is, row for row,
the export made in one piece. The store decides which records are read; this decides what a report
says about them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import Translator
from bot.models import Progress
from bot.rules import Rules, Step
from bot.step_kinds import kind_of
from bot.workflow import is_applicant

FIXED_COLUMNS = ("user", "language", "created", "current_step", "stage", "done")
"""The export's first columns (stable names for scripts); the steps follow, titled in the admin's
language, then `review`."""

Row = list[str | int]
Briefs = Callable[[str], "tuple[str, str] | None"]
"""A review round's id -> (state, created), from the store's index; None: unknown."""


@dataclass(frozen=True)
class ReviewBrief:
    """What the export shows of a review round (kept in the store's index: no record read)."""

    state: str
    created: str


def age(hours: float) -> str:
    """A duration as admins read it: hours under two days, days from then on."""
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.0f} h"


def applicants_only(rules: Rules, records: Iterable[Progress]) -> Iterator[Progress]:
    """The records of applicants: staff (reviewers, admins) who only talked to the bot are left out."""
    return (p for p in records if is_applicant(rules, p))


def done_times(a: Progress, step_ids: Sequence[str]) -> tuple[list[str | None], int]:
    """Each step's done time (None: not done), and where the person is: the index of the first
    step not done (len(step_ids) once all are). current_step and done_count for a report's row,
    with list methods instead of loops over the steps (100,000 rows)."""
    done_at = list(map(a.done_at.get, step_ids))
    try:
        return done_at, done_at.index(None)
    except ValueError:
        return done_at, len(step_ids)


def stage(
    rules: Rules, applicant: Progress, step: Step | None, review: ReviewBrief | None, t: Callable[..., str]
) -> str:
    """Where the applicant is (on `step`, their current one), in words, in the admin's language."""
    if step is None:
        if applicant.approved_at:
            return t("stage.approved", date=applicant.approved_at[:10])
        return t("stage.finished")
    if kind_of(step).decided_by_reviewers and review is not None and review.state == "pending":
        return t("stage.waiting_review", date=review.created[:10])
    key = "stage.reopened" if step.id in applicant.reopened else "stage.todo"
    return t(key, number=rules.step_index(step.id) + 1, total=len(rules.steps), title=step.title)


class ExportRows:
    """The export's header and rows in one language. The stage sentences are few and repeat (a
    step's title, a date): each is rendered once per ExportRows."""

    def __init__(self, rules: Rules, lang: str, briefs: Briefs) -> None:
        self.rules = rules
        self.lang = lang or rules.language
        self._briefs = briefs
        self._bound = Translator().bound(self.lang)
        self._texts: dict[tuple[object, ...], str] = {}
        self._stages: dict[tuple[str, bool, str, str], str] = {}
        self._step_ids = [s.id for s in rules.steps]

    def header(self) -> Row:
        return [*FIXED_COLUMNS, *[s.title.get(self.lang) for s in self.rules.steps], "review"]

    def _t(self, key: str, **params: object) -> str:
        memo = (key, *((n, v if isinstance(v, str | int) else id(v)) for n, v in sorted(params.items())))
        text = self._texts.get(memo)
        if text is None:
            text = self._texts[memo] = self._bound(key, **params)
        return text

    def rows(self, records: Iterable[Progress]) -> Iterator[Row]:
        """One row per applicant among `records`, in their order."""
        rules, steps, step_ids = self.rules, self.rules.steps, self._step_ids
        total = len(steps)
        stages, brief = self._stages, self._briefs
        for a in applicants_only(rules, records):
            done_at, reached = done_times(a, step_ids)
            step = steps[reached] if reached < total else None
            found = brief(a.review_id) if a.review_id else None
            state, created = found if found is not None else ("", "")
            # The stage in words depends on these alone: worked out once per distinct combination.
            waiting = created[:10] if state == "pending" else ""
            reopened = step is not None and step.id in a.reopened
            memo = (step.id if step else "", reopened, waiting, "" if step else a.approved_at[:10])
            text = stages.get(memo)
            if text is None:
                review = ReviewBrief(state, created) if found is not None else None
                text = stages[memo] = stage(rules, a, step, review, self._t)
            yield [
                a.key,
                a.lang,
                a.created,
                step.id if step else "finished",
                text,
                total - done_at.count(None),
                *["" if at is None else at for at in done_at],
                state if found is not None else ("approved" if a.approved_at else ""),
            ]


@dataclass
class Tally:
    """What `stats` says, summed over any records: how many people, how many at each step, and how
    long each done step took. Tallies of separate records add up (merge), in any order, to the
    tally of all of them: the medians are taken only at the end, over every duration."""

    step_ids: list[str]
    people: int = 0
    finished: int = 0
    at_step: list[int] = field(default_factory=list)
    durations: list[list[float]] = field(default_factory=list)
    """Per step, in hours: from the step before's done time (the record's creation, for the first)."""

    def __post_init__(self) -> None:
        self.at_step = self.at_step or [0] * len(self.step_ids)
        self.durations = self.durations or [[] for _ in self.step_ids]

    def add(self, rules: Rules, records: Iterable[Progress]) -> Tally:
        step_ids, at_step, lists = self.step_ids, self.at_step, self.durations
        parse = datetime.fromisoformat
        for a in applicants_only(rules, records):
            self.people += 1
            done_at, reached = done_times(a, step_ids)
            if reached == len(step_ids):
                self.finished += 1
            else:
                at_step[reached] += 1
            previous = parse(a.created)  # each time read once: a step's time runs from the one before
            for passage, at in zip(lists, done_at[:reached], strict=False):
                done = parse(at or "")
                passage.append(max(0.0, (done - previous).total_seconds() / 3600))
                previous = done
        return self

    def merge(self, other: Tally) -> None:
        if other.step_ids != self.step_ids:
            raise ValueError("tallies of different steps do not add up")
        self.people += other.people
        self.finished += other.finished
        self.at_step = [a + b for a, b in zip(self.at_step, other.at_step, strict=True)]
        for mine, theirs in zip(self.durations, other.durations, strict=True):
            mine.extend(theirs)

    def lines(self, rules: Rules) -> list[str]:
        lines = [f"{self.people} people; {self.finished} approved"]
        for number, (s, here, times) in enumerate(
            zip(rules.steps, self.at_step, self.durations, strict=True), start=1
        ):
            median = f", median {age(statistics.median(times))}" if times else ""
            lines.append(f"{number}. {s.id}: {here} here now{median}")
        return lines
