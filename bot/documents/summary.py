"""What the core asks of a document, through its parser (bot/documents/registry.py): what to tell
the applicant, what reviewers see, the document's own id and its expiry. Field names never leave
bot/documents/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.documents.registry import FIELD_KEY, get_parser, parser_names
from bot.i18n import Bound


def applicant_lines(parser: str, fields: Mapping[str, Any], t: Bound) -> list[str]:
    """What the applicant is told was read from their file."""
    return [f"• {t(key)}: {value}" for key, value in get_parser(parser).applicant_fields(fields)]


def reviewer_text(parser: str, evidence: Mapping[str, object], t: Bound, *, show_email: bool) -> str:
    """A document step's evidence as one line of the review post."""
    raw_fields = evidence.get("fields")
    fields: Mapping[str, Any] = raw_fields if isinstance(raw_fields, Mapping) else {}
    parts = [
        f"{t(key)}: {value}"
        for key, value in get_parser(parser).reviewer_fields(fields, show_email=show_email)
    ]
    kind = str(evidence.get("kind", ""))
    if kind in ("image", "pdf") and not parts:
        parts.append(t("review.f_file_kind", kind=kind))
    unread = evidence.get("unread_fields")
    if isinstance(unread, list) and unread:
        parts.append(f"{t(FIELD_KEY + 'unread')}: " + ", ".join(t(FIELD_KEY + str(n)) for n in unread))
    if evidence.get("needs_manual_check") or evidence.get("outcome") == "needs_review":
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


def identity(parser: str, fields: Mapping[str, Any]) -> str:
    """The document's own id (a CITI record id), unique to one person; empty when it has none."""
    return get_parser(parser).identity_key(fields) or ""


def identity_of(fields: Mapping[str, Any], parsers: Sequence[str] | None = None) -> str:
    """For records kept before the parser was stored with them: the first parser that finds an id."""
    for name in parsers or parser_names():
        found = get_parser(name).identity_key(fields)
        if found:
            return found
    return ""


def expiry(parser: str, fields: Mapping[str, Any]) -> date | None:
    """When the document stops being valid (a CITI report's expiration date), if it says."""
    return get_parser(parser).expiry_date(fields)


def renewable(parser: str) -> bool:
    """Documents that expire and may be sent again after approval (the CITI report)."""
    return get_parser(parser).supports_renewal


Change = tuple[str, dict[str, str]]
"""A locale key and its plain parameters: one thing that differs between two readings of a document."""


def changes(parser: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """What differs between two readings of a document step (a package returned for changes): the
    expiry, the modules added or removed, the name and the record id; the file when nothing read
    differs. `before` / `after` are the steps' evidence."""
    old = before.get("fields") if isinstance(before.get("fields"), Mapping) else {}
    new = after.get("fields") if isinstance(after.get("fields"), Mapping) else {}
    assert isinstance(old, Mapping) and isinstance(new, Mapping)
    found: list[Change] = []
    reader = get_parser(parser)
    was, now = reader.expiry_date(old), reader.expiry_date(new)
    if was != now:
        found.append(("returns.change_expiry", {"before": _day(was), "after": _day(now)}))
    old_modules = [str(m) for m in old.get("modules") or [] if m]
    new_modules = [str(m) for m in new.get("modules") or [] if m]
    added = [m for m in new_modules if m not in old_modules]
    removed = [m for m in old_modules if m not in new_modules]
    if added:
        found.append(("returns.change_modules_added", {"modules": "; ".join(added)}))
    if removed:
        found.append(("returns.change_modules_removed", {"modules": "; ".join(removed)}))
    if str(old.get("name") or "") != str(new.get("name") or ""):
        names = {"before": str(old.get("name") or "-"), "after": str(new.get("name") or "-")}
        found.append(("returns.change_name", names))
    old_id, new_id = reader.identity_key(old) or "", reader.identity_key(new) or ""
    if old_id != new_id:
        found.append(("returns.change_record", {"before": old_id or "-", "after": new_id or "-"}))
    if not found and before.get("sha256") != after.get("sha256"):
        found.append(("returns.change_file", {}))
    return found


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else "-"
