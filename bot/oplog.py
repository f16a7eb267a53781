"""The operation log: multi-record changes and the messages they leave to send, crash-safe.

Why a log and not "one document per operation": a decision changes an applicant (in a shard) and a
review round (in the reviews table), and must tell people about it. Those live in different files,
and TinyDB writes one file at a time. So every such operation is appended here first, with the full
new value of each record it changes and every delivery it leaves, and fsynced, before any record
is written (write-ahead). Then:

    {"op": ID, "records": {...}, "deliveries": [...]}   intent (fsynced)   - store.commit
    ... the records are written ...
    {"applied": ID}                                     records written     - store.commit
    {"sending": ID, "n": I}                             about to send I     - Outbox (posts only)
    {"delivered": ID, "n": I, "ref": {...}}             delivery I is out   - Outbox

At start-up an operation without "applied" is applied again (its records are full values, so
applying twice is harmless, and no later operation can have touched them: the store lock is held
from the intent to "applied"); a delivery without "delivered" is sent again, or reconciled with the
platform when it was already "sending" and the adapter can tell (Adapter.find_sent).

The file is compacted when every operation in it is applied and delivered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bot.integrity import ExtraFile, ForgetTarget, register_file
from bot.storage import CorruptDatabase, append_fsynced, write_atomically

log = logging.getLogger(__name__)

CLAIM_EXPIRES_S = 300.0
"""A delivery its committing thread has not finished after this long is redelivered by the loop."""

COMPACT_AFTER = 2000
"""Lines in the log before it is compacted (only when nothing is left unfinished)."""


@dataclass
class Operation:
    id: str
    records: dict[str, Any]
    deliveries: list[dict[str, Any]]
    applied: bool = False
    sending: set[int] = field(default_factory=set)
    delivered: dict[int, Any] = field(default_factory=dict)
    claimed_at: float = 0.0
    """When this process committed it and took on its deliveries (0: nobody in this run has)."""

    @property
    def finished(self) -> bool:
        return self.applied and len(self.delivered) >= len(self.deliveries)


NAME = "oplog.jsonl"


def _validate(raw: bytes) -> str | None:
    """A problem with the log's bytes in words (start-up integrity), or None."""
    lines = raw.splitlines()
    if raw and not raw.endswith(b"\n"):
        lines = lines[:-1]  # an append cut short by a crash: dropped at start-up, never acknowledged
    for number, line in enumerate(lines, start=1):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            return f"line {number} is not valid JSON"
        if not isinstance(entry, dict):
            return f"line {number} is not an entry"
    return None


