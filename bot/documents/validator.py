"""The public entry point: bytes from a chat upload + a DocumentProfile -> a Verdict.

One Validator per process: it owns pre-started PDF worker processes (see sandbox.py), is safe to share
between threads, and must be closed (or used as a context manager) so the workers go away.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Protocol

from bot.documents.checks import check_citi, check_phrases
from bot.documents.citi import parse
from bot.documents.findings import Finding
from bot.documents.sandbox import WorkerPool, precheck
from bot.rules import DocumentProfile

__all__ = ["Finding", "Validator", "Verdict", "render_problem"]

_TYPE_NAMES = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG"}


@dataclass(frozen=True)
class Verdict:
    """The outcome: accepted only without problems; warnings and needs_manual_check are for reviewers."""

    accepted: bool
    kind: str
    fields: Mapping[str, Any]
    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...] = ()
    sha256: str = ""
    needs_manual_check: bool = False
    producer: str = field(default="", compare=False)
    pages: int = field(default=0, compare=False)


class SupportsTranslate(Protocol):
    def t(self, lang: str, key: str, **params: Any) -> str: ...


def render_problem(translator: SupportsTranslate, lang: str, finding: Finding) -> str:
    """The plain-language message for a finding (bot/locales/documents.<lang>.yaml, key problem.<code>)."""
    return translator.t(lang, f"problem.{finding.code}", **dict(finding.params))


class Validator:
    """Validates uploads; thread-safe; owns pre-started worker processes (close it, or use `with`)."""

    def __init__(
        self, *, timeout_s: float = 5.0, memory_mb: int = 512, max_pages: int = 8, workers: int = 1
    ) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self._pool = WorkerPool(size=workers, timeout_s=timeout_s, memory_mb=memory_mb, max_pages=max_pages)

    @property
    def worker_pids(self) -> list[int]:
        return self._pool.pids

    def warm_up(self) -> None:
        """Block until the workers are ready (call at start-up so the first upload is fast)."""
        self._pool.warm_up()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Validator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def validate(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str | None,
        profile: DocumentProfile,
        applicant_names: Sequence[str],
        today: date,
    ) -> Verdict:
        """Never raises for bad input: every failure is a Finding. `filename`/`content_type` are only
        hints (the bytes decide the type)."""
        default_kind = "unknown" if profile.parser == "citi" else "pdf"
        if len(data) > profile.max_bytes:
            max_mb = f"{profile.max_bytes / 1_000_000:g}"
            return _rejected(default_kind, Finding("too_large", {"max_mb": max_mb}), "")
        sha = hashlib.sha256(data).hexdigest()
        file_type, error = precheck(data, max_bytes=profile.max_bytes, accept=profile.accept)
        if error == "wrong_file_type":
            accepted = ", ".join(_TYPE_NAMES.get(t, t.upper()) for t in profile.accept)
            return _rejected(default_kind, Finding(error, {"accepted": accepted}), sha)
        if error is not None:
            return _rejected(default_kind, Finding(error), sha)
        if file_type in ("png", "jpeg"):
            return Verdict(True, "image", {}, (), (Finding("manual_check"),), sha, needs_manual_check=True)

        extraction = self._pool.extract(data)
        if extraction.error is not None:
            return _rejected(default_kind, Finding(extraction.error), sha)
        text_found = bool(extraction.text.strip())

        if profile.parser == "generic":
            if not text_found:
                if profile.require.phrases:
                    return _rejected("pdf", Finding("no_text"), sha)
                warning = (Finding("manual_check"),)
                return Verdict(True, "pdf", {}, (), warning, sha, True, extraction.producer, extraction.pages)
            problems = tuple(check_phrases(extraction.text, profile.require))
            return Verdict(
                not problems, "pdf", {}, problems, (), sha, False, extraction.producer, extraction.pages
            )

        if not text_found:
            return _rejected("unknown", Finding("no_text"), sha)
        doc = parse(extraction.text, extraction.uris)
        outcome = check_citi(doc, profile.require, applicant_names, today)
        return Verdict(
            accepted=not outcome.problems,
            kind=doc.kind,
            fields=dict(doc.fields),
            problems=tuple(outcome.problems),
            warnings=tuple(outcome.warnings),
            sha256=sha,
            needs_manual_check=outcome.needs_manual_check,
            producer=extraction.producer,
            pages=extraction.pages,
        )


def _rejected(kind: str, finding: Finding, sha: str) -> Verdict:
    return Verdict(False, kind, {}, (finding,), (), sha, False)
