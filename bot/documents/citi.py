"""Read CITI Program documents from extracted text: a pure function, so it can be tested on strings.

The text comes from pypdf and varies with the PDF producer (bullets, spacing, line breaks, labels glued
to values by browser re-prints, reordered lines), so every pattern here is tolerant; nothing raises on
odd input: a field that cannot be read is simply absent (the checks then say which fields are missing).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

KIND_REPORT = "report"
KIND_CERTIFICATE = "certificate"
KIND_LEGACY = "legacy_report"
KIND_UNKNOWN = "unknown"
MAX_TEXT_CHARS = 200_000

FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "learner_id": "Learner ID",
    "institution": "Institution Affiliation",
    "email": "Institution Email",
    "curriculum_group": "Curriculum Group",
    "course_learner_group": "Course Learner Group",
    "stage": "Stage",
    "record_id": "Record ID",
    "completion_date": "Completion Date",
    "expiration_date": "Expiration Date",
    "minimum_passing": "Minimum Passing",
    "reported_score": "Reported Score",
    "modules": "Modules",
    "verification_url": "Verification link",
}

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# One regex for every date format seen on CITI documents; named groups tell which one matched.
DATE_RE = (
    rf"(?:(?P<d1>\d{{1,2}})[-\s](?P<m1>{_MONTH_RE})[-\s,]*(?P<y1>\d{{4}})"
    r"|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{1,2})-(?P<d3>\d{1,2})"
    rf"|(?P<m4>{_MONTH_RE})\.?\s*(?P<d4>\d{{1,2}}),?\s*(?P<y4>\d{{4}}))"
)
_DATE = re.compile(DATE_RE, re.IGNORECASE)

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_VERIFY = re.compile(rf"citiprogram\.org/verify/?\?([kw])({_UUID})-(\d+)", re.IGNORECASE)
_VERIFY_LOOSE = re.compile(r"citiprogram\.org/verify/?\?([kw])([0-9a-z-]{4,60}?)-(\d{4,12})", re.IGNORECASE)

_BULLETS = "•·▪●◦‣∙*-–—►■□o"
_BULLET_PREFIX = re.compile(r"^[\s•·▪●◦‣∙*\-–—►■□]+")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# Labels of the current (2016+) report; used to refuse a captured value that is really the next label.
_REPORT_LABELS = (
    "Name",
    "Institution Affiliation",
    "Institution Email",
    "Institution Unit",
    "Phone",
    "Curriculum Group",
    "Course Learner Group",
    "Stage",
    "Description",
    "Record ID",
    "Completion Date",
    "Expiration Date",
    "Minimum Passing",
    "Reported Score",
)


@dataclass
class CitiDocument:
    """What the parser found; `fields` is JSON-safe (see FIELD_LABELS); `links` are (letter, record id)."""

    kind: str
    fields: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    looks_like_citi: bool = False


def normalize_text(text: str) -> str:
    """NFKC (non-breaking and odd spaces become spaces, ligatures split), no zero-width characters,
    tidy spaces, bullets removed at line starts: patterns then need to handle only one spelling."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        line = re.sub(r"[ \t\f\v]+", " ", raw).strip()
        line = _BULLET_PREFIX.sub("", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def parse_date(value: str) -> date | None:
    """The first date in `value`, or None (including impossible dates such as 31-Feb)."""
    match = _DATE.search(value)
    return _to_date(match) if match else None


def _to_date(match: re.Match[str]) -> date | None:
    g = match.groupdict()
    try:
        if g["y1"]:
            return date(int(g["y1"]), _MONTHS[g["m1"].casefold()], int(g["d1"]))
        if g["y2"]:
            return date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
        if g["y3"]:
            return date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
        if g["y4"]:
            return date(int(g["y4"]), _MONTHS[g["m4"].casefold()], int(g["d4"]))
    except (ValueError, KeyError):
        return None
    return None


def _label(words: str) -> str:
    """A label regex that survives missing or doubled spaces ("Completion Date", "CompletionDate")."""
    return r"\s*".join(re.escape(w) for w in words.split())


@functools.lru_cache(maxsize=256)
def _compact_label(label: str) -> str:
    return _compact(label)


def _is_label(value: str, labels: Iterable[str]) -> bool:
    """True when `value` is really the next label ("Stage: ..."), not a value ("Stage 1 - Basic Course")."""
    squashed = _compact(value).rstrip("*")
    for label in labels:
        lab = _compact_label(label)
        if squashed == lab or squashed.startswith(lab + ":"):
            return True
    return False


def _find_value(text: str, label: str, labels: Sequence[str] = _REPORT_LABELS) -> str | None:
    """The text after `label` up to the end of its line; on the next line when the label stands alone."""
    pattern = re.compile(rf"(?im)^{_label(label)}\s*\**\s*:?[ \t]*(?:\n)?([^\n]*)")
    for match in pattern.finditer(text):
        value = match.group(1).strip(" :*")
        if value and not _is_label(value, labels):
            return value
    return None


def _find_date(text: str, label: str) -> str | None:
    pattern = re.compile(rf"(?i){_label(label)}\s*\**\s*:?\s*(?:{DATE_RE})")
    for match in pattern.finditer(text):
        found = _to_date(match)
        if found:
            return found.isoformat()
    return None


def _find_int(text: str, label: str) -> int | None:
    match = re.search(rf"(?i){_label(label)}\s*\**\s*:?\s*(\d{{1,3}})(?!\d)", text)
    return int(match.group(1)) if match else None


def _links(text: str, uris: Sequence[str]) -> list[tuple[str, str, str]]:
    """(letter, uuid, record id) of every verify link, from the text (also with line breaks inside
    the address) and from link annotations; a browser re-print keeps it only as an annotation."""
    found: list[tuple[str, str, str]] = []
    sources = [text, _compact(text), *(u.strip() for u in uris[:100])]
    for source in sources:
        hits = list(_VERIFY.finditer(source)) or list(_VERIFY_LOOSE.finditer(source))
        for match in hits:
            item = (match.group(1).lower(), match.group(2).lower(), match.group(3))
            if item not in found:
                found.append(item)
    return found


def detect_kind(text: str, links: Sequence[tuple[str, str, str]]) -> str:
    squashed = _compact(text)
    if "thisistocertifythat" in squashed or "(courselearnergroup)" in squashed:
        return KIND_CERTIFICATE
    if re.search(r"completionreport-?part\d", squashed) or "courseworkrequirements" in squashed:
        return KIND_REPORT
    if "courseworktranscript" in squashed or "courselearnergroup" in squashed:
        return KIND_REPORT
    if "curriculumcompletionreport" in squashed or re.search(r"referenceid|ref#", squashed):
        return KIND_LEGACY
    if links:
        return KIND_CERTIFICATE if links[0][0] == "w" else KIND_REPORT
    return KIND_UNKNOWN


def looks_like_citi(text: str, links: Sequence[tuple[str, str, str]]) -> bool:
    """Any sign of CITI at all ("citizen" is not one)."""
    squashed = _compact(text)
    if links or "citiprogram" in squashed or "collaborativeinstitutionaltraining" in squashed:
        return True
    return re.search(r"(?<![a-z])citi(?![a-z])", text, re.IGNORECASE) is not None


def _name_and_id(value: str) -> tuple[str | None, str | None]:
    match = re.match(r"(.*?)\s*\(\s*(?:ID|username)\s*:?\s*([^)]*)\)", value, re.IGNORECASE)
    if match:
        name = match.group(1).strip(" :,") or None
        learner = match.group(2).strip() or None
        return name, learner
    return value.strip(" :,") or None, None


def _strip_paren_id(value: str | None) -> str | None:
    if value is None:
        return None
    return re.sub(r"\s*\(\s*ID\s*:?\s*\d*\s*\)\s*$", "", value, flags=re.IGNORECASE).strip() or None


def _report_modules(lines: Sequence[str]) -> list[str]:
    """Module titles: table rows carry `(ID: n)`; a title wrapped over two lines is joined back.

    The name and institution lines also carry `(ID: n)`, glued to their label or below it."""
    modules: list[str] = []
    seen: set[str] = set()
    person = ("Name", "Institution Affiliation", "LEARNER")
    for i, line in enumerate(lines):
        match = re.match(r"(.*?)\s*\(\s*ID\s*:?\s*\d+\s*\)", line, re.IGNORECASE)
        if not match:
            continue
        prev = lines[i - 1] if i > 0 else ""
        squashed = _compact(line)
        if any(squashed.startswith(_compact_label(p)) for p in person) or _is_label(
            prev.rstrip(":"), _REPORT_LABELS
        ):
            continue
        title = match.group(1).strip()
        dangling = (
            "(ID" not in prev.upper()
            and ":" not in prev
            and "." not in prev
            and not re.search(r"\d", prev)
            and not prev.isupper()
            and 0 < len(prev) < 80
        )
        if dangling and (not title or title[0].islower()):
            title = f"{prev} {title}".strip()
        if title and title not in seen:
            seen.add(title)
            modules.append(title)
    return modules


def _parse_report(text: str, fields: dict[str, Any]) -> None:
    name_value = _find_value(text, "Name")
    if name_value:
        fields["name"], fields["learner_id"] = _name_and_id(name_value)
    fields["institution"] = _strip_paren_id(_find_value(text, "Institution Affiliation"))
    fields["email"] = _find_value(text, "Institution Email")
    fields["curriculum_group"] = _find_value(text, "Curriculum Group")
    fields["course_learner_group"] = _find_value(text, "Course Learner Group")
    fields["stage"] = _find_value(text, "Stage")
    fields["completion_date"] = _find_date(text, "Completion Date")
    fields["expiration_date"] = _find_date(text, "Expiration Date")
    fields["minimum_passing"] = _find_int(text, "Minimum Passing")
    fields["reported_score"] = _find_int(text, "Reported Score")
    fields["modules"] = _report_modules(text.split("\n"))


def _before_marker(text: str, marker: str) -> str | None:
    match = re.search(rf"(?im)^(.*?)\s*\(\s*{_label(marker)}\s*\)", text)
    if not match:
        return None
    value = match.group(1).strip()
    if not value:  # the value sits on the line above the marker
        before = text[: match.start()].rstrip().rsplit("\n", 1)
        value = before[-1].strip() if before else ""
    return value or None


def _parse_certificate(text: str, fields: dict[str, Any]) -> None:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        squashed = _compact(line)
        if squashed.startswith("thisistocertifythat"):
            rest = re.sub(r"(?i)^this\s*is\s*to\s*certify\s*that\s*:?\s*", "", line).strip()
            candidate = rest or (lines[i + 1] if i + 1 < len(lines) else "")
            if candidate and not _compact(candidate).startswith("hascompleted"):
                fields["name"], fields["learner_id"] = _name_and_id(candidate)
            break
    fields["curriculum_group"] = _before_marker(text, "Curriculum Group")
    fields["course_learner_group"] = _before_marker(text, "Course Learner Group")
    fields["stage"] = _before_marker(text, "Stage")
    match = re.search(r"(?is)under\s*requirements\s*set\s*by\s*:?\s*\n?([^\n]+)", text)
    if match:
        fields["institution"] = match.group(1).strip() or None
    fields["completion_date"] = _find_date(text, "Completion Date")
    fields["expiration_date"] = _find_date(text, "Expiration Date")


_LEGACY_LABELS = (
    "LEARNER",
    "DEPARTMENT",
    "PHONE",
    "EMAIL",
    "INSTITUTION",
    "EXPIRATION DATE",
    "COURSE/STAGE",
    "PASSED ON",
    "REFERENCE ID",
    "Printed on",
    "Contact Information",
)


def _parse_legacy(text: str, fields: dict[str, Any]) -> None:
    learner = _find_value(text, "LEARNER", _LEGACY_LABELS)
    if learner:
        fields["name"], fields["learner_id"] = _name_and_id(learner)
    fields["email"] = _find_value(text, "EMAIL", _LEGACY_LABELS)
    fields["institution"] = _find_value(text, "INSTITUTION", _LEGACY_LABELS)
    fields["expiration_date"] = _find_date(text, "EXPIRATION DATE")
    fields["completion_date"] = _find_date(text, "PASSED ON")
    lines = text.split("\n")
    stage = _find_value(text, "COURSE/STAGE", _LEGACY_LABELS)
    group: str | None = None
    for i, line in enumerate(lines):
        if _compact(line).startswith("course/stage"):
            for prev in reversed(lines[max(0, i - 3) : i]):
                if not _is_label(prev, _LEGACY_LABELS) and not _DATE.search(prev):
                    group = prev.strip(" :")
                    break
            break
    # The oldest layout: "Group 2.Data or Specimens Only Research:" / "Stage 1. Basic Course Passed on ..."
    old_group = re.search(r"(?im)^(?:group\s*\d+\s*\.\s*)?([^\n:]*?research[^\n:]*?)\s*:\s*$", text)
    if group is None and old_group:
        group = old_group.group(1).strip()
    old_stage = re.search(r"(?im)^(stage\s*\d+\s*\.?\s*[a-z ]*?course)", text)
    if stage is None and old_stage:
        stage = old_stage.group(1).strip()
    fields["course_learner_group"] = group
    fields["stage"] = stage
    match = re.search(r"(?i)(?:reference\s*id|ref\s*#)\s*:?\s*(\d+)", text)
    fields["record_id"] = match.group(1) if match else None
    modules: list[str] = []
    seen: set[str] = set()
    in_table = False
    for line in lines:
        squashed = _compact(line)
        if squashed.startswith(("requiredmodules", "electivemodules")):
            in_table = True
            continue
        if in_table and squashed.startswith("forthis"):
            break
        if in_table:
            row = re.match(r"(.*?)\s*\d{1,2}/\d{1,2}/\d{4}", line)
            title = row.group(1).strip() if row else ""
            if title and title not in seen:
                seen.add(title)
                modules.append(title)
    fields["modules"] = modules


def parse(text: str, uris: Sequence[str] = ()) -> CitiDocument:
    """Text (+ link annotation URIs) -> the kind and fields of a CITI document. Never raises.

    Input beyond MAX_TEXT_CHARS is ignored: a real report's first pages hold some 20,000 characters,
    and this runs in the bot process on text from an untrusted file."""
    text = normalize_text(text[:MAX_TEXT_CHARS])
    uris = [u[:500] for u in uris[:100]]
    links = _links(text, uris)
    kind = detect_kind(text, links)
    fields: dict[str, Any] = dict.fromkeys(FIELD_LABELS)
    fields["modules"] = []
    if kind == KIND_CERTIFICATE:
        _parse_certificate(text, fields)
    elif kind == KIND_LEGACY:
        _parse_legacy(text, fields)
    else:
        _parse_report(text, fields)
    learner_group = fields.get("course_learner_group")
    if isinstance(learner_group, str) and re.fullmatch(
        r"(?i)same\s*as\s*curriculum\s*group\.?", learner_group.strip()
    ):
        # Real reports print this placeholder when the learner group is the curriculum group itself.
        fields["course_learner_group"] = fields.get("curriculum_group")
    record_ids: list[str] = []
    if kind != KIND_LEGACY:
        for match in re.finditer(r"(?i)record\s*id\s*:?\s*(\d+)", text):
            if match.group(1) not in record_ids:
                record_ids.append(match.group(1))
        fields["record_id"] = record_ids[0] if record_ids else None
    elif fields["record_id"]:
        record_ids.append(fields["record_id"])
    if links:
        letter, uuid, rid = links[0]
        fields["verification_url"] = f"https://www.citiprogram.org/verify/?{letter}{uuid}-{rid}"
        if fields["record_id"] is None and kind == KIND_CERTIFICATE:
            fields["record_id"] = rid
    return CitiDocument(
        kind=kind,
        fields=fields,
        links=[(letter, rid) for letter, _, rid in links],
        record_ids=record_ids,
        looks_like_citi=looks_like_citi(text, links),
    )
