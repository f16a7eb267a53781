"""Honest wait estimates from the store's timestamps: median and 80th percentile, or not enough data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.estimates import (
    EstimateCache,
    Finished,
    duration_text,
    durations,
    estimate,
    estimate_from,
    estimate_text,
    percentile,
    queue_place,
    time_on_steps,
)
from bot.give_way import Foreground
from bot.i18n import Translator
from bot.models import Applicant, Progress, Review, StepState, to_iso
from bot.rules_loader import load_rules
from tests.conftest import RULES

RULES_ = load_rules(RULES)
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _at(hours: float) -> str:
    return to_iso(T0 + timedelta(hours=hours))


def _applicant(n: int, account_hours: float, citi_hours: float = 0.0) -> Applicant:
    a = Applicant(f"console:p{n}", "en", _at(0), _at(0))
    a.steps["physionet_account"] = StepState("done", _at(account_hours), {"answer": "x"})
    if citi_hours:
        a.steps["citi_training"] = StepState("done", _at(account_hours + citi_hours))
    return a


class _Records:
    def __init__(self, applicants: list[Applicant], reviews: list[Review] | None = None) -> None:
        self._applicants, self._reviews = applicants, reviews or []

    def all(self) -> list[Applicant]:
        return self._applicants

    def reviews(self) -> list[Review]:
        return self._reviews


def test_percentile_and_median() -> None:
    assert percentile([1, 2, 3, 4, 5], 80) == 4.2 and percentile([7], 80) == 7
    found = estimate_from("s", [Finished(_at(i), float(h)) for i, h in enumerate([10, 1, 2, 3, 4])], 30, 5)
    assert (found.count, found.median_hours) == (5, 3) and found.p80_hours == pytest.approx(5.2)
    assert not estimate_from("s", [Finished(_at(0), 1.0)] * 4, 30, 5).enough


def test_only_the_last_n_count() -> None:
    passages = [Finished(_at(i), 100.0) for i in range(10)] + [Finished(_at(100 + i), 1.0) for i in range(5)]
    assert estimate_from("s", passages, 5, 5).median_hours == 1.0


def test_time_on_a_step_runs_from_the_previous_step() -> None:
    times = time_on_steps(RULES_, _applicant(1, 5, 48))
    assert times["physionet_account"].hours == 5 and times["citi_training"].hours == 48


def test_estimate_over_the_store() -> None:
    people = [_applicant(n, 1 + n, 24 * (n + 1)) for n in range(6)]
    found = estimate(RULES_, people, "citi_training")
    assert (
        found.count == 6 and found.median_hours == 84 and not estimate(RULES_, people, "credentialing").enough
    )


def test_the_sentences_in_both_languages() -> None:
    en, ko = Translator().bound("en"), Translator().bound("ko")
    assert [duration_text(h, en) for h in (0.5, 1, 5, 30, 40, 24 * 20)] == [
        "under an hour", "1 hour", "5 hours", "30 hours", "2 days", "3 weeks",
    ]  # fmt: skip
    assert duration_text(24 * 3, ko) == "3일"
    people = [_applicant(n, 1, 24 * (n + 1)) for n in range(6)]
    me = _applicant(99, 2)
    text = estimate_text(RULES_, _Records([*people, me]), me, en)
    assert text == (
        "In this lab this step usually takes 4 days;"
        " 8 in 10 people finish it within 5 days (the last 6 who did)."
    )
    assert "not enough data yet" in estimate_text(RULES_, _Records([me]), me, en)
    assert "아직 자료가 충분하지 않습니다" in estimate_text(RULES_, _Records([me]), me, ko)


def test_the_place_in_the_review_queue() -> None:
    reviews = [
        Review("r1", "console:a", "pending", _at(1), "console"),
        Review("r2", "console:b", "approved", _at(2), "console"),
        Review("r3", "console:c", "pending", _at(3), "console"),
    ]
    assert queue_place(reviews, "r3") == (2, 2) and queue_place(reviews, "r2") is None
    me = Applicant("console:c", "en", _at(0), _at(0), review_id="r3")
    for step in RULES_.steps[:-1]:
        me.steps[step.id] = StepState("done", _at(1))
    text = estimate_text(RULES_, _Records([me], reviews), me, Translator().bound("en"))
    assert text.endswith("Your package is number 2 of 2 waiting for the reviewers.")
    me.steps["lab_review"] = StepState("done", _at(5))
    assert estimate_text(RULES_, _Records([me], reviews), me, Translator().bound("en")) == ""


def test_a_pass_over_the_raw_records_gives_what_a_pass_over_applicants_gives() -> None:
    people = [_applicant(n, 1 + n, 24 * (n + 1) if n % 3 else 0) for n in range(9)]
    people[4].steps["citi_training"] = StepState("reopened", _at(50))
    raw = [p.to_dict() for p in people]
    assert durations(RULES_, map(Progress.from_dict, raw)) == durations(RULES_, people)


class _SlowRecords(_Records):
    """A store whose records stream slowly: the first pass holds them until `release`."""

    def __init__(self, applicants: list[Applicant]) -> None:
        super().__init__(applicants)
        self.release = threading.Event()
        self.passes = 0

    def iter_progress(self) -> Iterator[Progress]:
        self.passes += 1
        assert self.release.wait(10)
        for applicant in self._applicants:
            yield Progress.from_dict(applicant.to_dict())


def test_a_second_pass_is_not_started_beside_one_under_way() -> None:
    records = _SlowRecords([_applicant(n, 1 + n, 24 * (n + 1)) for n in range(6)])
    cache = EstimateCache()
    first = threading.Thread(target=cache.refresh, args=(RULES_, records))
    first.start()
    while records.passes == 0:
        time.sleep(0.001)
    assert cache.refresh(RULES_, records) is False, "the other pass is still working"
    assert cache.estimate(RULES_, records, "citi_training") is None, "no figure rather than a wrong one"
    records.release.set()
    first.join(10)
    assert records.passes == 1
    found = cache.estimate(RULES_, records, "citi_training")
    assert found is not None and found.count == 6


def test_a_first_ask_worked_out_inline_is_not_paced_but_the_background_pass_is() -> None:
    """A small store's first ask reads everyone while that person waits: pausing it would only make
    them wait longer (it took 2 s at 1,000 people). The loop's pass in the background gives way."""
    foreground = Foreground()
    records = _Records([_applicant(n, 1 + n, 24 * (n + 1)) for n in range(64)])
    cache = EstimateCache(give_way=lambda items: foreground.give_way(items, every=4))
    with foreground.serving():
        found = cache.estimate(RULES_, records, "citi_training")
        assert found is not None and found.count == min(64, RULES_.estimates.sample)
        assert foreground.pauses == 0, "the person asking is the one waiting"
        cache.ttl_s = -1.0  # stale: the loop works it out again, in the background
        assert cache.refresh(RULES_, records) is True
    assert foreground.pauses == 16
