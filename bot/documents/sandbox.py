"""Safe extraction: cheap checks first, then pypdf in pre-started, resource-capped worker processes.

The parent never parses PDF bytes itself. Workers (see pdf_worker.py) are started ahead of time so a
request costs one round trip over a pipe, not a Python start-up; a worker that overruns the wall-clock
timeout or dies is killed and replaced, and the caller gets `too_complex`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("pdf_worker.py")
STARTUP_TIMEOUT_S = 30.0
MAX_TEXT_CHARS = 200_000  # far above a real report's first pages; the parser runs in the worker
PDF_SEARCH_BYTES = 1024

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes ("pdf", "png", "jpeg") or None; names and MIME types lie.

    `%PDF-` is searched in the first 1024 bytes, as PDF readers do (some producers prepend junk)."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if b"%PDF-" in data[:PDF_SEARCH_BYTES]:
        return "pdf"
    return None


@dataclass(frozen=True)
class Extraction:
    """What a worker read, or an error code.

    PDFs: both text readings (`text` plain, `layout_text` rebuilt from positions; only for the "text"
    reader), link URIs, the active content found, and for the "citi" reader the parsed `document`
    (JSON, rebuilt with CitiDocument.from_json). Images: `image` (format, size) and `data`, the image
    re-encoded without metadata."""

    error: str | None = None
    text: str = ""
    uris: tuple[str, ...] = ()
    pages: int = 0
    producer: str = ""
    elapsed_s: float = 0.0
    layout_text: str = ""
    document: dict[str, Any] | None = None
    active: tuple[str, ...] = ()
    text_chars: int = 0
    image: dict[str, Any] | None = None
    data: bytes = b""


class WorkerDied(Exception):
    """The worker went away or overran; it has been killed."""


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    ready: bool = False
    pid: int = 0
    buffer: bytearray = field(default_factory=bytearray)

    @classmethod
    def start(cls, memory_mb: int) -> _Worker:
        # -I: isolated mode (no PYTHONPATH, user site or cwd on sys.path); the script needs only pypdf.
        proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)
        return cls(proc=proc, pid=proc.pid)

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("pdf worker %s did not exit after SIGKILL", self.pid)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def stop(self, grace_s: float = 1.0) -> None:
        """Close stdin (the worker exits at end of input), then kill if it lingers."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=grace_s)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def _write(self, payload: bytes, deadline: float) -> None:
        assert self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        view = memoryview(payload)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied("timeout while sending")
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                continue
            try:
                written = os.write(fd, view[: 1 << 16])
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipeError: the worker is gone
                raise WorkerDied(f"send failed: {exc}") from exc
            view = view[written:]

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied("timeout")
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, max(65536, n - len(self.buffer)))
            if not chunk:
                raise WorkerDied("worker exited")
            self.buffer.extend(chunk)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def _read_raw(self, deadline: float, limit: int) -> bytes:
        (length,) = struct.unpack(">I", self._read_exact(4, deadline))
        if length > limit:
            raise WorkerDied("oversized answer")
        return self._read_exact(length, deadline)

    def _read_frame(self, deadline: float) -> dict[str, Any]:
        (length,) = struct.unpack(">I", self._read_exact(4, deadline))
        if length > 8 * MAX_TEXT_CHARS + 1_000_000:
            raise WorkerDied("oversized answer")
        try:
            value = json.loads(self._read_exact(length, deadline))
        except ValueError as exc:
            raise WorkerDied("garbled answer") from exc
        if not isinstance(value, dict):
            raise WorkerDied("garbled answer")
        return value

    def wait_ready(self) -> None:
        if not self.ready:
            hello = self._read_frame(time.monotonic() + STARTUP_TIMEOUT_S)
            if not hello.get("ready"):
                raise WorkerDied("no ready signal")
            self.ready = True

    def run(
        self, data: bytes, *, max_pages: int, timeout_s: float, job: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bytes]:
        """One job: the answer and, for images, the re-encoded bytes."""
        self.wait_ready()
        options = json.dumps(
            {
                "max_pages": max_pages,
                "cpu_s": int(timeout_s) + 1,
                "max_chars": MAX_TEXT_CHARS,
                **(job or {}),
            }
        ).encode()
        deadline = time.monotonic() + timeout_s
        frame = struct.pack(">I", len(options)) + options + struct.pack(">I", len(data))
        self._write(frame, deadline)
        self._write(data, deadline)
        answer = self._read_frame(deadline)
        size = answer.get("data_len")
        payload = b""
        if isinstance(size, int) and size > 0:
            payload = self._read_raw(deadline, 4 * len(data) + 50_000_000)
        return answer, payload


