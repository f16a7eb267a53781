"""A made-up lab of applicants who walk the journey of examples/journey.txt, for the stats chart.

    .venv/bin/python -m examples.stats_demo docs/images/stats.png [--lang ko]

Each applicant follows the shipped rules.yaml's steps with durations drawn around what this lab
sees (credentialing takes weeks), some send the one-page certificate or an expired report first
(as in journey.txt), and some packages are returned by the reviewers. Written through the real
Store into a temporary data folder, then drawn by bot/charts.py. The tests use `populate` too.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.charts import stats_png
from bot.i18n import Translator
from bot.models import Applicant, DocumentRecord, Review, StepState, to_iso
from bot.rules import Rules
from bot.rules_loader import load_rules
from bot.step_kinds import kind_of
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
TYPICAL_DAYS = {"credentialing": 21.0, "citi_training": 3.0, "citi_on_physionet": 1.5, "lab_review": 1.0}


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def populate(store: Store, rules: Rules, people: int = 40, seed: int = 16, name: str = "Applicant") -> None:
    """`people` applicants, `name` N as their display names (the chart must never show them)."""
    rng = random.Random(seed)
    clock = store.clock
    assert isinstance(clock, _Clock), "populate needs a Store opened with this module's clock"
    for n in range(people):
        key = f"console:{name.lower().replace(' ', '_')}_{n}"
        started = START + timedelta(hours=rng.uniform(0, 24 * 80))
        clock.now = started
        store.ensure(key, lang="ko" if n % 3 == 0 else "en", display_name=f"{name} {n}")
        at = started
        for step in rules.steps:
            at += timedelta(days=rng.lognormvariate(0, 0.6) * TYPICAL_DAYS.get(step.id, 0.4))
            if at > NOW:
                break
            if kind_of(step).decided_by_reviewers:
                _review(store, key, n, at, rng)
                break
            _done(store, rules, key, step.id, at, rng)


def _done(store: Store, rules: Rules, key: str, step_id: str, at: datetime, rng: random.Random) -> None:
    stamp = to_iso(at)

    def change(a: Applicant) -> None:
        step = rules.step(step_id)
        if step is not None and kind_of(step).takes_document:
            for code in ("certificate_not_report", "expired", "missing_module", "name_mismatch"):
                if rng.random() < 0.18:
                    a.documents.append(
                        DocumentRecord(
                            f"{rng.getrandbits(64):016x}", step_id, stamp, False, "", problems=[code]
                        )
                    )
            a.documents.append(DocumentRecord(f"{rng.getrandbits(64):016x}", step_id, stamp, True, "report"))
        a.steps[step_id] = StepState("done", stamp)
        a.step_started = stamp

    store.clock.now = at  # type: ignore[attr-defined]
    store.update(key, change)


def _review(store: Store, key: str, n: int, at: datetime, rng: random.Random) -> None:
    submitted = to_iso(at - timedelta(days=1))
    review_id = f"r{n}"
    if rng.random() < 0.2:
        store.create_review(
            Review(
                f"{review_id}a",
                key,
                "rejected",
                submitted,
                "console",
                reopen_step=rng.choice(["citi_training", "approval_proof", "lab_form"]),
                decided_at=to_iso(at),
            )
        )
    stamp = to_iso(at)
    if at + timedelta(days=1) > NOW:
        store.create_review(Review(review_id, key, "pending", stamp, "console"))
        store.update(key, lambda a: setattr(a, "review_id", review_id))
        return
    decided = to_iso(at + timedelta(days=rng.uniform(0.2, 2)))
    store.create_review(Review(review_id, key, "approved", stamp, "console", decided_at=decided))

    def approve(a: Applicant) -> None:
        a.steps["lab_review"] = StepState("done", decided)
        a.approved_at = decided

    store.update(key, approve)


def demo_png(lang: str = "en") -> bytes:
    rules = load_rules(ROOT / "rules.yaml")
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "data", clock=_Clock(START)) as store:
        populate(store, rules)
        return stats_png(rules, store, Translator(), lang, NOW)


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -m examples.stats_demo OUT.png [--lang ko]\n")
        return 2
    lang = argv[argv.index("--lang") + 1] if "--lang" in argv else "en"
    Path(argv[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(argv[0]).write_bytes(demo_png(lang))
    sys.stdout.write(f"wrote {argv[0]}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
