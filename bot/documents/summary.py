"""What reviewers are shown of a document step's evidence: the fields read, warnings in words.

Kept beside the parsers so field names never leave bot/documents/.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.i18n import Bound

_REVIEWER_FIELDS = (
    ("course_learner_group", "review.f_course"),
    ("completion_date", "review.f_completed"),
    ("expiration_date", "review.f_expires"),
    ("record_id", "review.f_record"),
    ("verification_url", "review.f_verify"),
)


def reviewer_text(evidence: Mapping[str, object], t: Bound, *, show_email: bool) -> str:
    raw_fields = evidence.get("fields")
    fields: Mapping[str, object] = raw_fields if isinstance(raw_fields, Mapping) else {}
    parts = [f"{t(key)}: {fields[name]}" for name, key in _REVIEWER_FIELDS if fields.get(name)]
    if show_email and fields.get("email"):
        parts.append(f"{t('review.f_email')}: {fields['email']}")
    kind = str(evidence.get("kind", ""))
    if kind in ("image", "pdf") and not parts:
        parts.append(t("review.f_file_kind", kind=kind))
    if evidence.get("needs_manual_check"):
        parts.append(t("review.f_manual"))
    raw_warnings = evidence.get("warnings")
    warnings = [str(w) for w in raw_warnings] if isinstance(raw_warnings, list) else []
    if warnings:
        parts.append(t("review.f_warnings", warnings=", ".join(_warning_label(w, t) for w in warnings)))
    return "; ".join(parts) if parts else t("review.evidence_confirmed", date="")


def _warning_label(code: str, t: Bound) -> str:
    """A short reviewer-facing label for a warning code (the code itself when none is written)."""
    key = f"review.warn_{code}"
    return t(key) if t.has(key) else code


_APPLICANT_FIELDS = (
    "name",
    "course_learner_group",
    "stage",
    "completion_date",
    "expiration_date",
    "record_id",
)


def applicant_lines(fields: Mapping[str, object], t: Bound) -> list[str]:
    """What the applicant is told was read from their file."""
    return [f"• {t('fields.' + name)}: {fields[name]}" for name in _APPLICANT_FIELDS if fields.get(name)]


def identity(fields: Mapping[str, object]) -> str:
    """The document's own id (a CITI record id), unique to one person; empty when it has none."""
    return str(fields.get("record_id") or "")


def expiry(fields: Mapping[str, object]) -> date | None:
    """When the document stops being valid (a CITI report's expiration date), if it says."""
    value = fields.get("expiration_date")
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def renewable(parser: str) -> bool:
    """Documents that expire and may be sent again after approval (the CITI report)."""
    return parser == "citi"
