"""Realistic CITI Program PDFs for tests, built with fpdf2 (stable API: other test suites import these).

    from tests.citi_pdfs import make_report, make_certificate, make_legacy_report
    pdf = make_report(name="Alice Kim", record_id="12345678")          # a valid 2-part report (bytes)
    pdf = make_report(expiration=date(2020, 1, 1))                      # expired
    pdf = make_report(modules=("Belmont Report",))                      # no HIPAA module
    pdf = make_report(layout="browser")                                 # browser re-print
    pdf = make_certificate(name="Alice Kim")                            # a completion certificate (refused)

Every argument has a sensible default: dates default to a report completed 30 days before today that
is valid for three years, so a default report is accepted by the shipped rules.yaml on any day.

Layouts (`layout=`) imitate different producers as pypdf sees them:
- "standard": a Unicode font, "•" bullets, `Label: value` (needs DejaVu; falls back to "plain").
- "plain": Helvetica, "*" bullets, doubled spaces.
- "split": labels and values in separate columns, non-breaking spaces inside values.
- "wrapped": each value on the line below its label; the verify link broken over two lines.
- "browser": labels glued to values (`Completion Date08-Feb-2025`), "-" bullets, the verify link only
  as a link annotation (a browser's "Print to PDF" of the CITI page).

Korean (Hangul) names need a font with Hangul glyphs; `HANGUL_FONT` is None when the machine has none,
and `make_*` then raise ValueError for such names (test Korean names with `report_text` instead).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from fpdf import FPDF

LAYOUTS: tuple[str, ...] = ("standard", "plain", "split", "wrapped", "browser")

DEFAULT_MODULES: tuple[str, ...] = (
    "Belmont Report and Its Principles",
    "History and Ethics of Human Subjects Research",
    "Basic Institutional Review Board (IRB) Regulations and Review Process",
    "Informed Consent",
    "Social and Behavioral Research (SBR) for Biomedical Researchers",
    "Records-Based Research",
    "Genetic Research in Human Populations",
    "Populations in Research Requiring Additional Considerations and/or Protections",
    "Research and HIPAA Privacy Protections",
    "Conflicts of Interest in Human Subjects Research",
)
NO_HIPAA_MODULES: tuple[str, ...] = tuple(m for m in DEFAULT_MODULES if "HIPAA" not in m)
COURSE = "Data or Specimens Only Research"
BASIC_STAGE = "Stage 1 - Basic Course"
REFRESHER_STAGE = "Stage 2 - Refresher Course"

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
_HANGUL_CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
    "/usr/share/fonts/truetype/baekmuk/gulim.ttf",
)


def _first_existing(paths: Sequence[str]) -> Path | None:
    return next((Path(p) for p in paths if Path(p).is_file()), None)


UNICODE_FONT: Path | None = _first_existing(_FONT_CANDIDATES)
HANGUL_FONT: Path | None = _first_existing(_HANGUL_CANDIDATES)


def verify_url(record_id: str, kind: str = "k") -> str:
    """The CITI verify link: `k` for a report, `w` for a certificate; the last number is the record id."""
    return (
        f"https://www.citiprogram.org/verify/?{kind}{uuid.uuid5(uuid.NAMESPACE_URL, record_id)}-{record_id}"
    )


def _dates(completion: date | None, expiration: date | None) -> tuple[date, date]:
    done = completion if completion is not None else date.today() - timedelta(days=30)
    ends = expiration if expiration is not None else done + timedelta(days=3 * 365 - 1)
    return done, ends


def citi_date(value: date) -> str:
    """05-Jan-2023, the CITI style."""
    return value.strftime("%d-%b-%Y")


class _Page:
    """A thin fpdf2 wrapper: one call per text line, in the chosen font."""

    def __init__(self, *, unicode_text: bool, producer: str, hangul: bool = False) -> None:
        self.pdf = FPDF(format="letter")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_producer(producer)
        self.pdf.set_creator("CITI Program")
        self.family = "Helvetica"
        font = HANGUL_FONT if hangul else UNICODE_FONT
        if unicode_text or hangul:
            if font is None:
                raise ValueError("no suitable Unicode font on this machine")
            self.pdf.add_font("Uni", "", str(font))
            self.family = "Uni"
        self.size = 9.0
        self.pdf.set_font(self.family, size=self.size)

    def new_page(self) -> None:
        self.pdf.add_page()

    def line(self, text: str, *, size: float | None = None, link: str = "") -> None:
        self.pdf.set_font(self.family, size=size or self.size)
        self.pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT", link=link)
        self.pdf.set_font(self.family, size=self.size)

    def wrap(self, text: str) -> None:
        self.pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")

    def columns(self, cells: Sequence[tuple[str, float]], *, link: str = "") -> None:
        for i, (text, width) in enumerate(cells):
            last = i == len(cells) - 1
            self.pdf.cell(
                width or 0,
                5,
                text,
                new_x="LMARGIN" if last else "RIGHT",
                new_y="NEXT" if last else "TOP",
                link=link,
            )

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _needs_unicode(*texts: str) -> bool:
    try:
        "".join(texts).encode("latin-1")
    except UnicodeEncodeError:
        return True
    return False


def _has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _start(layout: str, producer: str | None, texts: Sequence[str]) -> tuple[_Page, str]:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {LAYOUTS}")
    hangul = any(_has_hangul(t) for t in texts)
    if hangul and HANGUL_FONT is None:
        raise ValueError("no Hangul font on this machine: test Korean names with report_text()")
    unicode_text = layout == "standard" or _needs_unicode(*texts)
    if layout == "standard" and UNICODE_FONT is None and not _needs_unicode(*texts):
        layout, unicode_text = "plain", False
    default_producer = {
        "standard": "iText® 5.5.13 ©2000-2020 iText Group NV (AGPL-version)",
        "plain": "PyFPDF/fpdf2",
        "split": "Microsoft: Print To PDF",
        "wrapped": "macOS Version 14.2 (Build 23C64) Quartz PDFContext",
        "browser": "Skia/PDF m120",
    }[layout]
    page = _Page(unicode_text=unicode_text, producer=producer or default_producer, hangul=hangul)
    return page, layout


def _field(page: _Page, layout: str, label: str, value: str) -> None:
    if layout == "standard":
        page.line(f"•  {label}: {value}")
    elif layout == "plain":
        page.line(f"*  {label}:  {value}")
    elif layout == "split":
        page.columns([(f"{label}:", 50), (value.replace(" ", "\u00a0"), 0)])
    elif layout == "wrapped":
        page.line(f"- {label}:")
        page.line(f"    {value}")
    else:  # browser
        page.line(f"- {label}{value}")


def _verify(page: _Page, layout: str, url: str) -> None:
    shown = url.removeprefix("https://")
    if layout == "browser":
        page.columns([("Verify at:", 20), ("Verification link", 0)], link=url)
    elif layout == "wrapped":
        cut = shown.index("?") + 2
        page.line(f"Verify at: {shown[:cut]}", link=url)
        page.line(shown[cut:], link=url)
    else:
        page.line(f"Verify at: {shown}", link=url)


def report_fields(
    *,
    name: str,
    learner_id: str,
    institution: str,
    email: str,
    course: str,
    stage: str,
    record_id: str,
    completion: date,
    expiration: date,
    minimum_passing: int,
    score: int,
) -> list[tuple[str, str]]:
    return [
        ("Name", f"{name} (ID: {learner_id})"),
        ("Institution Affiliation", f"{institution} (ID: 1912)"),
        ("Institution Email", email),
        ("Institution Unit", "Radiology"),
        ("Phone", "02-880-0000"),
        ("Curriculum Group", "Human Research"),
        ("Course Learner Group", course),
        ("Stage", stage),
        ("Record ID", record_id),
        ("Completion Date", citi_date(completion)),
        ("Expiration Date", citi_date(expiration)),
        ("Minimum Passing", str(minimum_passing)),
        ("Reported Score*", str(score)),
    ]


_PARTS = (
    (
        "COMPLETION REPORT - PART 1 OF 2",
        "COURSEWORK REQUIREMENTS*",
        "* NOTE: Scores on this Requirements Report reflect quiz completions at the time"
        " all requirements for the"
        " course were met. See list below for details. See separate Transcript Report"
        " for more recent quiz scores,"
        " including those on optional (supplemental) course elements.",
        "REQUIRED AND ELECTIVE MODULES ONLY",
    ),
    (
        "COMPLETION REPORT - PART 2 OF 2",
        "COURSEWORK TRANSCRIPT**",
        "** NOTE: Scores on this Transcript Report reflect the most current quiz"
        " completions, including quizzes on"
        " optional (supplemental) elements of the course. See list below for details."
        " See separate Requirements"
        " Report for the reported scores at the time all requirements for the course were met.",
        "MOST RECENT",
    ),
)
_FOOTER = (
    "For this Report to be valid, the learner identified above must have had a valid"
    " affiliation with the CITI"
    " Program subscribing institution identified above or have been a paid Independent Learner."
)


def _module_id(title: str) -> int:
    return 1000 + sum(map(ord, title)) % 9000


def report_text(
    name: str = "Alice Kim",
    record_id: str = "12345678",
    completion: date | None = None,
    expiration: date | None = None,
    course: str = COURSE,
    modules: Sequence[str] = DEFAULT_MODULES,
    stage: str = BASIC_STAGE,
    with_link: bool = True,
    link_kind: str = "k",
    *,
    learner_id: str = "1234567",
    institution: str = "Massachusetts Institute of Technology Affiliates",
    email: str = "alice@example.edu",
    score: int = 98,
    minimum_passing: int = 90,
    link_record_id: str | None = None,
) -> str:
    """The text pypdf extracts from a standard report: for parser tests (Korean names need no font here)."""
    done, ends = _dates(completion, expiration)
    fields = report_fields(
        name=name,
        learner_id=learner_id,
        institution=institution,
        email=email,
        course=course,
        stage=stage,
        record_id=record_id,
        completion=done,
        expiration=ends,
        minimum_passing=minimum_passing,
        score=score,
    )
    lines: list[str] = []
    for title, sub, note, table in _PARTS:
        lines += [title, sub, note]
        lines += [f"• {label}: {value}" for label, value in fields]
        lines.append(f"{table} DATE COMPLETED SCORE")
        lines += [f"{m} (ID: {_module_id(m)}) {citi_date(done)} 5/5 (100%)" for m in modules]
        lines.append(_FOOTER)
        if with_link:
            url = verify_url(link_record_id or record_id, link_kind)
            lines.append(f"Verify at: {url.removeprefix('https://')}")
        lines.append("Collaborative Institutional Training Initiative")
    return "\n".join(lines)


def make_report(
    name: str = "Alice Kim",
    record_id: str = "12345678",
    completion: date | None = None,
    expiration: date | None = None,
    course: str = COURSE,
    modules: Sequence[str] = DEFAULT_MODULES,
    stage: str = BASIC_STAGE,
    with_link: bool = True,
    link_kind: str = "k",
    *,
    learner_id: str = "1234567",
    institution: str = "Massachusetts Institute of Technology Affiliates",
    email: str = "alice@example.edu",
    score: int = 98,
    minimum_passing: int = 90,
    layout: str = "standard",
    producer: str | None = None,
    link_record_id: str | None = None,
) -> bytes:
    """A CITI completion report (part 1 requirements + part 2 transcript), as PDF bytes.

    `link_kind="w"` or `link_record_id="..."` make the verify link disagree with the document (an edited
    file); a long `modules` list spreads the module table over several pages."""
    done, ends = _dates(completion, expiration)
    fields = report_fields(
        name=name,
        learner_id=learner_id,
        institution=institution,
        email=email,
        course=course,
        stage=stage,
        record_id=record_id,
        completion=done,
        expiration=ends,
        minimum_passing=minimum_passing,
        score=score,
    )
    page, layout = _start(layout, producer, [name, institution, course, stage, *modules])
    url = verify_url(link_record_id or record_id, link_kind)
    for title, sub, note, table in _PARTS:
        page.new_page()
        page.line(title, size=13)
        page.line(sub, size=11)
        page.wrap(note)
        for label, value in fields:
            _field(page, layout, label, value)
        page.line("")
        page.columns([(table, 110), ("DATE COMPLETED", 35), ("SCORE", 0)])
        for module in modules:
            row = f"{module} (ID: {_module_id(module)})"
            if layout == "split":
                page.columns([(row, 130), (citi_date(done), 25), ("5/5 (100%)", 0)])
            else:
                page.line(f"{row} {citi_date(done)} 5/5 (100%)")
        page.line("")
        page.wrap(_FOOTER)
        if with_link:
            _verify(page, layout, url)
        page.line("Collaborative Institutional Training Initiative (CITI Program)")
        page.line("Email: support@citiprogram.org  Phone: 888-529-5929  Web: https://www.citiprogram.org")
    return page.output()


def make_certificate(
    name: str = "Alice Kim",
    record_id: str = "12345678",
    completion: date | None = None,
    expiration: date | None = None,
    course: str = COURSE,
    stage: str = "1 - Basic Course",
    with_link: bool = True,
    link_kind: str = "w",
    *,
    institution: str = "Massachusetts Institute of Technology Affiliates",
    curriculum: str = "Human Research",
    layout: str = "standard",
    producer: str | None = None,
) -> bytes:
    """A CITI completion certificate (the one-page diploma, `?w` link), which PhysioNet does not accept."""
    done, ends = _dates(completion, expiration)
    page, layout = _start(layout, producer, [name, institution, course, stage])
    page.new_page()
    page.line("CITI PROGRAM", size=16)
    page.line(f"Completion Date {citi_date(done)}")
    page.line(f"Expiration Date {citi_date(ends)}")
    page.line(f"Record ID {record_id}")
    page.line("")
    page.line("This is to certify that:", size=12)
    page.line(name, size=16)
    page.line("Has completed the following CITI Program course:", size=12)
    page.line(f"{curriculum} (Curriculum Group)")
    page.line(f"{course} (Course Learner Group)")
    page.line(f"{stage} (Stage)")
    page.line("Under requirements set by:")
    page.line(institution)
    if with_link:
        _verify(page, layout, verify_url(record_id, link_kind))
    return page.output()


def make_legacy_report(
    name: str = "Alice Kim",
    record_id: str = "12345678",
    completion: date | None = date(2014, 2, 17),
    expiration: date | None = date(2017, 2, 16),
    course: str = COURSE,
    modules: Sequence[str] = DEFAULT_MODULES,
    stage: str = "Basic Course/1",
    *,
    learner_id: str = "1234567",
    institution: str = "Massachusetts Institute of Technology Affiliates",
    email: str = "alice@example.edu",
    layout: str = "plain",
) -> bytes:
    """A pre-2016 "CURRICULUM COMPLETION REPORT" (LEARNER / REFERENCE ID labels, 02/17/2014 dates)."""
    done, ends = _dates(completion, expiration)
    page, layout = _start(layout, None, [name, institution, course, *modules])
    us = "%m/%d/%Y"
    page.new_page()
    page.line("COLLABORATIVE INSTITUTIONAL TRAINING INITIATIVE (CITI PROGRAM)", size=11)
    page.line("CURRICULUM COMPLETION REPORT", size=13)
    page.line(f"Printed on {done.strftime(us)}")
    for label, value in (
        ("LEARNER", f"{name} (ID: {learner_id})"),
        ("DEPARTMENT", "Radiology"),
        ("EMAIL", email),
        ("INSTITUTION", institution),
        ("EXPIRATION DATE", ends.strftime(us)),
    ):
        page.columns([(label, 45), (value, 0)])
    page.line("")
    page.line(course.upper())
    page.line(f"COURSE/STAGE: {stage}")
    page.line(f"PASSED ON: {done.strftime(us)}")
    page.line(f"REFERENCE ID: {record_id}")
    page.line("")
    page.columns([("REQUIRED MODULES", 140), ("DATE COMPLETED", 0)])
    for module in modules:
        page.columns([(module, 140), (done.strftime(us), 0)])
    page.line("")
    page.wrap(
        "For this Completion Report to be valid, the learner listed above must be"
        " affiliated with a CITI Program"
        " participating institution or be a paid Independent Learner."
    )
    return page.output()


def make_generic_pdf(lines: Sequence[str] = ("Your credentialing application has been approved.",)) -> bytes:
    """A plain one-page PDF (e.g. an approval e-mail printed to PDF), for `generic` profiles."""
    page, _ = _start("plain", "Skia/PDF m120", list(lines))
    page.new_page()
    for text in lines:
        page.line(text)
    return page.output()


def make_png(width: int = 40, height: int = 20) -> bytes:
    """A real PNG screenshot stand-in."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 220, 255)).save(out, format="PNG")
    return out.getvalue()


def make_jpeg(width: int = 40, height: int = 20) -> bytes:
    """A real JPEG photo stand-in."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (255, 220, 200)).save(out, format="JPEG")
    return out.getvalue()


def make_image_only_pdf() -> bytes:
    """A 'scanned' PDF: one page holding only an image, so no extractable text."""
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(make_png(200, 100)), x=10, y=10, w=180)
    return bytes(pdf.output())
