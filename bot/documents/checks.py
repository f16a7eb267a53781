"""The admin's DocumentChecks applied to what the parser found.

Problems reject, warnings inform reviewers. Every check that applies runs on every kind, so an old
report or a certificate is still told it expired or is for another course. A field that could not be
read on a file that is clearly a CITI completion report is not a rejection: it goes to a reviewer
(`unread`), and the checks that need it are skipped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot import safe_regex
from bot.documents.citi import (
    FIELD_LABELS,
    KIND_CERTIFICATE,
    KIND_LEGACY,
    KIND_REPORT,
    KIND_UNKNOWN,
    REPORT_FIELDS,
    CitiDocument,
    fields_read,
)
from bot.documents.findings import Finding
from bot.documents.names import matches_any
from bot.rules import DocumentChecks, ModuleRule, Severity

_LINK_LETTER = {KIND_REPORT: "k", KIND_CERTIFICATE: "w"}
_CORE_FIELDS = ("name", "record_id", "completion_date", "expiration_date")


@dataclass
class Outcome:
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    needs_manual_check: bool = False
    unread: list[str] = field(default_factory=list)

    def flag(self, severity: Severity, finding: Finding) -> None:
        """`reject` -> a problem; `warn` -> a warning that a reviewer must look at; `off` -> nothing."""
        if severity == "reject":
            self.problems.append(finding)
        elif severity == "warn":
            self.warnings.append(finding)
            self.needs_manual_check = True


def squash(text: str) -> str:
    """Case, spacing and Unicode form ignored: "Data or  Specimens only research" matches, and so do a
    ligature "ﬁ" and "fi"."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _iso(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def clearly_a_report(doc: CitiDocument) -> bool:
    """A CITI completion report beyond doubt: its header and a `?k` verify link, or most fields read."""
    if doc.kind != KIND_REPORT:
        return False
    has_k_link = any(letter == "k" for letter, _ in doc.links)
    return (doc.header and has_k_link) or fields_read(doc) * 3 >= len(REPORT_FIELDS) * 2


def check_citi(
    doc: CitiDocument, checks: DocumentChecks, applicant_names: Sequence[str], today: date
) -> Outcome:
    out = Outcome()
    f = doc.fields
    if doc.kind == KIND_UNKNOWN and not doc.looks_like_citi:
        out.problems.append(Finding("not_citi"))
        return out
    kind_ok = doc.kind in checks.kind
    if not kind_ok:
        if doc.kind == KIND_CERTIFICATE and KIND_REPORT in checks.kind:
            out.problems.append(Finding("certificate_not_report"))
        else:
            out.problems.append(Finding("wrong_kind"))
    if doc.kind == KIND_REPORT and doc.parts == [2] and kind_ok:
        out.problems.append(Finding("report_part2_only"))

    if kind_ok:
        _check_missing(doc, checks, out)
        _check_consistency(doc, today, out)
        _check_link(doc, checks, out)

    # The checks below apply to every kind: the applicant hears the real reason beside the kind problem.
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

    _check_expiry(doc, checks, today, out)
    _check_score(doc, checks, out)
    if kind_ok:
        _check_modules(doc, checks, out)

    name = f.get("name")
    names = [n for n in applicant_names if n and n.strip()]
    if name and names and not matches_any(str(name), names):
        finding = Finding("name_mismatch", {"found": str(name), "expected": " / ".join(names)})
        out.flag(checks.name_matches_applicant, finding)
    if doc.kind == KIND_LEGACY:
        out.needs_manual_check = True
    return out


def _check_missing(doc: CitiDocument, checks: DocumentChecks, out: Outcome) -> None:
    f = doc.fields
    missing = [k for k in _CORE_FIELDS if not f.get(k)]
    if checks.course_learner_group and not f.get("course_learner_group"):
        missing.append("course_learner_group")
    wants_score = checks.min_score is not None or f.get("minimum_passing") is not None
    if doc.kind == KIND_REPORT and f.get("reported_score") is None and wants_score:
        missing.append("reported_score")
    clearly = clearly_a_report(doc)
    if clearly and checks.modules and not f.get("modules"):
        missing.append("modules")
    if not missing:
        return
    labels = ", ".join(FIELD_LABELS[k] for k in missing)
    if clearly:
        out.unread.extend(missing)
        out.warnings.append(Finding("unread_fields", {"fields": labels}))
        out.needs_manual_check = True
    else:
        out.problems.append(Finding("missing_fields", {"missing": labels}))


