"""`admin export` and `stats` over many people, read and tallied in worker processes.

Why: at 100,000 people a report reads, checks and parses some 400 MB of JSON. In one process that
is one core's work, under the bot's interpreter lock, beside the messages it should be answering.
Here up to ACCESSBOT_REPORT_WORKERS processes (default 2) each read a share of the applicants'
shard files and turn them into CSV text or a Tally (bot/reports.py: the same code as in one
process), and the bot only writes the pieces out in order.

What a worker reads is checked: each file's generation and SHA-256 must be those the store holds
(Store.applicant_files). A file in the store's memory, changed since, damaged or unreadable is
left to the bot, which reads it itself as before (Store.progress_in). A pool that cannot start or
breaks is logged and the rest of the report is made here: the report is the same, only slower.

Workers are forked by multiprocessing's fork server: a clean, single-threaded process started at
the first big report, which has this module and its imports loaded (about 0.5 s, once). A worker
forked from it starts in milliseconds. Forking the bot itself would copy its threads' locks
mid-use, and a fresh interpreter per report ("spawn") costs about 0.9 s of imports each time.
The workers of one report are stopped after it; the fork server stays until the bot exits.
As with every multiprocessing start method, the fork server imports the main module (as
`__mp_main__`): the `accessbot` script and `python -m bot` guard their start, and a script that
embeds accessbot must too (`if __name__ == "__main__":`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from bot import memory
from bot.models import Progress
from bot.reports import ExportRows, Row, Tally
from bot.rules import Rules
from bot.settings import REPORT_WORKERS
from bot.storage import MAX_DATABASE_BYTES, CorruptDatabase, parse_database, read_limited
from bot.store import SHARD_CAPACITY, Store

log = logging.getLogger(__name__)

PARALLEL_FROM = 10_000
"""Fewer people than this are reported in the bot's own process: a pool's start (about 0.2 s with
the fork server running: the fork, the rules and the review briefs sent to each worker) costs more
than it saves. At 10,000 both take about the same time; the workers also free the bot's
interpreter for the messages it answers meanwhile."""
BATCH_FILES = 64
"""Shard files per task (about 1,000 people): small enough to keep both workers busy to the end."""
AHEAD = 3
"""Tasks queued per worker beyond the one it runs: the pieces waiting to be written stay few."""

WATCH_S = 0.5
"""How often a worker checks that the bot is still there."""

Expected = tuple[int, str] | None
Files = list[tuple[str, Expected]]
T = TypeVar("T")


# -- in the worker process -----------------------------------------------------------------------


@dataclass
class _Job:
    folder: Path
    rules: Rules
    rows: ExportRows | None


_job: _Job | None = None
"""This worker process's report (set once by _begin, the pool's initializer): what every task of
the pool shares, sent once instead of with each task."""


def _begin(bot: int, folder: str, rules: Rules, lang: str | None, briefs: dict[str, tuple[str, str]]) -> None:
    global _job
    rows = ExportRows(rules, lang, briefs.get) if lang is not None else None
    _job = _Job(Path(folder), rules, rows)
    threading.Thread(target=_end_with, args=(bot,), name="end-with-the-bot", daemon=True).start()


def _end_with(bot: int) -> None:
    """Exit when the bot's process is gone. A worker's parent is the fork server, so no signal
    tells it the bot was killed, and one blocked writing a result nobody reads would stay."""
    while True:
        time.sleep(WATCH_S)
        try:
            os.kill(bot, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass  # alive, under another user (the pid was reused: a rare, harmless wait)


def _the_job() -> _Job:
    if _job is None:
        raise RuntimeError("a report task ran outside a report worker")
    return _job


def _records(folder: Path, name: str, expected: Expected) -> list[Progress] | None:
    """The shard's records if its bytes are what the store holds; None: the bot reads it."""
    if expected is None:
        return None
    path = folder / name
    try:
        raw = read_limited(path, MAX_DATABASE_BYTES)
        if hashlib.sha256(raw).hexdigest() != expected[1]:
            return None
        data, generation = parse_database(path, raw)
        if generation != expected[0]:
            return None
        return list(map(Progress.from_dict, data.get("applicants", {}).values()))
    except (OSError, CorruptDatabase, KeyError, TypeError, AttributeError):
        return None  # changed, damaged or gone since the store listed it: the bot judges it


def _csv_task(files: Files) -> list[tuple[str, int] | None]:
    """Per file: its rows as CSV text and how many, or None for a file left to the bot."""
    job = _the_job()
    rows = job.rows
    if rows is None:
        raise RuntimeError("a CSV task in a worker started for stats")
    out: list[tuple[str, int] | None] = []
    with memory.bulk_load():
        for name, expected in files:
            records = _records(job.folder, name, expected)
            if records is None:
                out.append(None)
                continue
            text = io.StringIO()
            count = _write_rows(text, rows.rows(records))
            out.append((text.getvalue(), count))
    return out


