"""The CITI parser on text (no PDF needed): layouts, date formats, kinds, links, and random damage."""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.documents.citi import (
    KIND_CERTIFICATE,
    KIND_LEGACY,
    KIND_REPORT,
    KIND_UNKNOWN,
    normalize_text,
    parse,
    parse_date,
)
from tests.citi_pdfs import REFRESHER_STAGE, report_text, verify_url

DONE = date(2025, 2, 8)
ENDS = date(2028, 2, 7)


def test_report_text_fields() -> None:
    doc = parse(report_text(completion=DONE, expiration=ENDS))
    assert doc.kind == KIND_REPORT
    f = doc.fields
    assert f["name"] == "Alice Kim"
    assert f["learner_id"] == "1234567"
    assert f["institution"] == "Massachusetts Institute of Technology Affiliates"
    assert f["email"] == "alice@example.edu"
    assert f["curriculum_group"] == "Human Research"
    assert f["course_learner_group"] == "Data or Specimens Only Research"
    assert f["stage"] == "Stage 1 - Basic Course"
    assert f["record_id"] == "12345678"
    assert f["completion_date"] == "2025-02-08"
    assert f["expiration_date"] == "2028-02-07"
    assert f["minimum_passing"] == 90
    assert f["reported_score"] == 98
    assert "Research and HIPAA Privacy Protections" in f["modules"]
    assert len(f["modules"]) == 10
    assert f["verification_url"] == verify_url("12345678", "k")
    assert doc.links == [("k", "12345678")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("05-Jan-2023", date(2023, 1, 5)),
        ("5-jan-2023", date(2023, 1, 5)),
        ("02/17/2014", date(2014, 2, 17)),
        ("2023-01-05", date(2023, 1, 5)),
        ("January 5, 2023", date(2023, 1, 5)),
        ("Sept 30 2023", date(2023, 9, 30)),
        ("31-Feb-2023", None),
        ("13/45/2020", None),
        ("no date", None),
    ],
)
def test_dates(value: str, expected: date | None) -> None:
    assert parse_date(value) == expected


GLUED = """COMPLETION REPORT - PART 1 OF 2
COURSEWORK REQUIREMENTS*
NameJosé Müller-Smith (ID: 99)
Course Learner GroupData or Specimens Only Research
StageStage 1 - Basic Course
Record ID55555555
Completion Date08-Feb-2025
Expiration Date07-Feb-2028
Reported Score*:100
Research and HIPAA Privacy Protections (ID: 14)08-Feb-20253/3 (100%)
"""


def test_glued_labels_and_annotation_link() -> None:
    url = verify_url("55555555", "k")
    doc = parse(GLUED, [url])
    f = doc.fields
    assert (f["name"], f["learner_id"], f["record_id"]) == ("José Müller-Smith", "99", "55555555")
    assert (f["completion_date"], f["expiration_date"]) == ("2025-02-08", "2028-02-07")
    assert f["reported_score"] == 100
    assert f["modules"] == ["Research and HIPAA Privacy Protections"]
    assert f["verification_url"] == url


def test_reordered_lines_bullets_and_nbsp() -> None:
    lines = report_text(completion=DONE, expiration=ENDS).split("\n")
    header, rest = lines[:3], lines[3:]
    text = (
        "\n".join(header + list(reversed(rest)))
        .replace("• ", "\u00a0\u2022\u00a0 ")
        .replace(" or ", "\u00a0or\u00a0")
    )
    f = parse(text).fields
    assert f["course_learner_group"] == "Data or Specimens Only Research"
    assert f["expiration_date"] == "2028-02-07"
    assert f["name"] == "Alice Kim"


def test_value_on_next_line_and_link_broken_across_lines() -> None:
    url = verify_url("12345678").removeprefix("https://")
    head = "COMPLETION REPORT - PART 1 OF 2\nName:\nAlice Kim (ID: 1)\nRecord ID:\n12345678"
    text = f"{head}\nVerify at: {url[:40]}\n{url[40:]}"
    doc = parse(text)
    assert doc.fields["name"] == "Alice Kim"
    assert doc.fields["record_id"] == "12345678"
    assert doc.links == [("k", "12345678")]


def test_empty_value_does_not_swallow_next_label() -> None:
    doc = parse("COMPLETION REPORT - PART 1 OF 2\nCourse Learner Group:\nStage: Stage 1 - Basic Course\n")
    assert doc.fields["course_learner_group"] is None
    assert doc.fields["stage"] == "Stage 1 - Basic Course"


@pytest.mark.parametrize("name", ["김민준", "김 민준", "Kim Min-jun", "Łukasz Żółć", "Zoë O'Brien-Núñez"])
def test_names_survive_parsing(name: str) -> None:
    assert parse(report_text(name=name)).fields["name"] == name


def test_refresher_stage_read() -> None:
    assert parse(report_text(stage=REFRESHER_STAGE)).fields["stage"] == REFRESHER_STAGE


CERTIFICATE = """CITI PROGRAM
Completion Date 05-Jan-2023
Expiration Date 04-Jan-2026
Record ID 12345678
This is to certify that:
Alice Kim
Has completed the following CITI Program course:
Human Research (Curriculum Group)
Data or Specimens Only Research (Course Learner Group)
1 - Basic Course (Stage)
Under requirements set by:
Example University
Verify at www.citiprogram.org/verify/?wd3b07384-d113-4ec6-a8c4-1a2b3c4d5e6f-12345678
"""