def _links_agree(link_id: str, record_id: str, source: str) -> bool:
    if link_id == record_id:
        return True
    # Printed text only: digits glued on by a footer ("…-12345678" + "1/2") or cut at the page edge.
    return source == "text" and (link_id.startswith(record_id) or record_id.startswith(link_id))


def _check_consistency(doc: CitiDocument, today: date, out: Outcome) -> None:
    """Signs of an edited file: the verify link, record ids or dates disagree with each other."""
    f = doc.fields
    reasons = []
    record_id = f.get("record_id")
    letter = _LINK_LETTER.get(doc.kind)
    sources = doc.link_sources + ["text"] * (len(doc.links) - len(doc.link_sources))
    for (link_letter, link_id), source in zip(doc.links, sources, strict=False):
        if letter is not None and link_letter != letter:
            if doc.with_certificate and link_letter == "w":
                continue  # the certificate merged into the report brings its own `?w` link
            reasons.append("link kind")
            continue
        if record_id and not _links_agree(link_id, str(record_id), source):
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


def _check_expiry(doc: CitiDocument, checks: DocumentChecks, today: date, out: Outcome) -> None:
    expires = _iso(doc.fields.get("expiration_date"))
    if expires is None:
        return
    days = (expires - today).days
    iso = expires.isoformat()
    if days < 0:
        if doc.kind == KIND_LEGACY:  # no refresher for a course this old: the current course it is
            course = " / ".join(checks.course_learner_group) or "Data or Specimens Only Research"
            params = {"date": iso, "year": str(expires.year), "course": course}
            out.problems.append(Finding("expired_old_course", params))
        else:
            out.problems.append(Finding("expired", {"date": iso}))
    elif checks.valid_for_at_least_days and days < checks.valid_for_at_least_days:
        params = {"date": iso, "days": str(days), "min_days": str(checks.valid_for_at_least_days)}
        out.problems.append(Finding("expires_too_soon", params))
    elif checks.expires_soon_warning_days and days < checks.expires_soon_warning_days:
        out.warnings.append(Finding("expires_soon", {"date": iso, "days": str(days)}))


def _check_score(doc: CitiDocument, checks: DocumentChecks, out: Outcome) -> None:
    score = doc.fields.get("reported_score")
    if not isinstance(score, int):
        return
    own = doc.fields.get("minimum_passing")
    floors = [m for m in (checks.min_score, own if isinstance(own, int) else None) if m is not None]
    if floors and score < max(floors):
        out.problems.append(Finding("score_too_low", {"score": str(score), "min": str(max(floors))}))


def module_rule_met(rule: ModuleRule, titles: Sequence[str], stage: str) -> bool:
    """A title matches the rule's pattern, or is one of the titles that count for the report's stage."""
    # Admin-written patterns over document text: checked for backtracking by `rules check`, and
    # bounded in time here all the same (bot/safe_regex.py).
    if rule.pattern and any(safe_regex.search(rule.pattern, t[:300], ignore_case=True) for t in titles):
        return True
    stage_words = squash(stage)
    counted: set[str] = set()
    for key, names in rule.titles.items():
        if key == "any" or not stage_words or squash(key) in stage_words:
            counted.update(squash(n) for n in names)
    return any(squash(t) in counted for t in titles)


def _check_modules(doc: CitiDocument, checks: DocumentChecks, out: Outcome) -> None:
    if not checks.modules:
        return
    f = doc.fields
    titles = [str(t) for t in f.get("modules") or []]
    if doc.kind == KIND_CERTIFICATE and not titles:
        out.warnings.append(Finding("manual_check"))  # certificates do not list modules
        out.needs_manual_check = True
        return
    if not titles:
        return  # unread: already sent to a reviewer, or refused as missing
    for rule in checks.modules:
        if not module_rule_met(rule, titles, str(f.get("stage") or "")):
            out.flag(rule.severity, Finding("missing_module", {"module": rule.label}))


def check_phrases(texts: Sequence[str], checks: DocumentChecks) -> list[Finding]:
    """Generic PDFs: each required phrase must appear in one of the readings (case, spacing and Unicode
    form ignored)."""
    haystacks = [squash(t) for t in texts if t]
    return [
        Finding("missing_phrase", {"phrase": p})
        for p in checks.phrases
        if not any(squash(p) in h for h in haystacks)
    ]
