"""The long crash run: SIGKILL the real bot at least 500 times during whole journeys (issue 13).

Writes its figures to docs/reliability.md as well as to the benchmarks section.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.crash_loop import run as crash_run

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("ACCESSBOT_BENCH_KILLS", "520"))
USERS = int(os.environ.get("ACCESSBOT_BENCH_CRASH_USERS", "120"))


def run() -> str:
    with tempfile.TemporaryDirectory() as folder:
        result = crash_run(Path(folder), kills=KILLS, users=USERS, seed=2026)
    rows = [
        ("SIGKILLs", result.kills),
        ("bot starts", result.runs),
        ("applicants", result.applicants),
        ("stuck applicants (complete package, no review round)", len(result.stuck)),
        ("decisions without their effect on the applicant", len(result.decisions_without_effect)),
        ("outcomes never told / deliveries left in the log", len(result.untold)),
        ("duplicate review posts", len(result.duplicate_posts)),
        ("acknowledged writes lost", len(result.lost_writes)),
        ("wall time", f"{result.seconds:.0f} s"),
    ]
    table = "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    problems = "".join(f"- {p}\n" for p in result.problems[:50]) or "none\n"
    section = f"## Crash loop (bench_crash)\n\n{table}\nProblems found: {problems}"
    (ROOT / "docs" / "reliability.md").write_text(
        _RELIABILITY.format(when=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", table=table, problems=problems),
        encoding="utf-8",
    )
    return section


_RELIABILITY = """# Reliability

How accessbot keeps every decision and every message across crashes, and what the crash loop
measured. Figures below are written by `make bench` (benchmarks/bench_crash.py, last run {when}).

## What makes a crash harmless

- **One record, one write.** An applicant's step, a vote: one TinyDB document, written atomically
  (temp file, fsync, rename).
- **Several records, one operation.** Opening a review round, approving, rejecting and the admin
  overrides change an applicant and a review round, in different files, and leave messages to send.
  They go through the write-ahead operation log (`bot/oplog.py`): the full new value of every record
  and every delivery are appended and fsynced first, then the records are written, then the entry is
  marked applied. At start-up an entry not marked applied is applied again (full values: harmless
  twice). We chose the log over "one document per operation" because the applicant and review shards
  must stay small, separate files (issue 14).
- **A durable outbox.** Each delivery of an operation (the applicant's outcome, the review post, the
  thread note, the post's edit) is marked delivered in the same log once it is out; what a crash
  left is sent at the next start and by the loop every minute. Review posts carry an idempotency
  key: when a crash fell between sending a post and recording it, the platform's record (the
  console's transcript; Slack message metadata, Discord history where implemented) is asked first,
  so the post is recorded, not posted twice.
- **Honest failures.** When a write fails after something was saved, the reply says what was saved;
  the same message again finishes only what is missing.

## The crash loop

`tests/crash_loop.py` starts the real bot (`python -m bot run console` on a pipe), feeds whole
journeys (applicants, reviewers approving, rejecting with a reason, applicants sending a new
report, admins running commands), and SIGKILLs it at random moments (mid-event and between events),
then restarts it and replays the interrupted journey. After the last kill a clean run finishes, and
the checker reads the store, the operation log, the console transcript and everything printed:

{table}
Problems found: {problems}
The suite runs a short loop (tests/test_crash_loop.py, 6 kills); `make bench` the long one.
"""
