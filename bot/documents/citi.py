"""Read CITI Program documents from extracted text: pure functions, testable on strings.

This module runs inside the sandboxed PDF worker (see pdf_worker.py), which loads it by file path, so
it imports nothing but the standard library. Nothing here raises on odd input: a field that cannot be
read is simply absent, and the checks decide whether that is a rejection or a reviewer's look.

Text varies with the producer (browser prints, office exports, PDF libraries): bullets and stray glyphs
before labels, labels and values in separate cells or drawn in separate runs, values on the next line,
labels glued to values, titles wrapped over lines, page headers and footers. The parser therefore works
line by line on normalised, length-capped lines, with plain string operations and a few regular
expressions that have no nested or adjacent overlapping quantifiers: its time is linear in the text.
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
MAX_LINE_CHARS = 600
MAX_LINES = 3_000
MAX_VALUE_CHARS = 200
MAX_TITLE_CHARS = 300
MAX_MODULES = 200
MAX_URIS = 100

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
# The fields a completion report must show; "most of them read" makes a file clearly a report.
REPORT_FIELDS = (
    "name",
    "institution",
    "course_learner_group",
    "stage",
    "record_id",
    "completion_date",
    "expiration_date",
    "minimum_passing",
    "reported_score",
)

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
# Linear: each quantifier is bounded or followed by a disjoint character class.
DATE_RE = (
    r"(?=[0-9JFMASONDjfmasond])"  # a cheap first test at each position: a digit or a month's initial
    rf"(?:(?<!\d)(?P<d1>\d{{1,2}})[- ](?P<m1>{_MONTH_RE})[-, ]{{0,3}}(?P<y1>\d{{4}})"
    r"|(?<!\d)(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4})"
    r"|(?<!\d)(?P<y3>\d{4})-(?P<m3>\d{1,2})-(?P<d3>\d{1,2})"
    rf"|(?<![a-z])(?P<m4>{_MONTH_RE})\.?[ ]?(?P<d4>\d{{1,2}}),?[ ]?(?P<y4>\d{{4}}))"
)
_DATE = re.compile(DATE_RE, re.IGNORECASE)

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_VERIFY = re.compile(rf"citiprogram\.org/verify/?\?([kw])({_UUID})-(\d{{1,12}})(?!\d)", re.IGNORECASE)
_VERIFY_START = "citiprogram.org/verify"
_MODULE_ID = re.compile(r"\( ?(?:ID|Id|id) ?:? ?(\d{1,7}) ?\)")
_SCORE = re.compile(r"\d{1,3} ?/ ?\d{1,3}(?: ?\(\d{1,3} ?%\))?|\(\d{1,3} ?%\)|\b\d{1,3} ?%|No Quiz|N/A")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?(?!\d)")
_PAGE_NUMBER = re.compile(r"(?:page )?\d{1,3} ?(?:/|of) ?\d{1,3}", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s@:;,<>()]{1,64}@[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,24}")
_DIGITS = re.compile(r"\d{1,12}")
_NAME_ID = re.compile(r"\( ?(?:ID|username) ?:? ?([^)]{0,40})\)", re.IGNORECASE)
_CITI_WORD = re.compile(r"(?<![a-z])citi(?![a-z])", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")

# Characters removed (format: zero-width, soft hyphen, BOM) or replaced by a space (control, private
# use, unassigned, surrogates) before anything is read: a stray glyph never hides a label.
_REMOVED_CATEGORIES = {"Cf"}
_SPACED_CATEGORIES = {"Cc", "Co", "Cn", "Cs", "Zl", "Zp"}


@dataclass(frozen=True)
class _Label:
    field: str
    words: str
    compact: str


def _labels(pairs: Iterable[tuple[str, str]]) -> tuple[_Label, ...]:
    items = [_Label(f, w, _compact(w)) for f, w in pairs]
    return tuple(sorted(items, key=lambda lab: len(lab.compact), reverse=True))


@functools.lru_cache(maxsize=8192)
def _compact(text: str) -> str:
    """Letters and digits only, case-folded. Cached: the two readings and the two parts of a report
    share most lines."""
    return _NOT_WORD.sub("", text).casefold()


# Labels of the current (2016+) report. Fields marked "-" are read only to stop a value swallowing them.
REPORT_LABELS = _labels(
    (
        ("name", "Name"),
        ("institution", "Institution Affiliation"),
        ("email", "Institution Email"),
        ("-", "Institution Unit"),
        ("-", "Phone"),
        ("curriculum_group", "Curriculum Group"),
        ("course_learner_group", "Course Learner Group"),
        ("stage", "Stage"),
        ("-", "Description"),
        ("record_id", "Record ID"),
        ("completion_date", "Completion Date"),
        ("expiration_date", "Expiration Date"),
        ("minimum_passing", "Minimum Passing"),
        ("reported_score", "Reported Score"),
    )
)
LEGACY_LABELS = _labels(
    (
        ("name", "LEARNER"),
        ("-", "DEPARTMENT"),
        ("-", "PHONE"),
        ("email", "EMAIL"),
        ("institution", "INSTITUTION"),
        ("expiration_date", "EXPIRATION DATE"),
        ("stage", "COURSE/STAGE"),
        ("completion_date", "PASSED ON"),
        ("record_id", "REFERENCE ID"),
        ("-", "Printed on"),
        ("-", "Contact Information"),
    )
)


@dataclass
class CitiDocument:
    """What the parser found; `fields` is JSON-safe (see FIELD_LABELS); `links` are (letter, record id).

    `reading` names the text reading the fields came from ("layout" or "plain"), `parts` the report
    parts seen (1 requirements, 2 transcript), `with_certificate` a certificate merged into a report,
    `header` the CITI completion-report header, `link_sources` where each link was read ("annotation"
    or "text")."""

    kind: str
    fields: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    looks_like_citi: bool = False
    parts: list[int] = field(default_factory=list)
    with_certificate: bool = False
    header: bool = False
    link_sources: list[str] = field(default_factory=list)
    reading: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "fields": dict(self.fields),
            "links": [list(x) for x in self.links],
            "record_ids": list(self.record_ids),
            "looks_like_citi": self.looks_like_citi,
            "parts": list(self.parts),
            "with_certificate": self.with_certificate,
            "header": self.header,
            "link_sources": list(self.link_sources),
            "reading": self.reading,
        }

    @classmethod
    def from_json(cls, data: Any) -> CitiDocument:
        """Rebuild from a worker's answer, trusting nothing: wrong types become empty values."""
        if not isinstance(data, dict):
            return cls(KIND_UNKNOWN, _empty_fields())
        fields = _empty_fields()
        raw = data.get("fields")
        if isinstance(raw, dict):
            for key in FIELD_LABELS:
                value = raw.get(key)
                if key == "modules":
                    if isinstance(value, list):
                        fields[key] = [str(t)[:MAX_TITLE_CHARS] for t in value[:MAX_MODULES]]
                elif key in ("minimum_passing", "reported_score"):
                    fields[key] = value if isinstance(value, int) and not isinstance(value, bool) else None
                elif isinstance(value, str):
                    fields[key] = value[:500]
        kind = data.get("kind")
        links = [
            (str(x[0])[:1], str(x[1])[:12])
            for x in data.get("links") or []
            if isinstance(x, list) and len(x) == 2
        ][:20]
        return cls(
            kind=kind if kind in (KIND_REPORT, KIND_CERTIFICATE, KIND_LEGACY, KIND_UNKNOWN) else KIND_UNKNOWN,
            fields=fields,
            links=links,
            record_ids=[str(x)[:12] for x in data.get("record_ids") or []][:20],
            looks_like_citi=bool(data.get("looks_like_citi")),
            parts=[int(x) for x in data.get("parts") or [] if x in (1, 2)],
            with_certificate=bool(data.get("with_certificate")),
            header=bool(data.get("header")),
            link_sources=[str(x)[:12] for x in data.get("link_sources") or []][:20],
            reading=str(data.get("reading") or "")[:20],
        )


