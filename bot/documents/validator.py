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
from typing import Any, Literal, Protocol

from bot.documents.findings import Finding
from bot.documents.registry import DocumentParser, get_parser
from bot.documents.sandbox import WorkerPool, precheck
from bot.rules import DocumentProfile

__all__ = ["Finding", "Validator", "Verdict", "render_problem"]

_TYPE_NAMES = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG"}


Outcome = Literal["accepted", "needs_review", "rejected"]
_EXTENSIONS = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one upload.

    `outcome`: "rejected" (a real problem: `problems` say which), "needs_review" (the step completes,
    a reviewer must look: `warnings` say why, `unread_fields` lists what could not be read), or
    "accepted" (every check passed). `accepted` is `outcome != "rejected"`, as before.
    `checked` says a real check passed (a generic file without phrases is only "received").
    `safe_extension` is chosen from the detected type (".pdf", ".png", ".jpg"), never from the file
    name; `safe_data` is what may be forwarded to reviewers (images re-encoded without metadata; empty
    when the file must not be forwarded)."""

    accepted: bool
    kind: str
    fields: Mapping[str, Any]
    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...] = ()
    sha256: str = ""
    needs_manual_check: bool = False
    producer: str = field(default="", compare=False)
    pages: int = field(default=0, compare=False)
    outcome: Outcome = "accepted"
    unread_fields: tuple[str, ...] = ()
    checked: bool = False
    parser: str = ""
    file_type: str = ""
    safe_extension: str = ""
    safe_data: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.accepted:
            object.__setattr__(self, "outcome", "rejected")
        elif self.needs_manual_check or self.unread_fields:
            object.__setattr__(self, "outcome", "needs_review")

    @property
    def needs_review(self) -> bool:
        return self.outcome == "needs_review"


class SupportsTranslate(Protocol):
    def t(self, lang: str, key: str, **params: Any) -> str: ...


def render_problem(translator: SupportsTranslate, lang: str, finding: Finding) -> str:
    """The plain-language message for a finding (bot/locales/documents.<lang>.yaml, key problem.<code>)."""
    return translator.t(lang, f"problem.{finding.code}", **dict(finding.params))


class Validator:
    """Validates uploads; thread-safe; owns pre-started worker processes (close it, or use `with`)."""

    def __init__(
        self, *, timeout_s: float = 4.0, memory_mb: int = 512, max_pages: int = 8, workers: int = 2
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
        hints (the bytes decide the type, and the forwarded file's extension)."""
        parser = get_parser(profile.parser)
        default_kind = parser.default_kind
        if len(data) > profile.max_bytes:
            max_mb = f"{profile.max_bytes / 1_000_000:g}"
            return _rejected(default_kind, Finding("too_large", {"max_mb": max_mb}), "", parser)
        sha = hashlib.sha256(data).hexdigest()
        file_type, error = precheck(data, max_bytes=profile.max_bytes, accept=profile.accept)
        if error == "wrong_file_type":
            accepted = ", ".join(_TYPE_NAMES.get(t, t.upper()) for t in profile.accept)
            return _rejected(default_kind, Finding(error, {"accepted": accepted}), sha, parser)
        if error is not None or file_type is None:
            return _rejected(default_kind, Finding(error or "not_pdf"), sha, parser)
        if file_type in ("png", "jpeg"):
            return self._image(data, file_type, sha, profile, parser)

        extraction = self._pool.extract(data, {"job": "pdf", "reader": parser.reader})
        if extraction.error is not None:
            return _rejected(default_kind, Finding(extraction.error), sha, parser)
        if extraction.active:
            finding = Finding("active_content", {"found": ", ".join(extraction.active)})
            return _rejected(default_kind, finding, sha, parser)
        judged = parser.judge(extraction, profile, applicant_names, today)
        return Verdict(
            accepted=not judged.problems,
            kind=judged.kind,
            fields=judged.fields,
            problems=tuple(judged.problems),
            warnings=tuple(judged.warnings),
            sha256=sha,
            needs_manual_check=judged.needs_manual_check,
            producer=extraction.producer,
            pages=extraction.pages,
            unread_fields=tuple(judged.unread),
            checked=judged.checked,
            parser=parser.name,
            file_type="pdf",
            safe_extension=".pdf",
            safe_data=data if not judged.problems else b"",
        )

    def _image(
        self, data: bytes, file_type: str, sha: str, profile: DocumentProfile, parser: DocumentParser
    ) -> Verdict:
        """Decoded in the worker as the type its bytes claim, re-encoded without metadata."""
        extraction = self._pool.extract(data, {"job": "image", "type": file_type})
        if extraction.error is not None:
            code = extraction.error if extraction.error in ("too_complex", "busy") else "bad_image"
            return _rejected("image", Finding(code), sha, parser)
        judged = parser.judge_image(profile)
        return Verdict(
            accepted=not judged.problems,
            kind="image",
            fields={},
            problems=tuple(judged.problems),
            warnings=tuple(judged.warnings),
            sha256=sha,
            needs_manual_check=judged.needs_manual_check,
            checked=judged.checked,
            parser=parser.name,
            file_type=file_type,
            safe_extension=_EXTENSIONS[file_type],
            safe_data=extraction.data,
        )


def _rejected(kind: str, finding: Finding, sha: str, parser: DocumentParser) -> Verdict:
    return Verdict(False, kind, {}, (finding,), (), sha, False, parser=parser.name)