def _shutdown(workers: list[_Worker]) -> None:
    for worker in list(workers):
        worker.stop(grace_s=0.5)


class WorkerPool:
    """A fixed set of pre-started workers shared by threads: each call borrows one exclusively.

    With `size` workers, a slow hostile file holds one worker while other users' files go to the others.
    Each file has a deadline (`timeout_s`) that counts the wait for a free worker too: past it the
    caller gets `busy` (no worker came free) or `too_complex` (the worker overran and was replaced)."""

    def __init__(
        self, *, size: int = 2, timeout_s: float = 4.0, memory_mb: int = 512, max_pages: int = 8
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._add(_Worker.start(memory_mb))
        self._finalizer = weakref.finalize(self, _shutdown, self._all)

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            closed = self._closed
        if not closed:
            self._add(_Worker.start(self.memory_mb))

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and tests)."""
        with self._lock:
            return [w.pid for w in self._all]

    def warm_up(self) -> None:
        """Wait until every idle worker has finished starting (optional; the first call waits anyway)."""
        borrowed: list[_Worker] = []
        try:
            while True:
                borrowed.append(self._idle.get_nowait())
        except queue.Empty:
            pass
        for worker in borrowed:
            try:
                worker.wait_ready()
            except WorkerDied:
                self._replace(worker)
                continue
            self._idle.put(worker)

    def extract(self, data: bytes, job: dict[str, Any] | None = None) -> Extraction:
        """Run one job (default: read a PDF's text) on a free worker, within the per-file deadline."""
        if self._closed:
            raise RuntimeError("the validator is closed")
        started = time.monotonic()
        deadline = started + self.timeout_s
        for _attempt in range(2):
            try:
                worker = self._idle.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                log.warning("no pdf worker came free within %.1f s", self.timeout_s)
                return Extraction(error="busy", elapsed_s=time.monotonic() - started)
            if worker.proc.poll() is not None:  # died while idle (killed from outside): not this file's fault
                self._replace(worker)
                continue
            try:
                worker.wait_ready()
            except WorkerDied:
                self._replace(worker)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                self._idle.put(worker)
                return Extraction(error="busy", elapsed_s=time.monotonic() - started)
            try:
                answer, payload = worker.run(data, max_pages=self.max_pages, timeout_s=remaining, job=job)
            except WorkerDied as exc:
                log.warning("pdf worker %s stopped (%s); replacing it", worker.pid, exc)
                self._replace(worker)
                return Extraction(error="too_complex", elapsed_s=time.monotonic() - started)
            except Exception:
                self._replace(worker)
                raise
            if answer.get("recycle"):
                self._replace(worker)
            else:
                self._idle.put(worker)
            return _to_extraction(answer, payload, time.monotonic() - started)
        log.error("pdf workers fail to start")
        return Extraction(error="unreadable", elapsed_s=time.monotonic() - started)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._finalizer()


def _to_extraction(answer: dict[str, Any], payload: bytes, elapsed: float) -> Extraction:
    """The worker's answer, type-checked field by field: a worker that read hostile input is not trusted."""
    error = answer.get("error")
    if error is not None:
        return Extraction(error=str(error)[:40], elapsed_s=elapsed)
    uris = answer.get("uris") or []
    active = answer.get("active") or []
    document = answer.get("document")
    image = answer.get("image")
    chars = answer.get("text_chars")
    pages = answer.get("pages")
    return Extraction(
        text=str(answer.get("text", ""))[:MAX_TEXT_CHARS],
        layout_text=str(answer.get("layout_text", ""))[:MAX_TEXT_CHARS],
        uris=tuple(str(u) for u in uris if isinstance(u, str))[:50],
        pages=pages if isinstance(pages, int) else 0,
        producer=str(answer.get("producer", ""))[:200],
        elapsed_s=elapsed,
        document=document if isinstance(document, dict) else None,
        active=tuple(str(a)[:40] for a in active if isinstance(a, str))[:20],
        text_chars=chars if isinstance(chars, int) else 0,
        image=image if isinstance(image, dict) else None,
        data=payload,
    )


def precheck(data: bytes, *, max_bytes: int, accept: Sequence[str]) -> tuple[str | None, str | None]:
    """(file type, error code) from size and magic alone, before any parser sees the bytes."""
    if len(data) > max_bytes:
        return None, "too_large"
    if not data or not data.strip():
        return None, "empty_file"
    kind = sniff(data)
    if kind is not None and kind in accept:
        return kind, None
    if tuple(accept) == ("pdf",):
        return kind, "not_pdf"
    return kind, "wrong_file_type"
