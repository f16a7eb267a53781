"""Every layout class of CITI report, from several producers, judged right end to end (issue 11).

reportlab and fpdf2 files are built here; the browser-print (Chromium) and office-export (LibreOffice)
files are committed in tests/fixtures/citi/ (rebuilt by build_binary.py). Each must get its outcome, the
record id, and exactly the document's module list (the same count and titles reviewers will see).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.documents import Validator, Verdict
from bot.rules_loader import load_rules
from tests.citi_pdfs import DEFAULT_MODULES
from tests.fixtures.citi import binary
from tests.fixtures.citi.layouts import CASES, Case

ROOT = Path(__file__).resolve().parent.parent
CITI = load_rules(ROOT / "rules.yaml").documents["citi_report"]
ALL = [*CASES, *binary.CASES]


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        v.warm_up()
        yield v


def _judge(validator: Validator, case: Case) -> Verdict:
    today = binary.TODAY if case in binary.CASES else date.today()
    return validator.validate(
        case.build(),
        filename="upload.pdf",
        content_type="application/pdf",
        profile=CITI,
        applicant_names=[case.name],
        today=today,
    )


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_layout_class_judged_right(validator: Validator, case: Case) -> None:
    verdict = _judge(validator, case)
    problems = tuple(p.code for p in verdict.problems)
    assert verdict.outcome == case.outcome, (problems, verdict.warnings, verdict.unread_fields)
    if case.outcome == "rejected":
        assert problems == case.codes
        return
    assert verdict.unread_fields == ()
    assert verdict.fields["record_id"] == case.record_id
    assert verdict.fields["name"] == case.name
    assert verdict.fields["modules"] == list(DEFAULT_MODULES)  # the document's own list, in order
    assert verdict.fields["verification_url"].endswith(f"-{case.record_id}")


def test_every_class_has_two_producers() -> None:
    producers: dict[str, set[str]] = {}
    for case in ALL:
        producers.setdefault(case.layout, set()).add(case.producer.split("-")[0].split("+")[0])
    single = {layout for layout, found in producers.items() if len(found) < 2}
    # Type3 fonts are written by hand (no library here writes them); every other class has two producers.
    assert single <= {"type3_font"}, single


def test_browser_footer_url_does_not_glue_the_page_number(validator: Validator) -> None:
    """Chromium prints `…-75372526 1/2` in its footer; the record id stays 75372526, nothing inconsistent."""
    case = next(c for c in binary.CASES if c.id == "browser_furniture-chromium")
    verdict = _judge(validator, case)
    assert verdict.accepted and not verdict.problems
    assert verdict.fields["record_id"] == "75372526"


def test_part2_only_says_what_is_missing(validator: Validator) -> None:
    case = next(c for c in binary.CASES if c.id == "part2_only-chromium")
    verdict = _judge(validator, case)
    assert [p.code for p in verdict.problems] == ["report_part2_only"]


def test_scans_are_told_to_download_not_photograph(validator: Validator) -> None:
    from bot.documents import render_problem
    from bot.i18n import Translator

    case = next(c for c in CASES if c.layout == "scan")
    verdict = _judge(validator, case)
    message = render_problem(Translator(), "en", verdict.problems[0])
    assert "download" in message and "photograph" in message
