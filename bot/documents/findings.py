"""Finding: one problem or warning, as a stable code plus the values its message needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Every code the documents package can produce (plus the two the caller raises from its store).
CODES: tuple[str, ...] = (
    "too_large",
    "empty_file",
    "not_pdf",
    "wrong_file_type",
    "encrypted",
    "unreadable",
    "too_complex",
    "busy",
    "active_content",
    "bad_image",
    "no_text",
    "not_citi",
    "certificate_not_report",
    "wrong_kind",
    "report_part2_only",
    "missing_fields",
    "unread_fields",
    "inconsistent",
    "no_verification_link",
    "wrong_course",
    "wrong_institution",
    "refresher_stage",
    "expired",
    "expired_old_course",
    "expires_too_soon",
    "expires_soon",
    "score_too_low",
    "missing_module",
    "name_mismatch",
    "missing_phrase",
    "manual_check",
    "record_id_in_use",
    "duplicate_file",
)


@dataclass(frozen=True)
class Finding:
    """A stable problem code (see docs/problem-codes.md) and the placeholders of its message."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)
