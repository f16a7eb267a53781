"""The admin's DocumentChecks applied to what the parser found: problems block, warnings inform reviewers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.documents.citi import (
    FIELD_LABELS,
    KIND_CERTIFICATE,
    KIND_LEGACY,
    KIND_REPORT,
    KIND_UNKNOWN,
    CitiDocument,
)
from bot.documents.findings import Finding
from bot.documents.names import matches_any
from bot.rules import DocumentChecks, Severity

_LINK_LETTER = {KIND_REPORT: "k", KIND_CERTIFICATE: "w"}
_CORE_FIELDS = ("name", "record_id", "completion_date", "expiration_date")


@dataclass
class Outcome:
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    needs_manual_check: bool = False

    def flag(self, severity: Severity, finding: Finding) -> None:
        """`reject` -> a problem; `warn` -> a warning that a reviewer must look at; `off` -> nothing."""
        if severity == "reject":
            self.problems.append(finding)
        elif severity == "warn":
            self.warnings.append(finding)
            self.needs_manual_check = True


def squash(text: str) -> str:
    """Case and spacing ignored: "Data or  Specimens only research" == "data or specimens only research"."""
    return re.sub(r"\s+", "", text).casefold()


def _iso(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check_citi(
    doc: CitiDocument, checks: DocumentChecks, applicant_names: Sequence[str], today: date
) -> Outcome:
    out = Outcome()
    f = doc.fields
    if doc.kind == KIND_UNKNOWN and not doc.looks_like_citi:
        out.problems.append(Finding("not_citi"))
        return out
    if doc.kind not in checks.kind:
        if doc.kind == KIND_CERTIFICATE and KIND_REPORT in checks.kind:
            out.problems.append(Finding("certificate_not_report"))
        else:
            out.problems.append(Finding("wrong_kind"))
        return out

    missing = [k for k in _CORE_FIELDS if not f.get(k)]
    if checks.course_learner_group and not f.get("course_learner_group"):
        missing.append("course_learner_group")
    if checks.min_score is not None and doc.kind != KIND_CERTIFICATE and f.get("reported_score") is None:
        missing.append("reported_score")
    if missing:
        out.problems.append(
            Finding("missing_fields", {"missing": ", ".join(FIELD_LABELS[k] for k in missing)})
        )

    _check_consistency(doc, today, out)
    _check_link(doc, checks, out)

    group = f.get("course_learner_group")
    if checks.course_learner_group and group:
        wanted = {squash(g) for g in checks.course_learner_group}
        if squash(str(group)) not in wanted:
            needed = " / ".join(checks.course_learner_group)
            out.problems.append(Finding("wrong_course", {"found": str(group), "needed": needed}))

    affiliation = str(f.get("institution") or "")
    if (
        checks.institution
        and affiliation
        and not any(squash(i) in squash(affiliation) for i in checks.institution)
    ):
        needed = " / ".join(checks.institution)
        out.flag(
            checks.wrong_institution, Finding("wrong_institution", {"found": affiliation, "needed": needed})
        )

    stage = f.get("stage")
    if stage and "refresher" in str(stage).casefold():
        out.flag(checks.refresher_stage, Finding("refresher_stage", {"stage": str(stage)}))

    _check_expiry(f.get("expiration_date"), checks, today, out)

    score = f.get("reported_score")
    if checks.min_score is not None and isinstance(score, int) and score < checks.min_score:
        out.problems.append(Finding("score_too_low", {"score": str(score), "min": str(checks.min_score)}))

    if checks.modules:
        if doc.kind == KIND_CERTIFICATE and not f.get("modules"):
            out.warnings.append(Finding("manual_check"))  # certificates do not list modules
            out.needs_manual_check = True
        else:
            titles = [str(t) for t in f.get("modules") or []]
            for rule in checks.modules:
                pattern = re.compile(rule.pattern, re.IGNORECASE)
                if not any(pattern.search(t) for t in titles):
                    out.flag(rule.severity, Finding("missing_module", {"module": rule.label}))

    name = f.get("name")
    names = [n for n in applicant_names if n and n.strip()]
    if name and names and not matches_any(str(name), names):
        finding = Finding("name_mismatch", {"found": str(name), "expected": " / ".join(names)})
        out.flag(checks.name_matches_applicant, finding)
    if doc.kind == KIND_LEGACY:
        out.needs_manual_check = True
    return out


def _check_consistency(doc: CitiDocument, today: date, out: Outcome) -> None:
    """Signs of an edited file: the verify link, record ids or dates disagree with each other."""
    f = doc.fields
    reasons = []
    record_id = f.get("record_id")
    letter = _LINK_LETTER.get(doc.kind)
    for link_letter, link_id in doc.links:
        if letter is not None and link_letter != letter:
            reasons.append("link kind")
        if record_id and link_id != record_id:
            reasons.append("link record id")
    if len(doc.record_ids) > 1:
        reasons.append("record ids")
    completed, expires = _iso(f.get("completion_date")), _iso(f.get("expiration_date"))
    if completed and completed > today:
        reasons.append("completion date in the future")
    if completed and expires and expires <= completed:
        reasons.append("expiration before completion")
    if reasons:  # `detail` is for reviewers and logs; the applicant's message does not show it
        out.problems.append(Finding("inconsistent", {"detail": ", ".join(dict.fromkeys(reasons))}))


def _check_link(doc: CitiDocument, checks: DocumentChecks, out: Outcome) -> None:
    if doc.links:
        return
    severity = checks.verification_link
    if doc.kind == KIND_LEGACY and severity == "reject":
        severity = "warn"  # reports from before about 2016 had no verify link
    out.flag(severity, Finding("no_verification_link"))


def _check_expiry(value: object, checks: DocumentChecks, today: date, out: Outcome) -> None:
    expires = _iso(value)
    if expires is None:
        return
    days = (expires - today).days
    iso = expires.isoformat()
    if days < 0:
        out.problems.append(Finding("expired", {"date": iso}))
    elif checks.valid_for_at_least_days and days < checks.valid_for_at_least_days:
        params = {"date": iso, "days": str(days), "min_days": str(checks.valid_for_at_least_days)}
        out.problems.append(Finding("expires_too_soon", params))
    elif checks.expires_soon_warning_days and days < checks.expires_soon_warning_days:
        out.warnings.append(Finding("expires_soon", {"date": iso, "days": str(days)}))


def check_phrases(text: str, checks: DocumentChecks) -> list[Finding]:
    """Generic PDFs: each required phrase must appear (case and spacing ignored)."""
    haystack = squash(text)
    return [Finding("missing_phrase", {"phrase": p}) for p in checks.phrases if squash(p) not in haystack]