def _forget(path: Path, target: ForgetTarget) -> int:
    """Drop every operation that names the person (its records hold their data), with its marks."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0
    entries = [orjson.loads(line) for line in raw.splitlines() if line.strip().startswith(b"{")]

    def names_them(entry: dict[str, Any]) -> bool:
        text = orjson.dumps(entry).decode()
        return target.key in text or target.mentions(text)

    def op_of(entry: dict[str, Any]) -> str:
        return str(entry.get("op") or entry.get("applied") or entry.get("sending") or entry.get("delivered"))

    named = {str(e["op"]) for e in entries if "op" in e and names_them(e)}
    if not named:
        return 0
    kept = [e for e in entries if op_of(e) not in named]
    write_atomically(path, b"".join(orjson.dumps(e) + b"\n" for e in kept))
    return len(named)


register_file(ExtraFile(NAME, validate=_validate, forget=_forget))


class OpLog:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.Lock()
        self._ops: dict[str, Operation] = {}
        self._lines = 0
        self._load()

    # -- reading -----------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        if raw and not raw.endswith(b"\n"):  # an append cut short by a crash was never acknowledged
            raw = raw[: raw.rfind(b"\n") + 1]
            if not self.read_only:  # beside a live bot the short line may be its append in progress
                write_atomically(self.path, raw)
        for number, line in enumerate(raw.splitlines(), start=1):
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise CorruptDatabase(self.path, f"line {number} is not valid JSON ({exc})") from None
            if not isinstance(entry, dict):
                raise CorruptDatabase(self.path, f"line {number} is not an entry")
            self._read(entry)
            self._lines += 1
        for op in list(self._ops.values()):
            if op.finished:
                del self._ops[op.id]

    def _read(self, entry: dict[str, Any]) -> None:
        if "op" in entry:
            self._ops[str(entry["op"])] = Operation(
                str(entry["op"]), dict(entry.get("records") or {}), list(entry.get("deliveries") or [])
            )
            return
        op = self._ops.get(str(entry.get("applied") or entry.get("sending") or entry.get("delivered") or ""))
        if op is None:
            return
        if "applied" in entry:
            op.applied = True
        elif "sending" in entry:
            op.sending.add(int(entry.get("n", 0)))
        elif "delivered" in entry:
            op.delivered[int(entry.get("n", 0))] = entry.get("ref")

    def unapplied(self) -> list[Operation]:
        with self._lock:
            return [op for op in self._ops.values() if not op.applied]

    def undelivered(self) -> Iterator[tuple[Operation, int, dict[str, Any]]]:
        """(operation, index, delivery) for every delivery not yet out and not in a thread's hands,
        oldest first."""
        stale = time.monotonic() - CLAIM_EXPIRES_S
        with self._lock:
            pending = [
                (op, n, d)
                for op in self._ops.values()
                if op.claimed_at < stale
                for n, d in enumerate(op.deliveries)
                if n not in op.delivered
            ]
        yield from pending

    def release(self, op_id: str) -> None:
        """The committing thread is done with the operation's deliveries: what is left is the loop's."""
        with self._lock:
            op = self._ops.get(op_id)
            if op is not None:
                op.claimed_at = 0.0

    def was_sending(self, op_id: str, n: int) -> bool:
        with self._lock:
            op = self._ops.get(op_id)
            return op is not None and n in op.sending

    # -- writing -----------------------------------------------------------------------------

    def _append(self, entry: dict[str, Any]) -> None:
        if self.read_only:
            raise PermissionError(f"{self.path} is open read-only")
        append_fsynced(self.path, orjson.dumps(entry) + b"\n")
        self._lines += 1

    def begin(self, op_id: str, records: dict[str, Any], deliveries: list[dict[str, Any]]) -> None:
        with self._lock:
            self._append({"op": op_id, "records": records, "deliveries": deliveries})
            self._ops[op_id] = Operation(op_id, records, deliveries, claimed_at=time.monotonic())

    def applied(self, op_id: str) -> None:
        with self._lock:
            self._append({"applied": op_id})
            op = self._ops.get(op_id)
            if op is not None:
                op.applied = True
                self._forget_if_finished(op)

    def sending(self, op_id: str, n: int) -> None:
        with self._lock:
            self._append({"sending": op_id, "n": n})
            op = self._ops.get(op_id)
            if op is not None:
                op.sending.add(n)

    def delivered(self, op_id: str, n: int, ref: Any = None) -> None:
        with self._lock:
            op = self._ops.get(op_id)
            if op is None or n in op.delivered:
                return
            self._append({"delivered": op_id, "n": n, "ref": ref})
            op.delivered[n] = ref
            self._forget_if_finished(op)

    def _forget_if_finished(self, op: Operation) -> None:
        if op.finished:
            del self._ops[op.id]
        if self._lines > COMPACT_AFTER:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the log with only what is unfinished (atomically: a crash keeps the old file)."""
        lines: list[dict[str, Any]] = []
        for op in self._ops.values():
            lines.append({"op": op.id, "records": op.records, "deliveries": op.deliveries})
            if op.applied:
                lines.append({"applied": op.id})
            lines.extend({"sending": op.id, "n": n} for n in sorted(op.sending))
            lines.extend({"delivered": op.id, "n": n, "ref": ref} for n, ref in op.delivered.items())
        write_atomically(self.path, b"".join(orjson.dumps(line) + b"\n" for line in lines))
        self._lines = len(lines)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._ops)