def _empty_fields() -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(FIELD_LABELS)
    fields["modules"] = []
    return fields


# -- text normalisation ------------------------------------------------------------------------------


def _clean_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0xE000, 0xF900), 0x2028, 0x2029]:
        table[cp] = " "
    for cp in [0xAD, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]:
        table[cp] = None
    table[0xFEFF] = None
    return table


_CLEAN = _clean_table()


def _clean_chars(line: str) -> str:
    if line.isprintable():
        return line
    line = line.translate(_CLEAN)  # the usual suspects at C speed; the rest one by one below
    if line.isprintable():
        return line
    out = []
    for ch in line:
        if ch.isprintable() or ch == " ":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in _REMOVED_CATEGORIES:
            continue
        out.append(" ")  # control, private use, unassigned, odd spaces: a separator
    return "".join(out)


def _strip_bullet(line: str) -> str:
    """Drop whatever precedes the first letter or digit (bullets, symbols, dashes), keeping "(" and "*"
    notes' text: "•  Name:", "\uf0b7 Name:", "- Name:", "► Name:" all become "Name:"."""
    i = 0
    n = len(line)
    while i < n and not line[i].isalnum() and line[i] != "(":
        i += 1
    return line[i:]


def _split_long(line: str) -> list[str]:
    if len(line) <= MAX_LINE_CHARS:
        return [line]
    pieces: list[str] = []
    while line and len(pieces) < 4:
        if len(line) <= MAX_LINE_CHARS:
            pieces.append(line)
            break
        cut = line.rfind(" ", MAX_LINE_CHARS // 2, MAX_LINE_CHARS)
        cut = cut if cut > 0 else MAX_LINE_CHARS
        pieces.append(line[:cut])
        line = line[cut:].lstrip()
    return pieces


def normalize_lines(text: str) -> list[str]:
    """NFKC (ligatures split, full-width digits and odd spaces made plain, accents composed), stray
    glyphs removed, spaces collapsed, bullets dropped, over-long lines split; empty lines dropped."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines: list[str] = []
    for raw in text.split("\n"):
        line = _strip_bullet(" ".join(_clean_chars(raw).split()))
        if not line:
            continue
        lines.extend(_split_long(line))
        if len(lines) >= MAX_LINES:
            break
    return lines[:MAX_LINES]


def normalize_text(text: str) -> str:
    return "\n".join(normalize_lines(text))


# -- dates -------------------------------------------------------------------------------------------


def parse_date(value: str) -> date | None:
    """The first real date in `value`, or None (impossible dates such as 31-Feb are skipped)."""
    for match in _DATE.finditer(value[:MAX_LINE_CHARS]):
        found = _to_date(match)
        if found is not None:
            return found
    return None


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


# -- labels ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    label: _Label
    rest: str  # what follows the label on the line, without the colon
    colon: bool  # "Label:" (strong) rather than "Label value" (weak, e.g. browser-glued)


def _end_of(line: str, start: int, count: int) -> int:
    """The index just after the `count`-th letter or digit of `line` from `start`."""
    i = start
    while i < len(line):
        if line[i].isalnum() and line[i] != "_":
            count -= 1
            if count == 0:
                return i + 1
        i += 1
    return i


def _label_hit(line: str, labels: Sequence[_Label]) -> _Hit | None:
    """The label at the start of `line` (after at most one stray character, e.g. a symbol-font bullet
    read as "l" or "n"), or None. Spaces and punctuation inside the label are tolerated ("Record ID",
    "RecordID", "COURSE/STAGE")."""
    starts = [0]
    n = len(line)
    if n > 2 and line[0].isalnum():
        starts += [2] if line[1] == " " else [1]
    firsts = _FIRST_CHARS.get(id(labels)) or _first_chars(labels)
    for start in starts:
        if start >= n or line[start].casefold() not in firsts:
            continue
        prefix = _NOT_WORD.sub("", line[start : start + 160]).casefold()
        for label in labels:
            if not prefix.startswith(label.compact):
                continue
            end = _end_of(line, start, len(label.compact))
            if start > 0 and end < n and line[end] not in ": *" and not line[end].isupper():
                continue
            rest = line[end:]
            stripped = rest.lstrip(" *")
            if stripped.startswith(":"):
                return _Hit(label, stripped[1:].strip(" *:"), True)
            if rest and rest[0].isalpha() and rest[0].islower():
                continue  # "Names of ...", "Stages": another word
            if label.words.isupper() and rest[:1].isalpha() and start == 0:
                continue
            return _Hit(label, rest.strip(" *"), False)
    return None


_FIRST_CHARS: dict[int, frozenset[str]] = {}


def _first_chars(labels: Sequence[_Label]) -> frozenset[str]:
    chars = frozenset(lab.compact[:1] for lab in labels)
    _FIRST_CHARS[id(labels)] = chars
    return chars


@functools.lru_cache(maxsize=8192)
def _report_hit(line: str) -> _Hit | None:
    return _label_hit(line, REPORT_LABELS)


def _hits(lines: Sequence[str], labels: Sequence[_Label]) -> list[_Hit | None]:
    if labels is REPORT_LABELS:
        return [_report_hit(line) for line in lines]
    return [_label_hit(line, labels) for line in lines]


def join_wrapped_labels(lines: Sequence[str], labels: Sequence[_Label] = REPORT_LABELS) -> list[str]:
    """A label wrapped in its table cell ("Course Learner" / "Group: value") is put back on one line;
    so is one whose value was placed between its two halves (a vertically centred value cell:
    "Course Learner" / "value" / "Group:")."""
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        squashed = _compact(line)
        label = None
        if 4 <= len(squashed) < 30:
            label = next(
                (lab for lab in labels if lab.compact.startswith(squashed) and lab.compact != squashed), None
            )
            hit = _report_hit(line) if labels is REPORT_LABELS else _label_hit(line, labels)
            if label is not None and hit is not None:
                label = None
        if label is not None:
            rest = label.compact[len(squashed) :]
            if i + 1 < n and _compact(lines[i + 1]).startswith(rest):
                out.append(f"{line} {lines[i + 1]}")
                i += 2
                continue
            if i + 2 < n and _compact(lines[i + 2]) == rest:
                out.append(f"{line} {lines[i + 2]} {lines[i + 1]}")
                i += 3
                continue
        out.append(line)
        i += 1
    return out


def _value_ok(field_name: str, value: str) -> Any:
    """The typed value of `field_name` read from `value`, or None when it cannot be that field."""
    value = value[:MAX_VALUE_CHARS].strip(" :*")
    if not value:
        return None
    if field_name in ("completion_date", "expiration_date"):
        found = parse_date(value)
        return found.isoformat() if found else None
    if field_name in ("minimum_passing", "reported_score"):
        match = _DIGITS.match(value)
        return int(match.group()) if match and len(match.group()) <= 3 else None
    if field_name == "record_id":
        match = _DIGITS.match(value)
        return match.group() if match and len(match.group()) >= 3 else None
    if field_name == "email":
        match = _EMAIL.search(value)
        return match.group() if match else None
    if not any(ch.isalpha() for ch in value):
        return None
    return value


def _read_fields(
    lines: Sequence[str], labels: Sequence[_Label], hits: Sequence[_Hit | None] | None = None
) -> tuple[dict[str, Any], list[str], set[int]]:
    """Field values by label: `Label: value`, `Label value`, `Label:` then the value on the next line,
    and a run of labels followed by the same number of values (a form with labels drawn first)."""
    hits = hits if hits is not None else _hits(lines, labels)
    strong: dict[str, Any] = {}
    weak: dict[str, Any] = {}
    record_ids: list[str] = []
    consumed: set[int] = set()  # lines that are a label or its value (never a module title)

    def put(hit: _Hit, raw: str) -> None:
        name = hit.label.field
        if name == "-":
            return
        value = _value_ok(name, raw)
        if value is None:
            return
        if name == "record_id" and value not in record_ids:
            record_ids.append(value)
        (strong if hit.colon else weak).setdefault(name, value)

    i = 0
    n = len(lines)
    while i < n:
        hit = hits[i]
        if hit is None:
            i += 1
            continue
        consumed.add(i)
        if hit.rest:
            put(hit, hit.rest)
            i += 1
            continue
        # A run of bare labels: their values follow, in the same order.
        run = [hit]
        j = i + 1
        while j < n and (h := hits[j]) is not None and not h.rest and len(run) < 20:
            run.append(h)
            j += 1
        values: list[str] = []
        k = j
        while k < n and len(values) < len(run):
            h = hits[k]
            if h is not None and (h.colon or not h.rest):
                break
            values.append(lines[k])
            k += 1
        for offset, (label_hit, value) in enumerate(zip(run, values, strict=False)):
            put(label_hit, value)
            consumed.add(j + offset)
        consumed.update(range(i, j))
        i = k if values else j
    merged = {**weak, **strong}
    return merged, record_ids, consumed


# -- links -------------------------------------------------------------------------------------------


def _url_tokens(lines: Sequence[str]) -> list[str]:
    """Verify-link candidates in the text: from "citiprogram.org/verify" to the next space; a link cut
    by a line break is joined with the start of the next line(s), never across a space in one line (so a
    browser footer's "… 1/2" is never glued onto the record id)."""
    tokens: list[str] = []
    for i, line in enumerate(lines):
        low = line.casefold()
        at = low.find(_VERIFY_START)
        while at >= 0 and len(tokens) < 20:
            end = line.find(" ", at)
            token = line[at : end if end >= 0 else len(line)]
            if end < 0 and not _VERIFY.search(token):
                for nxt in lines[i + 1 : i + 3]:
                    token += nxt.split(" ", 1)[0]
                    if _VERIFY.search(token) or " " in nxt:
                        break
            tokens.append(token[:200])
            at = low.find(_VERIFY_START, at + 1)
    return tokens


def _links(lines: Sequence[str], uris: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(letter, uuid, record id, source) of each distinct verify link, link annotations first: a
    browser print may clip the printed link, the annotation keeps it whole."""
    found: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    sources = [(u.strip()[:500], "annotation") for u in uris[:MAX_URIS]]
    sources += [(t, "text") for t in _url_tokens(lines)]
    for source, origin in sources:
        for match in _VERIFY.finditer(source):
            item = (match.group(1).lower(), match.group(2).lower(), match.group(3))
            if item not in seen:
                seen.add(item)
                found.append((*item, origin))
    return found


# -- kinds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signs:
    report: bool
    certificate: bool
    legacy: bool
    parts: tuple[int, ...]
    citi: bool


def _signs(lines: Sequence[str], squashed: str, hits: Sequence[_Hit | None]) -> _Signs:
    parts = []
    if "part1of2" in squashed or "courseworkrequirements" in squashed:
        parts.append(1)
    if "part2of2" in squashed or "courseworktranscript" in squashed:
        parts.append(2)
    report = bool(parts) or any(
        h is not None and h.colon and h.label.field == "course_learner_group" for h in hits[:400]
    )
    certificate = "thisistocertifythat" in squashed or any(
        line.endswith(("(Curriculum Group)", "(Course Learner Group)")) for line in lines
    )
    legacy = "curriculumcompletionreport" in squashed or "referenceid" in squashed
    legacy = legacy or re.search(r"\(ref ?# ?\d", " ".join(lines[:200]), re.IGNORECASE) is not None
    citi = (
        "citiprogram" in squashed
        or "collaborativeinstitutionaltraining" in squashed
        or any(_CITI_WORD.search(line) for line in lines[:2000])
    )
    return _Signs(report, certificate, legacy, tuple(parts), citi)


def _kind(signs: _Signs, links: Sequence[tuple[str, str, str, str]]) -> str:
    if signs.report:
        return KIND_REPORT  # a report merged with its certificate is a report
    if signs.legacy:
        return KIND_LEGACY
    if signs.certificate:
        return KIND_CERTIFICATE
    if links:
        return KIND_CERTIFICATE if links[0][0] == "w" else KIND_REPORT
    return KIND_UNKNOWN


# -- modules -----------------------------------------------------------------------------------------

# Words of a module table's header row, which may wrap cell by cell ("REQUIRED AND ELECTIVE" /
# "MODULES ONLY" / "DATE" / "COMPLETED" / "SCORE"); the first three start a table.
_HEADER_STARTS = ("requiredandelective", "mostrecent", "datecompleted")
_HEADER_WORDS = (
    "requiredandelective",
    "modulesonly",
    "mostrecent",
    "datecompleted",
    "date",
    "completed",
    "score",
)


def _header_row(squashed: str) -> tuple[bool, bool]:
    """(the line is only header words, it holds a word that starts a table)."""
    rest = squashed
    starts = False
    progress = True
    while rest and progress:
        progress = False
        for word in _HEADER_WORDS:
            if rest.startswith(word):
                starts = starts or word in _HEADER_STARTS
                rest = rest[len(word) :]
                progress = True
                break
    return not rest and bool(squashed), starts


_TABLE_ENDS = (
    "forthisreporttobevalid",
    "forthiscompletionreport",
    "verifyat",
    "collaborativeinstitutional",
    "completionreportpart",
    "thisistocertify",
    "courseworkrequirements",
    "courseworktranscript",
    "note",
    "email",
    "citiprogram",
)


def _is_furniture(line: str) -> bool:
    """Page headers and footers: a page number, a print date and time, an address."""
    low = line.casefold()
    if "http://" in low or "https://" in low or "www." in low or ".org/" in low or ".com/" in low:
        return True
    if _TIME.search(line):
        return True
    return _PAGE_NUMBER.fullmatch(line) is not None


@functools.lru_cache(maxsize=4096)
def _strip_cells(line: str) -> str:
    """A module row without its date and score cells."""
    if not any(ch.isdigit() for ch in line):
        return line if "No Quiz" not in line and "N/A" not in line else _SCORE.sub(" ", line).strip()
    line = _DATE.sub(" ", line)
    line = _SCORE.sub(" ", line)
    return " ".join(line.split())


def _module_titles(chunks: Sequence[str]) -> list[str]:
    """Titles end at their `(ID: n)` marker; the text since the previous marker (or the last boundary)
    is the title, however many lines it was wrapped over."""
    titles: list[str] = []
    for chunk in chunks:
        start = 0
        for match in _MODULE_ID.finditer(chunk):
            title = chunk[start : match.start()].strip(" -:;,.|")
            start = match.end()
            if len(title) > MAX_TITLE_CHARS:
                title = title[-MAX_TITLE_CHARS:].split(" ", 1)[-1]
            if title and any(ch.isalpha() for ch in title) and title not in titles:
                titles.append(title)
            if len(titles) >= MAX_MODULES:
                return titles
    return titles


def _report_modules(
    lines: Sequence[str], squashed_lines: Sequence[str], hits: Sequence[_Hit | None], consumed: set[int]
) -> list[str]:
    """The module list of Part 1 (the requirements), else of the first table found.

    A table starts after its header row and ends at the report's notes, footer or next part; field
    lines, page furniture and repeated header rows inside it are skipped. Without any header row,
    every run of lines between field lines counts (text glued by a re-print)."""
    tables: list[tuple[int, list[str]]] = []  # (part, chunks)
    part = 0
    current: list[str] | None = None
    buffer: list[str] = []

    def close() -> None:
        nonlocal current, buffer
        if current is not None and buffer:
            current.append(" ".join(buffer))
        buffer = []

    for index, (line, squashed, hit) in enumerate(zip(lines, squashed_lines, hits, strict=True)):
        if "part1of2" in squashed or squashed.startswith("courseworkrequirements"):
            part = 1
        elif "part2of2" in squashed or squashed.startswith("courseworktranscript"):
            part = 2
        only_header, starts = _header_row(squashed)
        if only_header:
            if starts or current is not None:
                close()
            if starts and current is None:
                current = []
                tables.append((part, current))
            continue
        if current is None:
            continue
        if squashed.startswith(_TABLE_ENDS) or (hit is not None and hit.colon) or index in consumed:
            close()
            current = None
            continue
        if _is_furniture(line):
            continue
        stripped = _strip_cells(line)
        if stripped:
            buffer.append(stripped)
            if _MODULE_ID.search(stripped) and stripped.endswith(")"):
                close()
    close()
    if not tables:
        return _modules_without_header(lines, squashed_lines, hits, consumed)
    part_one = [chunks for p, chunks in tables if p == 1]
    chosen = part_one or [tables[0][1]]
    return _module_titles([c for chunks in chosen for c in chunks])


def _modules_without_header(
    lines: Sequence[str], squashed_lines: Sequence[str], hits: Sequence[_Hit | None], consumed: set[int]
) -> list[str]:
    chunks: list[str] = []
    buffer: list[str] = []
    for index, (line, squashed, hit) in enumerate(zip(lines, squashed_lines, hits, strict=True)):
        if hit is not None or index in consumed or _is_furniture(line) or squashed.startswith(_TABLE_ENDS):
            buffer = []
            continue
        buffer.append(_strip_cells(line))
        if _MODULE_ID.search(line):
            chunks.append(" ".join(buffer))
            buffer = []
    return _module_titles(chunks)


# -- the three kinds ---------------------------------------------------------------------------------


def _name_and_id(value: str) -> tuple[str | None, str | None]:
    match = _NAME_ID.search(value)
    if match:
        name = value[: match.start()].strip(" :,") or None
        return name, match.group(1).strip() or None
    return value.strip(" :,") or None, None


def _strip_paren_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = _MODULE_ID.search(value)
    return (value[: match.start()] if match else value).strip(" ,") or None


def _parse_report(
    lines: Sequence[str],
    squashed_lines: Sequence[str],
    hits: Sequence[_Hit | None],
    fields: dict[str, Any],
) -> list[str]:
    values, record_ids, consumed = _read_fields(lines, REPORT_LABELS, hits)
    name = values.get("name")
    if isinstance(name, str):
        fields["name"], fields["learner_id"] = _name_and_id(name)
    fields["institution"] = _strip_paren_id(values.get("institution"))
    for key in (
        "email",
        "curriculum_group",
        "course_learner_group",
        "stage",
        "record_id",
        "completion_date",
        "expiration_date",
        "minimum_passing",
        "reported_score",
    ):
        fields[key] = values.get(key)
    known = {_compact(str(v)) for v in values.values() if isinstance(v, str)}
    fields["modules"] = [
        t for t in _report_modules(lines, squashed_lines, hits, consumed) if _compact(t) not in known
    ]
    return record_ids


def _before_marker(lines: Sequence[str], marker: str) -> str | None:
    for i, line in enumerate(lines):
        if line.endswith(marker):
            value = line[: -len(marker)].strip()
            if not value and i > 0:
                value = lines[i - 1].strip()
            return value or None
    return None


def _parse_certificate(
    lines: Sequence[str], hits: Sequence[_Hit | None], fields: dict[str, Any]
) -> list[str]:
    for i, line in enumerate(lines):
        squashed = _compact(line)
        if squashed.startswith("thisistocertifythat"):
            at = line.casefold().find("that")
            rest = line[at + 4 :].strip(" :") if at >= 0 else ""
            candidate = rest or (lines[i + 1] if i + 1 < len(lines) else "")
            if candidate and not _compact(candidate).startswith("hascompleted"):
                fields["name"], fields["learner_id"] = _name_and_id(candidate[:MAX_VALUE_CHARS])
            break
    fields["curriculum_group"] = _before_marker(lines, "(Curriculum Group)")
    fields["course_learner_group"] = _before_marker(lines, "(Course Learner Group)")
    fields["stage"] = _before_marker(lines, "(Stage)")
    for i, line in enumerate(lines):
        squashed = _compact(line)
        if squashed.startswith("underrequirementssetby"):
            at = line.casefold().find("by")
            rest = line[at + 2 :].strip(" :")
            fields["institution"] = (rest or (lines[i + 1] if i + 1 < len(lines) else "")).strip() or None
            break
    values, record_ids, _ = _read_fields(lines, REPORT_LABELS, hits)
    for key in ("record_id", "completion_date", "expiration_date"):
        fields[key] = values.get(key)
    return record_ids


def _parse_legacy(lines: Sequence[str], fields: dict[str, Any]) -> list[str]:
    values, _, _ = _read_fields(lines, LEGACY_LABELS)
    learner = values.get("name")
    if isinstance(learner, str):
        fields["name"], fields["learner_id"] = _name_and_id(learner)
    for key in ("email", "institution", "expiration_date", "completion_date", "stage"):
        fields[key] = values.get(key)
    group: str | None = None
    for i, line in enumerate(lines):
        if _compact(line).startswith("coursestage"):
            for prev in reversed(lines[max(0, i - 3) : i]):
                if _label_hit(prev, LEGACY_LABELS) is None and not _DATE.search(prev):
                    group = prev.strip(" :")
                    break
            break
    old_stage: str | None = None
    for line in lines[:400]:
        # The oldest layout: "Group 2.Data or Specimens Only Research:" / "Stage 1. Basic Course Passed on"
        if group is None and line.endswith(":") and "research" in line.casefold():
            text = line[:-1].strip()
            low = text.casefold()
            if low.startswith("group"):
                dot = text.find(".")
                text = text[dot + 1 :].strip() if 0 < dot < 12 else text
            group = text or None
        low = line.casefold()
        if old_stage is None and low.startswith("stage") and "course" in low:
            old_stage = line[: low.find("course") + 6].strip()
        if fields["completion_date"] is None and "passed on" in low:
            found = parse_date(line[low.find("passed on") :])
            fields["completion_date"] = found.isoformat() if found else None
        if values.get("record_id") is None:
            match = re.search(r"ref ?# ?(\d{3,12})", low)
            if match:
                values["record_id"] = match.group(1)
    fields["course_learner_group"] = group
    fields["stage"] = fields["stage"] or old_stage
    fields["record_id"] = values.get("record_id")
    modules: list[str] = []
    in_table = False
    pending = ""
    for line in lines:
        squashed = _compact(line)
        if squashed.startswith(("requiredmodules", "electivemodules")):
            in_table = True
            continue
        if in_table and squashed.startswith("forthis"):
            break
        if not in_table or _is_furniture(line):
            continue
        match = _DATE.search(line)
        if match is None:
            pending = f"{pending} {line}".strip()[-MAX_TITLE_CHARS:]
            continue
        title = f"{pending} {line[: match.start()]}".strip(" -")
        pending = ""
        if title and title not in modules and len(modules) < MAX_MODULES:
            modules.append(title)
    fields["modules"] = modules
    return [fields["record_id"]] if fields["record_id"] else []


# -- entry points ------------------------------------------------------------------------------------


def parse(text: str, uris: Sequence[str] = (), reading: str = "plain") -> CitiDocument:
    """Text (+ link annotation URIs) -> the kind and fields of a CITI document. Never raises; linear."""
    lines = join_wrapped_labels(normalize_lines(text))
    squashed_lines = [_compact(line) for line in lines]
    squashed = "".join(squashed_lines)
    links = _links(lines, [str(u) for u in uris[:MAX_URIS]])
    hits = _hits(lines, REPORT_LABELS)
    signs = _signs(lines, squashed, hits)
    kind = _kind(signs, links)
    fields = _empty_fields()
    if kind == KIND_CERTIFICATE:
        record_ids = _parse_certificate(lines, hits, fields)
    elif kind == KIND_LEGACY:
        record_ids = _parse_legacy(lines, fields)
    else:
        record_ids = _parse_report(lines, squashed_lines, hits, fields)
    for key in ("name", "institution", "curriculum_group", "course_learner_group", "stage"):
        value = fields.get(key)
        fields[key] = value[:MAX_VALUE_CHARS] if isinstance(value, str) else None
    learner_group = fields.get("course_learner_group")
    if isinstance(learner_group, str) and _compact(learner_group) == "sameascurriculumgroup":
        # Real reports print this placeholder when the learner group is the curriculum group itself.
        fields["course_learner_group"] = fields.get("curriculum_group")
    if links:
        wanted = "w" if kind == KIND_CERTIFICATE else "k"
        letter, uuid, rid, _ = next((x for x in links if x[0] == wanted), links[0])
        fields["verification_url"] = f"https://www.citiprogram.org/verify/?{letter}{uuid}-{rid}"
        if fields["record_id"] is None and kind == KIND_CERTIFICATE:
            fields["record_id"] = rid
    header = "completionreportpart" in squashed or "courseworkrequirements" in squashed
    return CitiDocument(
        kind=kind,
        fields=fields,
        links=[(letter, rid) for letter, _, rid, _ in links],
        record_ids=record_ids,
        looks_like_citi=bool(links) or signs.citi,
        parts=list(signs.parts),
        with_certificate=kind == KIND_REPORT and signs.certificate,
        header=header,
        link_sources=[origin for *_, origin in links],
        reading=reading,
    )


def fields_read(doc: CitiDocument) -> int:
    return sum(1 for key in REPORT_FIELDS if doc.fields.get(key) is not None)


def _quality(doc: CitiDocument) -> tuple[int, ...]:
    """How well a reading went: fields read, links agreeing with the record id, one record id, modules."""
    record_id = doc.fields.get("record_id")
    agree = bool(record_id) and any(rid == record_id for _, rid in doc.links)
    modules = doc.fields.get("modules") or []
    kind_known = doc.kind != KIND_UNKNOWN
    one_id = len(doc.record_ids) <= 1
    return (int(kind_known), fields_read(doc), int(agree), int(one_id), min(len(modules), 60))


def parse_best(readings: Sequence[tuple[str, str]], uris: Sequence[str] = ()) -> CitiDocument:
    """Parse each (name, text) reading and keep the best-read one; its unread fields are filled from the
    others when they read them (a field never overrides the best reading's own)."""
    for cache in (_compact, _report_hit, _strip_cells):  # no line of an earlier file stays in memory
        cache.cache_clear()
    docs = [parse(text, uris, name) for name, text in readings if text.strip()]
    if not docs:
        return parse("", uris)
    best = max(docs, key=_quality)  # max keeps the first of equals: list the preferred reading first
    for other in docs:
        if other is best or other.kind != best.kind:
            continue
        for key, value in other.fields.items():
            if best.fields.get(key) in (None, []) and value not in (None, []):
                best.fields[key] = value
        for rid in other.record_ids:
            if not best.record_ids:
                best.record_ids.append(rid)
    return best
