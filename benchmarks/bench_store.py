"""The store at 1,000, 10,000 and 100,000 applicants (issue 14), every figure measured in this run.

For each size: a data folder is built through the Store API (benchmarks/store_data.py), then a
separate bot process (benchmarks/store_bot.py) opens it as `accessbot run` does and measures each
operation interleaved with its floor, and its own memory (and the PDF worker's). The container
health check runs as its own process. Figures are written to benchmarks/results.json with the date
and the git commit; the "before" column is that file as an earlier run left it (never a literal).

Quick mode (`python -m benchmarks --quick`, or ACCESSBOT_BENCH_QUICK=1): 1,000 applicants, few
samples, nothing written: the test suite's smoke test. It asserts nothing about time.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.estimates import INLINE_LIMIT
from bot.store import SHARD_CAPACITY

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
ISSUE_BEFORE = ROOT / "benchmarks" / "issue14_before.json"
SIZES = (1_000, 10_000, 100_000)
SAMPLES = 300
QUICK_SAMPLES = 20


def quick_mode() -> bool:
    return os.environ.get("ACCESSBOT_BENCH_QUICK", "") not in ("", "0")


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _child_cpu_s(args: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _health(folder: Path) -> dict[str, Any]:
    """CPU of `accessbot health` on the folder (the bot's heartbeat fresh), interleaved with a bare
    interpreter's start (`python -c pass`), the floor of any health check run as a process."""
    from bot import heartbeat

    env = {
        **os.environ,
        "ACCESSBOT_DATA_DIR": str(folder),
        "ACCESSBOT_RULES": str(ROOT / "rules.yaml"),
        "ACCESSBOT_ENV_FILE": os.devnull,
    }
    heartbeat.beat(folder)
    op, floor = [], []
    for _ in range(5):
        op.append(_child_cpu_s(["-m", "bot", "health"], env))
        floor.append(_child_cpu_s(["-c", "pass"], env))
    return {"op": op, "floor": floor}


def measure(size: int, samples: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        folder = Path(tmp) / "data"
        started = time.perf_counter()
        built = json.loads(
            _run(["-m", "benchmarks.store_data", str(folder), str(size)]).strip().splitlines()[-1]
        )
        built["build_s"] = time.perf_counter() - started
        out = _run(["-m", "benchmarks.store_bot", str(folder), str(samples), repr(time.time())])
        raw: dict[str, Any] = json.loads(out[out.rindex("RESULT ") + 7 :])
        raw["built"] = built
        raw["health"] = _health(folder)
    return raw


# -- the figures ------------------------------------------------------------------------------


def figures(raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    """row -> {"value", "floor"} (plus extras), from one size's raw measurements."""
    busy = raw["busy_tick"]
    exports = raw["export"]
    rss_tick_export = max(busy["rss_peak_mb"], *exports["rss"])
    return {
        "status_p99_ms": {"value": _p(raw["status"]["op"], 0.99), "floor": _p(raw["status"]["floor"], 0.99)},
        "status_median_ms": {
            "value": statistics.median(raw["status"]["op"]),
            "floor": statistics.median(raw["status"]["floor"]),
        },
        "checklist_p99_ms": {
            "value": _p(raw["checklist"]["op"], 0.99),
            "floor": _p(raw["checklist"]["floor"], 0.99),
        },
        "update_p99_ms": {"value": _p(raw["update"]["op"], 0.99), "floor": _p(raw["update"]["floor"], 0.99)},
        "update_median_ms": {
            "value": statistics.median(raw["update"]["op"]),
            "floor": statistics.median(raw["update"]["floor"]),
        },
        "reviewer_dm_p99_ms": {
            "value": _p(raw["reviewer_dm"]["op"], 0.99),
            "floor": _p(raw["reviewer_dm"]["floor"], 0.99),
        },
        "first_reply_ms": {
            "value": raw["spawn_to_first_reply_ms"],
            "floor": raw["floor_index_parse_ms"],
            "imports_ms": raw["imports_ms"],
            "open_to_reply_ms": raw["open_to_first_reply_ms"],
            "estimates_ready_ms": raw.get("estimates_ready_ms", float("nan")),
        },
        "store_open_ms": {"value": raw["store_open_ms"], "floor": raw["floor_index_parse_ms"]},
        "rss_rest_mb": {"value": raw["rss_rest_mb"], "floor": raw["data_bytes"] / 1e6},
        "worker_rss_mb": {"value": max(raw["worker_rss_mb"], default=float("nan")), "floor": float("nan")},
        "rss_tick_export_mb": {"value": rss_tick_export, "floor": raw["data_bytes"] / 1e6},
        "idle_tick_ms": {
            "value": _p(raw["idle_tick"]["op"], 0.99),
            "floor": _p(raw["idle_tick"]["floor"], 0.99),
        },
        "idle_tick_bytes": {"value": raw["idle_tick_bytes"], "floor": 0},
        "busy_tick_s": {"value": busy["s"], "floor": busy["floor_s"], "sent": busy["sent"]},
        "status_during_tick_max_ms": {
            "value": max(busy["status_during_ms"], default=float("nan")),
            "floor": _p(raw["status"]["op"], 0.99),
        },
        "export_s": {"value": min(exports["op"]) / 1000, "floor": min(exports["floor"]) / 1000},
        "stats_s": {"value": min(exports["stats"]) / 1000, "floor": min(exports["floor"]) / 1000},
        "export_alone_s": {
            "value": min(exports.get("alone") or [float("nan")]) / 1000,
            "floor": min(exports["floor"]) / 1000,
        },
        "stats_alone_s": {
            "value": min(exports.get("alone_stats") or [float("nan")]) / 1000,
            "floor": min(exports["floor"]) / 1000,
        },
        "report_worker_rss_mb": {
            "value": max(exports.get("worker_rss") or [float("nan")]) or float("nan"),
            "floor": float("nan"),
            "workers": raw.get("report_workers", 0),
        },
        "vote_p99_ms": {"value": _p(raw["vote"]["op"], 0.99), "floor": _p(raw["vote"]["floor"], 0.99)},
        "health_cpu_s": {
            "value": statistics.median(raw["health"]["op"]),
            "floor": statistics.median(raw["health"]["floor"]),
        },
    }


ROWS: list[tuple[str, str, str, str, float | None]] = [
    # key, label, unit, floor label, aim at 100k (None: no aim)
    (
        "status_p99_ms",
        "status DM p99 (full dispatch, event id fsynced)",
        "ms",
        "append + fsync of the event id",
        2,
    ),
    ("checklist_p99_ms", "status: the checklist alone, p99", "ms", "JSON parse of the record", 2),
    (
        "update_p99_ms",
        "step update p99 (read-modify-write, fsync)",
        "ms",
        "write + fsync + rename, shard size",
        5,
    ),
    ("update_median_ms", "step update median", "ms", "write + fsync + rename, shard size", None),
    ("reviewer_dm_p99_ms", "reviewer DM: pending reasons, p99", "ms", "JSON parse of those reviews", 5),
    ("first_reply_ms", "start-up to the first reply (process spawn)", "ms", "JSON parse of the index", 2000),
    ("store_open_ms", "opening the store", "ms", "JSON parse of the index", None),
    ("rss_rest_mb", "bot RSS at rest", "MB", "data on disk (MB)", 300),
    ("worker_rss_mb", "PDF worker RSS (each)", "MB", "", None),
    ("rss_tick_export_mb", "bot RSS peak during tick / export / stats", "MB", "data on disk (MB)", 300),
    ("idle_tick_ms", "tick with nothing due, p99", "ms", "the due-index lookup", 50),
    ("idle_tick_bytes", "tick with nothing due: bytes written", "B", "none", 0),
    ("busy_tick_s", "tick sending 5% (5,000 at 100k)", "s", "that many appends + fsync", 10),
    ("status_during_tick_max_ms", "a status DM during that tick, worst", "ms", "status p99 at rest", None),
    ("export_s", "`admin export` (CSV, streamed)", "s", "JSON parse of all data files", 3),
    ("stats_s", "`stats`", "s", "JSON parse of all data files", 3),
    (
        "export_alone_s",
        "`admin export` in the bot's process alone",
        "s",
        "JSON parse of all data files",
        None,
    ),
    ("stats_alone_s", "`stats` in the bot's process alone", "s", "JSON parse of all data files", None),
    ("report_worker_rss_mb", "report worker RSS peak (each)", "MB", "", None),
    ("vote_p99_ms", "vote write p99", "ms", "write + fsync + rename, review shard size", None),
    ("health_cpu_s", "health check CPU", "s", "`python -c pass`", None),
]


WHY = {
    "status_p99_ms": "Every DM appends its event id to an fsynced log before it is handled (a restart must"
    " not answer it twice): the DM pays at least one fsync of this disk.",
    "update_p99_ms": f"An update rewrites its whole shard (up to {SHARD_CAPACITY} records) with write +"
    " fsync + rename: the floor is that write on this disk.",
}
"""Why a row is bound by its floor (said only when the floor measured in this run exceeds the aim)."""


def _fmt(value: float) -> str:
    if value != value:  # nan
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def _ratio(value: float, floor: float) -> str:
    if not floor or floor != floor or value != value:
        return "–"
    return f"{value / floor:.1f}×"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _load(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    except (OSError, ValueError):
        return None


def render(results: dict[str, Any], previous: dict[str, Any] | None, issue: dict[str, Any] | None) -> str:
    sizes = [int(s) for s in results["sizes"]]
    by = {int(s): v for s, v in results["sizes"].items()}
    big = max(sizes)
    lines = [
        f"## Store: {', '.join(f'{s:,}' for s in sizes)} applicants",
        "",
        f"Measured {results['date']} at commit `{results['commit'][:12]}`. Each size is a data folder built"
        " through the Store API (benchmarks/store_data.py); a separate bot process opens it as"
        " `accessbot run` does and measures every operation interleaved with its floor (one sample of"
        " each in turn), and reads its own RSS and its PDF workers' (by pid). The floors are measured in"
        " the same run on the same disk.",
        "",
    ]
    for size in sizes:
        b = by[size]["built"]
        lines.append(
            f"- {size:,} applicants: {b['applicant_files']} applicant shards"
            f" ({b['applicant_bytes'] / 1e6:.1f} MB, {b['record_bytes'] / size / 1000:.2f} KB a record),"
            f" {b['review_files']} review shards ({b['review_bytes'] / 1e6:.1f} MB),"
            f" {b['pending_reviews']} pending rounds; built in {b['build_s']:.0f} s."
        )
    for size in sizes:
        if by[size].get("refused"):
            lines.append(
                f"- **At {size:,} the bot refuses to start**: {by[size]['refused'].strip()}. The figures at"
                f" {size:,} below were measured with that read limit lifted in the bench's bot process only"
                " (bot/integrity.py reads manifest.json with a fixed 16 MiB limit)."
            )
    head = (
        "| | " + " | ".join(f"{s:,}" for s in sizes) + f" | floor at {big:,} | ratio | aim | growth per 10× |"
    )
    lines += ["", head, "|---|" + "---:|" * len(sizes) + "---|---:|---|---|"]
    for key, label, unit, floor_label, aim in ROWS:
        values = [by[s]["figures"][key]["value"] for s in sizes]
        floor = by[big]["figures"][key]["floor"]
        growth = []
        for small, large in itertools.pairwise(sizes):
            v0, v1 = by[small]["figures"][key]["value"], by[large]["figures"][key]["value"]
            growth.append(f"{v1 / v0:.1f}×" if v0 else ("0 → 0" if not v1 else "from 0"))
        aim_text = "–" if aim is None else (f"{'≤' if aim == 0 else '<'} {_fmt(aim)} {unit}")
        if aim is not None and big >= 100_000:
            aim_text += " ✓" if values[-1] <= aim and (aim or not values[-1]) else " ✗"
        floor_text = f"{_fmt(floor)} {unit if key != 'rss_rest_mb' and key != 'rss_tick_export_mb' else 'MB'}"
        if floor_label:
            floor_text += f" ({floor_label})"
        else:
            floor_text = "–"
        lines.append(
            f"| {label} ({unit}) | "
            + " | ".join(_fmt(v) for v in values)
            + f" | {floor_text} | {_ratio(values[-1], floor)} | {aim_text} | {', '.join(growth)} |"
        )
    busy = by[big]["figures"]["busy_tick_s"]
    first = by[big]["figures"]["first_reply_ms"]
    lines += [
        "",
        f"The busy tick at {big:,} sent {busy['sent']:,.0f} reminders (console keys: the per-platform pacing"
        " of reminders.SEND_RATE, 20/s on Slack, does not apply; on Slack 5,000 take at least 250 s by"
        " design)."
        f" Start-up at {big:,}: {_fmt(first['imports_ms'])} ms from the interpreter's start to the bot's"
        f" modules imported, then {_fmt(first['open_to_reply_ms'])} ms to open the store, load rules and"
        " locales, start the PDF worker in the background and answer; the wait estimates (worked out in"
        f" the background above {INLINE_LIMIT:,} people) were ready {_fmt(first['estimates_ready_ms'])} ms"
        ' after that first reply, and the figures "at rest" were measured after it.',
        "",
        f"### Aims at {big:,}",
        "",
    ]
    for key, label, unit, _floor_label, aim in ROWS:
        if aim is None:
            continue
        fig = by[big]["figures"][key]
        value, floor = fig["value"], fig["floor"]
        if value <= aim and (aim or not value):
            lines.append(f"- {label}: met ({_fmt(value)} {unit}, aim {_fmt(aim)} {unit}).")
            continue
        times = f", {value / aim:.1f}× the aim" if aim else ""
        text = f"- {label}: **missed** by {_fmt(value - aim)} {unit} ({_fmt(value)} {unit}{times})"
        disk_bound = unit != "MB" and floor == floor and floor >= aim
        if disk_bound:
            text += (
                f"; the floor measured in this run is already {_fmt(floor)} {unit}: the disk, not the code"
            )
        elif floor == floor and floor:
            text += f"; {value / floor:.1f}× its floor"
        why = WHY.get(key, "") if disk_bound else "The cost above the floor is the bot's own work."
        lines.append(text + ". " + why)
    lines.append("")
    if previous is not None:
        lines += [
            "",
            f"### Before: the run recorded in benchmarks/results.json on {previous.get('date', '?')}"
            f" (commit `{str(previous.get('commit', '?'))[:12]}`)",
            "",
            "| | size | before | now |",
            "|---|---:|---:|---:|",
        ]
        for key, label, unit, _f, _a in ROWS:
            for size in sizes:
                old = previous.get("sizes", {}).get(str(size), {}).get("figures", {}).get(key)
                if old is not None:
                    now = by[size]["figures"][key]["value"]
                    lines.append(f"| {label} ({unit}) | {size:,} | {_fmt(old['value'])} | {_fmt(now)} |")
    if issue is not None:
        lines += [
            "",
            f"### Before this round: {issue['source']}",
            "",
            "Not measured by this run: copied from the issue's table (benchmarks/issue14_before.json)."
            f" Now: this run, at {big:,} applicants.",
            "",
            f"| issue 14's row | before (issue text) | now (this run, {big:,}) | floor (this run) |",
            "|---|---|---|---|",
        ]
        for row in issue["rows"]:
            key = row.get("key")
            now_text = "–"
            floor_text = "–"
            if key and str(row.get("size", big)) in results["sizes"]:
                fig = results["sizes"][str(row.get("size", big))]["figures"][key]
                unit = next(u for k, _l, u, _fl, _a in ROWS if k == key)
                now_text = f"{_fmt(fig['value'])} {unit}"
                floor_text = f"{_fmt(fig['floor'])} {unit}"
            lines.append(f"| {row['row']} | {row['before']} | {now_text} | {floor_text} |")
    lines.append("")
    return "\n".join(lines)


def run(*, quick: bool | None = None, results_path: Path = RESULTS) -> str:
    quick = quick_mode() if quick is None else quick
    sizes = (1_000,) if quick else SIZES
    samples = QUICK_SAMPLES if quick else SAMPLES
    results: dict[str, Any] = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "commit": _git_commit(),
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "quick": quick,
        "sizes": {},
    }
    for size in sizes:
        print(f"  store: {size:,} applicants…", flush=True)
        raw = measure(size, samples)
        results["sizes"][str(size)] = {
            "figures": figures(raw),
            "built": raw["built"],
            "refused": raw.get("refused", ""),
        }
    previous = _load(results_path)
    if previous is not None and previous.get("quick"):
        previous = None
    if not quick:
        results_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return render(results, previous, _load(ISSUE_BEFORE))
