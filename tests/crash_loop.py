"""Kill the real bot with SIGKILL at random moments during whole journeys, then check the records.

Used by tests/test_crash_loop.py (a short run) and benchmarks/bench_crash.py (at least 500 kills).
The bot runs as `python -m bot run console` on a pipe; every line of its output is kept. After the
last kill a clean run finishes the script, and the invariants are checked across the store, the
operation log, the console's transcript of review posts and everything the bot printed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.rules_loader import load_rules
from bot.store import Store
from bot.workflow import package_complete
from tests.citi_pdfs import make_png, make_report
from tests.journey import FORM_ANSWERS

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    kills: int = 0
    runs: int = 0
    applicants: int = 0
    stuck: list[str] = field(default_factory=list)
    lost_writes: list[str] = field(default_factory=list)
    duplicate_posts: list[str] = field(default_factory=list)
    untold: list[str] = field(default_factory=list)
    decisions_without_effect: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        return [
            *self.stuck,
            *self.lost_writes,
            *self.duplicate_posts,
            *self.untold,
            *self.decisions_without_effect,
        ]


def _script(folder: Path, users: int, rng: random.Random) -> list[list[str]]:
    """One segment per applicant: their journey, a reviewer's decision, now and then an admin."""
    today = date.today()
    segments: list[list[str]] = []
    for n in range(users):
        lines: list[str] = []
        user = f"u{n:03d}"
        report = folder / f"{user}.pdf"
        report.write_bytes(
            make_report(
                name=f"Person {user}",
                record_id=f"4{n:07d}",
                completion=today - timedelta(days=20),
                expiration=today + timedelta(days=1000),
            )
        )
        proof = folder / f"{user}.png"
        proof.write_bytes(make_png(width=40 + n))
        lines += [f"/as {user}", f"/name Person {user}", "hi", f"{user}_name", "yes", f"/upload {report}"]
        lines += ["done", "done", "done", f"/upload {proof}", "done", *FORM_ANSWERS]
        lines += ["/as reviewer"]
        if rng.random() < 0.3:
            lines += ["/react ❌", "2 the report has expired", f"/as {user}", f"/upload {report}"]
            lines += ["/as reviewer"]
        lines += ["/react ✅"]
        if rng.random() < 0.2:
            lines += ["/as admin", "pending", f"show console:{user}"]
        segments.append(lines)
    return segments


def _start(data: Path, rules: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ACCESSBOT_DATA_DIR": str(data),
        "ACCESSBOT_RULES": str(rules),
        "ACCESSBOT_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        env.pop(name, None)
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "console"],
        stdin=subprocess.PIPE,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )


def _feed(proc: subprocess.Popen[bytes], log: Path, line: str) -> bool:
    """Write one line and give the bot a moment to act on it (its output grows, or 0.3 s pass)."""
    assert proc.stdin is not None
    size = log.stat().st_size
    try:
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
    except BrokenPipeError:
        return False
    deadline = time.monotonic() + 0.3
    while log.stat().st_size == size and time.monotonic() < deadline:
        time.sleep(0.005)
    return True


def run(folder: Path, *, kills: int, users: int, seed: int = 1) -> Result:
    """Feed the journeys, killing the bot at random points; a killed segment starts over."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs-in").mkdir(exist_ok=True)
    data, log = folder / "data", folder / "output.log"
    log.touch()
    rules = ROOT / "rules.yaml"
    segments = _script(folder / "docs-in", users, rng)
    result = Result(applicants=users)
    began = time.monotonic()
    budget = [rng.randint(1, 3) for _ in segments]  # kills per segment, spread over the journeys
    extra = kills - sum(budget)
    for _ in range(max(0, extra)):
        budget[rng.randrange(len(budget))] += 1
    for index, segment in enumerate(segments):
        for _kill in range(budget[index] if result.kills < kills else 0):
            if result.kills >= kills:
                break
            proc = _start(data, rules, log)
            result.runs += 1
            cut = rng.randint(1, len(segment))
            for line in segment[:cut]:
                if not _feed(proc, log, line):
                    break
            time.sleep(rng.uniform(0.0, 0.05))  # sometimes mid-event, sometimes between events
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            result.kills += 1
        proc = _start(data, rules, log)  # the segment again, to the end, and a clean stop
        result.runs += 1
        proc.communicate(("\n".join(segment) + "\n").encode(), timeout=600)
    proc = _start(data, rules, log)  # what is left to deliver goes out at the start of a run
    result.runs += 1
    proc.communicate(b"/tick\n", timeout=600)
    result.seconds = time.monotonic() - began
    _check(data, log, rules, result)
    return result


def _check(data: Path, log: Path, rules_path: Path, result: Result) -> None:
    rules = load_rules(rules_path)
    output = log.read_text(encoding="utf-8", errors="replace")
    store = Store(data)
    try:
        reviews = {r.id: r for r in store.reviews()}
        for applicant in store.all():
            if not applicant.key.startswith("console:u"):
                continue
            who = applicant.key.split(":", 1)[1]
            mine = [r for r in reviews.values() if r.applicant == applicant.key]
            if not applicant.approved_at and package_complete(rules, applicant):
                current = reviews.get(applicant.review_id)
                if current is None or current.state != "pending":
                    result.stuck.append(f"{who}: complete package, no open review round")
            for review in mine:
                if review.state == "approved" and not applicant.approved_at:
                    result.decisions_without_effect.append(f"{who}: approved review, applicant not approved")
                if review.state == "rejected" and applicant.review_id == review.id:
                    result.decisions_without_effect.append(f"{who}: rejected review still linked")
                if review.state == "approved" and f"[DM → {who}] 🎉" not in output:
                    result.untold.append(f"{who}: approved, never told")
                if review.state == "rejected" and review.reason and review.reason not in output:
                    result.untold.append(f"{who}: rejected, never told why")
                if len(review.posts) > 1:
                    result.duplicate_posts.append(f"{who}: review {review.id} has {len(review.posts)} posts")
            for title, step in ((s.title.get("en"), s) for s in rules.steps):
                acknowledged = f'[DM → {who}] ✅ Great, "{title}" is done.' in output
                reopened = any(r.reopen_step == step.id for r in mine if r.state == "rejected")
                if acknowledged and not reopened and not applicant.is_done(step.id):
                    result.lost_writes.append(f"{who}: {step.id} acknowledged, not recorded")
        if store.oplog.pending_count():
            result.untold.append(f"{store.oplog.pending_count()} operation(s) left undelivered in the log")
    finally:
        store.close()
    transcript = data / "console-posts.jsonl"
    keys = Counter(
        json.loads(line)["key"]
        for line in (transcript.read_text(encoding="utf-8").splitlines() if transcript.exists() else [])
        if line.strip().startswith("{") and line.strip().endswith("}")
    )
    result.duplicate_posts += [f"post {k} shown {n} times" for k, n in keys.items() if n > 1]
    shown = Counter(
        line.split("] ", 1)[1]
        for line in output.splitlines()
        if line.startswith("[#reviewers post") and "asks for approval" in line and "edited" not in line
    )
    per_round = Counter(r.applicant for r in reviews.values() if r.posts)
    for text, count in shown.items():
        who = text.split(" ", 2)[1].lstrip("@")
        if count > per_round.get(f"console:{who}", 0):
            result.duplicate_posts.append(
                f"{who}: {count} posts shown for {per_round.get(f'console:{who}', 0)} round(s)"
            )