def _write_rows(out: TextIO, rows: Iterable[Row]) -> int:
    """Write `rows` to `out` as CSV; how many (the same loop in a worker and in the bot)."""
    writer = csv.writer(out)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def _tally_task(files: Files) -> tuple[Tally, list[str]]:
    """The tally of the files read, and the names of those left to the bot."""
    job = _the_job()
    tally = Tally([s.id for s in job.rules.steps])
    missed: list[str] = []
    with memory.bulk_load():
        for name, expected in files:
            records = _records(job.folder, name, expected)
            if records is None:
                missed.append(name)
            else:
                tally.add(job.rules, records)
    return tally, missed


# -- in the bot ----------------------------------------------------------------------------------


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers(people: int, wanted: int) -> int:
    """How many worker processes a report of `people` gets (0: made here): up to `wanted` (the
    setting), never more than the CPUs, none on one CPU (they would only take turns with the bot)
    or for a few people."""
    if wanted <= 0 or people < PARALLEL_FROM or cpus() < 2:
        return 0
    return min(wanted, cpus())


def _context() -> multiprocessing.context.BaseContext:
    """The fork server where there is one (Linux, macOS), else spawn. The server loads this module
    and the main module once, so that what each worker would import is already there."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


def warm_up(store: Store, workers: int) -> None:
    """Start the fork server now if this store's reports will use it, so that the first export
    does not wait for its imports (about 0.5 s of another core, once; the server then idles in its
    own process until the bot exits). Called in the background at start-up."""
    if _workers(store.count(), workers):
        _start_fork_server()


def warm_up_for_folder(folder: Path, workers: int) -> None:
    """warm_up before the store is open (the admin CLI's export and stats), judged by the number of
    applicants' shard files (at most SHARD_CAPACITY people each): the fork server's imports then
    overlap the store's opening."""
    try:
        with os.scandir(folder) as entries:
            shards = sum(1 for entry in entries if entry.name.startswith("applicants-"))
    except OSError:
        return  # the store's opening says what is wrong with the folder
    if _workers(shards * SHARD_CAPACITY, workers):
        _start_fork_server()


def _start_fork_server() -> None:
    if isinstance(_context(), multiprocessing.context.ForkServerContext):
        multiprocessing.forkserver.ensure_running()


def _in_workers(
    store: Store, rules: Rules, lang: str | None, task: Callable[[Files], T], files: Files, wanted: int
) -> Iterator[tuple[Files, T | None]]:
    """Each batch of `files` with what a worker made of it, in order; None for a batch made here
    (no pool, or a pool that failed: logged, and the batches from the failed one on are made
    here)."""
    batches = [files[i : i + BATCH_FILES] for i in range(0, len(files), BATCH_FILES)]
    workers = _workers(store.count(), wanted)
    if workers == 0:
        yield from ((batch, None) for batch in batches)
        return
    done = 0
    pool: ProcessPoolExecutor | None = None
    try:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_context(),
            initializer=_begin,
            initargs=(
                os.getpid(),
                str(store.dir),
                rules,
                lang,
                store.review_briefs() if lang is not None else {},
            ),
        )
        waiting: deque[Future[T]] = deque()
        while done < len(batches):
            while done + len(waiting) < len(batches) and len(waiting) < workers * (1 + AHEAD):
                waiting.append(pool.submit(task, batches[done + len(waiting)]))
            result = waiting.popleft().result()
            yield batches[done], result
            done += 1
    except Exception as exc:  # a pool that could not start, a worker killed: made here instead
        log.warning(
            "report workers failed (%s: %s); making the rest of the report in the bot's process",
            type(exc).__name__,
            exc,
        )
        yield from ((batch, None) for batch in batches[done:])
    finally:
        if pool is not None:  # also when the caller stops early: queued tasks are dropped
            pool.shutdown(wait=True, cancel_futures=True)


def write_csv(
    out: TextIO, store: Store, rules: Rules, lang: str = "", *, workers: int = REPORT_WORKERS
) -> int:
    """Stream the export as CSV to `out` (a piece per file, in arrival order); returns the number
    of applicants. The same text whether the pieces were made here or in workers."""
    rows = ExportRows(rules, lang, store.review_brief)
    csv.writer(out).writerow(rows.header())
    count = 0
    with memory.bulk_load():  # rows and records die by reference counting: nothing for the collector
        for batch, parts in _in_workers(store, rules, rows.lang, _csv_task, store.applicant_files(), workers):
            for index, (name, _expected) in enumerate(batch):
                part = parts[index] if parts is not None else None
                if part is None:
                    count += _write_rows(out, rows.rows(store.progress_in(name)))
                else:
                    out.write(part[0])
                    count += part[1]
    return count


def tally(store: Store, rules: Rules, *, workers: int = REPORT_WORKERS) -> Tally:
    """The stats' tally of every applicant (in workers above PARALLEL_FROM people)."""
    total = Tally([s.id for s in rules.steps])
    with memory.bulk_load():
        for batch, made in _in_workers(store, rules, None, _tally_task, store.applicant_files(), workers):
            if made is not None:
                part, missed = made
                total.merge(part)
            else:
                missed = [name for name, _expected in batch]
            for name in missed:
                total.add(rules, store.progress_in(name))
    return total
