"""The bot process of the store benchmark: `python -m benchmarks.store_bot FOLDER SAMPLES SPAWNED_AT`.

Opens a data folder built by benchmarks.store_data as `accessbot run` does (store, rules, document
worker, `app.start()`), answers a first DM, then measures each operation interleaved with its
floor (one sample of the operation, one of the floor, and so on). Memory is this process's own RSS
(/proc/self/status) and the PDF worker's (its pid). Prints one JSON object of raw figures.
"""

from __future__ import annotations

import time

SPAWN_SEEN = time.time()

import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import orjson  # noqa: E402

from benchmarks.store_data import DUE_SHARE, REVIEWER, REVIEWER2, ROOT, T0, key_of  # noqa: E402


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rss_mb(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and by them (the report workers are the fork server's)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


class PeakRSS:
    """Samples this process's RSS every 10 ms while in the `with` block, and with `children` the
    largest RSS among the processes it started (`children_peak`: the report workers)."""

    def __init__(self, *, children: bool = False) -> None:
        self.peak = 0.0
        self.children_peak = 0.0
        self._children = children
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            if self._children:
                sizes = [rss_mb(pid) for pid in descendants(os.getpid())]
                self.children_peak = max([self.children_peak, *[s for s in sizes if s == s]])
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRSS:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def interleaved(op: Callable[[], object], floor: Callable[[], object], n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"op": [], "floor": []}
    for _ in range(n):
        out["op"].append(ms(op))
        out["floor"].append(ms(floor))
    return out


class Floors:
    """The physical floors, measured here: a raw write + fsync + rename of a file of a given size,
    an append + fsync of a line, a raw JSON parse of given bytes."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder / "floor"
        self.dir.mkdir(exist_ok=True)

    def write(self, size: int) -> None:
        payload = secrets.token_bytes(size)
        tmp, final = self.dir / "f.tmp", self.dir / "f.json"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def append(self, line: bytes) -> None:
        fd = os.open(self.dir / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def parse_files(paths: list[Path]) -> None:
        for path in paths:
            orjson.loads(path.read_bytes())


def tree(folder: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for root, _dirs, files in os.walk(folder):
        if root.endswith("/floor"):
            continue
        for name in files:
            info = os.lstat(os.path.join(root, name))
            out[os.path.join(root, name)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return out


def written(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> int:
    """Bytes of the files created or changed between two snapshots (appends: the growth)."""
    total = 0
    for path, (size, mtime, ino) in after.items():
        old = before.get(path)
        if old is None or old[2] != ino:
            total += size
        elif old[1] != mtime:
            total += max(size - old[0], 0) if size >= old[0] else size
    return total


def main(folder: Path, samples: int, spawned_at: float) -> dict[str, Any]:
    from bot import integrity, memory, storage
    from bot.adapters.console.serve import console_for
    from bot.app import assemble
    from bot.context import Context
    from bot.documents import Validator
    from bot.events import DirectMessage, UserRef
    from bot.presenter import checklist_text
    from bot.rules_loader import RulesHolder
    from bot.store import Store

    imported = time.time()
    clock = Clock(T0 + timedelta(hours=1))
    refused = ""
    opened_at = time.perf_counter()
    try:
        store = Store(folder, clock=clock)
    except integrity.DataFolderDamaged as exc:
        # Reported as found; then measured with the index's read limit lifted in this process only.
        refused = str(exc).splitlines()[1] if len(str(exc).splitlines()) > 1 else str(exc)

        def lifted(path: Path, limit: int) -> bytes:
            return storage.read_limited(path, max(limit, storage.MAX_DATABASE_BYTES))

        integrity.read_limited = lifted  # type: ignore[attr-defined]
        opened_at = time.perf_counter()
        store = Store(folder, clock=clock)
    open_ms = (time.perf_counter() - opened_at) * 1000
    validator = Validator()
    app = assemble(rules=RulesHolder(ROOT / "rules.yaml"), store=store, validator=validator, clock=clock)
    adapter, _session = console_for(app, None)
    app.start(reminders_every=False)
    memory.settle()  # as bot/runtime.py does after app.start()
    n = store.count()
    app.dispatch(
        DirectMessage(
            event_id=f"first-{secrets.token_hex(4)}",
            user=UserRef.from_key(key_of(2)),
            text="what step am I on?",
        )
    )
    assert adapter.sent, "no first reply"
    replied = time.time()
    index_files = [p for p in (folder / "manifest.json", folder / "manifest.log") if p.exists()]
    floors = Floors(folder)
    out: dict[str, Any] = {
        "n": n,
        "refused": refused,
        "spawn_to_first_reply_ms": (replied - spawned_at) * 1000,
        "open_to_first_reply_ms": (replied - imported) * 1000,
        "imports_ms": (imported - SPAWN_SEEN) * 1000,
        "store_open_ms": open_ms,
        "index_bytes": sum(p.stat().st_size for p in index_files),
        "floor_index_parse_ms": min(ms(lambda: Floors.parse_files(index_files)) for _ in range(5)),
    }
    # Above estimates.INLINE_LIMIT the first reply does not wait for the wait estimates: they are
    # worked out in the background. "At rest" starts once they are (the time it took is reported).
    deadline = time.monotonic() + 120
    while not app.services.estimates.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    out["estimates_ready_ms"] = (time.time() - replied) * 1000
    deadline = time.monotonic() + 10
    while not validator.worker_pids and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the warm-up finishes importing pypdf in the worker
    rng = random.Random(0)
    keys = [key_of(i) for i in range(n)]
    counter = iter(range(10**9))

    def status() -> None:
        event = DirectMessage(
            event_id=f"s{next(counter)}-{secrets.token_hex(2)}",
            user=UserRef.from_key(rng.choice(keys)),
            text="status",
        )
        app.dispatch(event)

    def checklist() -> None:
        event = DirectMessage(event_id="", user=UserRef.from_key(rng.choice(keys)), text="status")
        checklist_text(Context(app.services, event, app.rules, adapter))

    record = orjson.dumps(store.get(key_of(1)).to_dict())  # type: ignore[union-attr]
    event_line = b'{"e":"' + secrets.token_hex(16).encode() + b'","t":1}\n'
    out["status"] = interleaved(status, lambda: floors.append(event_line), samples)
    out["checklist"] = interleaved(checklist, lambda: orjson.loads(record), samples)
    out["record_bytes"] = len(record)
    out["rss_rest_mb"] = rss_mb()
    out["worker_rss_mb"] = [rss_mb(pid) for pid in validator.worker_pids]

    shard_sizes: list[int] = []

    def update() -> None:
        key = rng.choice(keys)
        store.update(key, lambda a: a.reminders_sent.append("bench"))
        shard_sizes.append((folder / store.writes[-1]).stat().st_size)

    def update_floor() -> None:
        floors.write(shard_sizes[-1] if shard_sizes else 300_000)

    out["update"] = interleaved(update, update_floor, samples)
    out["shard_bytes"] = sorted(shard_sizes)[len(shard_sizes) // 2]

    now = clock()
    awaiting = app.services.desk.awaiting_reasons
    reason_bytes = orjson.dumps([r.to_dict() for r in store.reviews_awaiting_reason(REVIEWER)])
    out["reviewer_dm"] = interleaved(
        lambda: awaiting(REVIEWER, now), lambda: orjson.loads(reason_bytes), samples
    )
    out["awaiting"] = len(awaiting(REVIEWER, now))

    # -- ticks -------------------------------------------------------------------------------
    clock.now = T0 + timedelta(hours=12)
    app.tick()  # the first tick of the process (installs the due rule: its version is already kept)
    before = tree(folder)
    writes = len(store.writes)
    idle = interleaved(app.tick, lambda: list(store.due(clock.now)), max(5, samples // 20))
    out["idle_tick"] = idle
    out["idle_tick_bytes"] = written(before, tree(folder))
    out["idle_tick_writes"] = len(store.writes) - writes

    clock.now = T0 + timedelta(days=1, hours=12)
    due = sum(1 for _ in store.due(clock.now))
    before = tree(folder)
    during: list[float] = []
    stop = threading.Event()

    def talk() -> None:  # other people's messages while the tick runs
        while not stop.is_set():
            during.append(ms(status))
            time.sleep(0.005)

    sent_before = len(adapter.sent)
    talker = threading.Thread(target=talk, daemon=True)
    with PeakRSS() as peak:
        talker.start()
        started = time.perf_counter()
        sent = app.tick()
        tick_s = time.perf_counter() - started
        stop.set()
        talker.join()
    out["busy_tick"] = {
        "s": tick_s,
        "sent": sent,
        "due": due,
        "dms": len(adapter.sent) - sent_before,
        "bytes": written(before, tree(folder)),
        "rss_peak_mb": peak.peak,
        "status_during_ms": during,
    }
    line = b'{"f":"applicants-00.json","g":12,"h":"' + b"0" * 64 + b'","n":128,"a":{}}\n'
    started = time.perf_counter()
    for _ in range(sent):
        floors.append(line)
    out["busy_tick"]["floor_s"] = time.perf_counter() - started

    # -- votes -------------------------------------------------------------------------------
    pending = [r.id for r in store.pending_reviews()]
    review_sizes: list[int] = []

    def vote() -> None:
        store.update_review(rng.choice(pending), lambda r: r.votes.__setitem__(REVIEWER2, "approve"))
        review_sizes.append((folder / store.writes[-1]).stat().st_size)

    out["vote"] = interleaved(
        vote, lambda: floors.write(review_sizes[-1] if review_sizes else 50_000), samples
    )
    out["review_shard_bytes"] = sorted(review_sizes)[len(review_sizes) // 2]

    # -- admin export and stats ----------------------------------------------------------------
    from bot import admin, report_workers

    data_files = sorted(folder.glob("applicants-*.json")) + sorted(folder.glob("reviews-*.json"))
    rules = app.rules
    export_path = folder / "floor" / "export.csv"
    runs = 3 if n <= 10_000 else 2
    exports: dict[str, list[float]] = {
        "op": [],
        "floor": [],
        "stats": [],
        "rss": [],
        "worker_rss": [],
        "alone": [],
        "alone_stats": [],
    }
    for _ in range(runs):
        with PeakRSS(children=True) as peak, export_path.open("w", encoding="utf-8", newline="") as handle:
            exports["op"].append(ms(lambda handle=handle: admin.write_csv(handle, store, rules)))  # type: ignore[misc]
        exports["rss"].append(peak.peak)
        exports["worker_rss"].append(peak.children_peak)
        exports["floor"].append(ms(lambda: Floors.parse_files(data_files)))
        with PeakRSS(children=True) as peak:
            exports["stats"].append(ms(lambda: admin.stats(store, rules)))
        exports["rss"].append(peak.peak)
        exports["worker_rss"].append(peak.children_peak)
        # The same reports in the bot's process alone (ACCESSBOT_REPORT_WORKERS=0).
        with export_path.open("w", encoding="utf-8", newline="") as handle:
            exports["alone"].append(ms(lambda: admin.write_csv(handle, store, rules, workers=0)))
        exports["alone_stats"].append(ms(lambda: admin.stats(store, rules, workers=0)))
    out["report_workers"] = report_workers._workers(store.count(), 2)
    out["export"] = exports
    out["export_bytes"] = export_path.stat().st_size
    out["data_bytes"] = sum(p.stat().st_size for p in data_files)
    out["rss_end_mb"] = rss_mb()
    out["due_share"] = DUE_SHARE
    app.close()
    return out


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
    sys.stdout.write("\nRESULT " + json.dumps(result) + "\n")