def test_certificate() -> None:
    doc = parse(CERTIFICATE)
    assert doc.kind == KIND_CERTIFICATE
    f = doc.fields
    assert f["name"] == "Alice Kim"
    assert f["course_learner_group"] == "Data or Specimens Only Research"
    assert f["curriculum_group"] == "Human Research"
    assert f["stage"] == "1 - Basic Course"
    assert f["institution"] == "Example University"
    assert (f["record_id"], f["completion_date"], f["expiration_date"]) == (
        "12345678",
        "2023-01-05",
        "2026-01-04",
    )
    assert doc.links == [("w", "12345678")]


LEGACY = """COLLABORATIVE INSTITUTIONAL TRAINING INITIATIVE (CITI PROGRAM)
CURRICULUM COMPLETION REPORT
Printed on 02/17/2014
LEARNER Alice Kim (ID: 1234567)
EMAIL alice@example.edu
INSTITUTION Example University
EXPIRATION DATE 02/16/2017
DATA OR SPECIMENS ONLY RESEARCH
COURSE/STAGE: Basic Course/1
PASSED ON: 02/17/2014
REFERENCE ID: 12345678
REQUIRED MODULES DATE COMPLETED
Belmont Report and CITI Course Introduction 02/10/2014
Research and HIPAA Privacy Protections 02/15/2014
For this Completion Report to be valid, the learner listed above must be affiliated.
"""

OLDEST = """CITI Collaborative Institutional Training Initiative
Human Research Curriculum Completion Report
Printed on 3/14/2013
Learner: Alice Kim (username: akim)
Institution: Example University
Group 2.Data or Specimens Only Research:
Stage 1. Basic Course Passed on 03/14/2013 (Ref # 9876543)
Required Modules Date Completed Score
Research and HIPAA Privacy Protections 03/12/2013 3/3 (100%)
"""


def test_legacy_reports() -> None:
    doc = parse(LEGACY)
    assert doc.kind == KIND_LEGACY
    f = doc.fields
    assert (f["name"], f["record_id"], f["completion_date"]) == ("Alice Kim", "12345678", "2014-02-17")
    assert f["expiration_date"] == "2017-02-16"
    assert f["course_learner_group"] == "DATA OR SPECIMENS ONLY RESEARCH"
    assert f["modules"] == [
        "Belmont Report and CITI Course Introduction",
        "Research and HIPAA Privacy Protections",
    ]
    old = parse(OLDEST)
    assert old.kind == KIND_LEGACY
    assert (old.fields["name"], old.fields["record_id"]) == ("Alice Kim", "9876543")
    assert old.fields["course_learner_group"] == "Data or Specimens Only Research"
    assert old.fields["completion_date"] == "2013-03-14"
    assert old.fields["modules"] == ["Research and HIPAA Privacy Protections"]


def test_unknown_and_not_citi() -> None:
    doc = parse("Quarterly budget\nTotal: 1,000")
    assert doc.kind == KIND_UNKNOWN and not doc.looks_like_citi
    assert parse("CITI Program newsletter").looks_like_citi


def test_normalize_text() -> None:
    assert normalize_text("  \u2022\u00a0Name:\u00a0 A\u200bB  \r\n\n - x") == "Name: AB\nx"


_DAMAGE = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4000),
        st.sampled_from(
            ["", "\n", " ", "\u00a0", "(", ")", ":", "ID", "-", "?k", "31-Feb-2023", "\x00", "ü", "김"]
        ),
        st.integers(min_value=0, max_value=30),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=_DAMAGE, seed_text=st.text(max_size=200))
def test_parser_never_raises_on_damaged_text(damage: list[tuple[int, str, int]], seed_text: str) -> None:
    text = report_text(completion=DONE, expiration=ENDS)
    for position, insert, cut in damage:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + cut :]
    doc = parse(text + seed_text, [seed_text])
    assert doc.kind in {KIND_REPORT, KIND_CERTIFICATE, KIND_LEGACY, KIND_UNKNOWN}
    assert isinstance(doc.fields["modules"], list)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_parser_never_raises_on_any_text(text: str) -> None:
    parse(text, [text])


def test_citizen_is_not_citi() -> None:
    assert not parse("Certificate of citizenship\nCity council").looks_like_citi


@pytest.mark.parametrize(
    "text",
    ["x (ID: 1)\n" * 30_000, "Name:\n" * 50_000, "(" * 500_000, "a " * 500_000, "Jan " * 100_000],
)
def test_parser_time_is_bounded_on_huge_text(text: str) -> None:
    started = time.monotonic()
    parse(text, [text[:1000]] * 500)
    assert time.monotonic() - started < 3


def test_same_as_curriculum_group_placeholder_means_the_curriculum_group() -> None:
    """Real reports print "Course Learner Group: Same as Curriculum Group" when the two coincide."""
    from bot.documents.citi import parse
    from tests.citi_pdfs import report_text

    text = report_text(course="Same as Curriculum Group").replace(
        "Curriculum Group: Human Research", "Curriculum Group: Data or Specimens Only Research"
    )
    fields = parse(text).fields
    assert fields["course_learner_group"] == "Data or Specimens Only Research"
