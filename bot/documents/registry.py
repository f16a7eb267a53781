"""Document parsers: one class each, registered by name; rules.yaml's `documents.*.parser` picks one.

A parser tells the validator which reader the sandboxed worker runs on a PDF, judges what the worker
found against the profile's checks, and tells the core everything it needs about the fields, so no
parser-specific field name is used outside bot/documents/:

    parser = get_parser(profile.parser)
    parser.applicant_fields(fields)                  # [(label key, value)] to show the applicant
    parser.reviewer_fields(fields, show_email=...)   # [(label key, value)] for the review post
    parser.identity_key(fields)                      # one document per person (CITI: the record id)
    parser.expiry_date(fields)                       # for renewal reminders
    parser.supports_renewal                          # approved members may send a newer one

Label keys are translator keys (bot/locales/documents.<lang>.yaml, `document_field.*`).
Adding a parser: a subclass of DocumentParser decorated with @register, and its name in
bot.rules.DocumentProfile.parser (tests/test_documents_registry.py checks the two agree).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, TypeVar

from bot.documents.checks import check_citi, check_phrases, clearly_a_report
from bot.documents.citi import FIELD_LABELS, KIND_REPORT, CitiDocument
from bot.documents.findings import Finding
from bot.documents.sandbox import Extraction
from bot.rules import DocumentProfile

FIELD_KEY = "document_field."


@dataclass
class Judgement:
    """A parser's verdict on what the worker read; `checked` says a real check passed (not only
    "received"); `unread` lists fields that a reviewer must read by eye."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    needs_manual_check: bool = False
    unread: list[str] = field(default_factory=list)
    checked: bool = False


class DocumentParser(ABC):
    name: ClassVar[str]
    reader: ClassVar[str] = "text"  # what the worker runs on a PDF: "text" (both readings) or "citi"
    supports_renewal: ClassVar[bool] = False
    default_kind: ClassVar[str] = "pdf"

    @abstractmethod
    def judge(
        self, extraction: Extraction, profile: DocumentProfile, applicant_names: Sequence[str], today: date
    ) -> Judgement: ...

    def judge_image(self, profile: DocumentProfile) -> Judgement:
        """An image that decoded cleanly: nothing in it can be read, so a reviewer looks."""
        return Judgement("image", warnings=[Finding("manual_check")], needs_manual_check=True)

    def applicant_fields(self, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def reviewer_fields(self, fields: Mapping[str, Any], *, show_email: bool) -> list[tuple[str, str]]:
        return []

    def identity_key(self, fields: Mapping[str, Any]) -> str | None:
        return None

    def expiry_date(self, fields: Mapping[str, Any]) -> date | None:
        return None


_REGISTRY: dict[str, DocumentParser] = {}
P = TypeVar("P", bound=type[DocumentParser])


def register(cls: P) -> P:
    """Class decorator: make `cls` available as rules.yaml's `parser: <cls.name>`."""
    if cls.name in _REGISTRY:
        raise ValueError(f"document parser {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def get_parser(name: str) -> DocumentParser:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown document parser {name!r} (known: {', '.join(parser_names())})") from None


def parser_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def _pairs(fields: Mapping[str, Any], names: Sequence[str]) -> list[tuple[str, str]]:
    return [(FIELD_KEY + n, str(fields[n])) for n in names if fields.get(n) not in (None, "", [])]


@register
class CitiParser(DocumentParser):
    """CITI Program completion reports (and certificates and pre-2016 reports, to say what is wrong)."""

    name = "citi"
    reader = "citi"
    supports_renewal = True
    default_kind = "unknown"
    _APPLICANT = ("name", "course_learner_group", "stage", "completion_date", "expiration_date", "record_id")
    _REVIEWER = (
        "course_learner_group",
        "completion_date",
        "expiration_date",
        "record_id",
        "verification_url",
    )

    def judge(
        self, extraction: Extraction, profile: DocumentProfile, applicant_names: Sequence[str], today: date
    ) -> Judgement:
        if extraction.text_chars == 0:
            return Judgement("unknown", problems=[Finding("no_text")])
        doc = CitiDocument.from_json(extraction.document)
        outcome = check_citi(doc, profile.require, applicant_names, today)
        return Judgement(
            kind=doc.kind,
            fields=dict(doc.fields),
            problems=outcome.problems,
            warnings=outcome.warnings,
            needs_manual_check=outcome.needs_manual_check,
            unread=outcome.unread,
            checked=clearly_a_report(doc) or doc.kind == KIND_REPORT,
        )

    def applicant_fields(self, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
        return _pairs(fields, self._APPLICANT)

    def reviewer_fields(self, fields: Mapping[str, Any], *, show_email: bool) -> list[tuple[str, str]]:
        pairs = _pairs(fields, self._REVIEWER)
        if show_email:
            pairs += _pairs(fields, ("email",))
        modules = fields.get("modules")
        if isinstance(modules, list) and modules:
            pairs.append((FIELD_KEY + "modules", f"{len(modules)}: " + "; ".join(str(m) for m in modules)))
        return pairs

    def identity_key(self, fields: Mapping[str, Any]) -> str | None:
        value = fields.get("record_id")
        return str(value) if value else None

    def expiry_date(self, fields: Mapping[str, Any]) -> date | None:
        value = fields.get("expiration_date")
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None


@register
class GenericParser(DocumentParser):
    """Any PDF or image for a reviewer to read, optionally required to contain `phrases`."""

    name = "generic"

    def judge(
        self, extraction: Extraction, profile: DocumentProfile, applicant_names: Sequence[str], today: date
    ) -> Judgement:
        phrases = profile.require.phrases
        if extraction.text_chars == 0:
            if phrases:
                return Judgement("pdf", problems=[Finding("no_text")])
            return Judgement("pdf", warnings=[Finding("manual_check")], needs_manual_check=True)
        if not phrases:
            return Judgement("pdf", warnings=[Finding("manual_check")], needs_manual_check=True)
        problems = check_phrases((extraction.text, extraction.layout_text), profile.require)
        return Judgement("pdf", problems=problems, checked=not problems)

    def judge_image(self, profile: DocumentProfile) -> Judgement:
        if profile.require.phrases:  # an image cannot show that it contains them: a reviewer reads it
            return Judgement("image", warnings=[Finding("manual_check")], needs_manual_check=True)
        return super().judge_image(profile)


def unread_labels(names: Sequence[str]) -> list[tuple[str, str]]:
    """(label key, English label) for fields listed as unread on a Verdict."""
    return [(FIELD_KEY + n, FIELD_LABELS.get(n, n)) for n in names]
