"""The parser registry and what parsers tell the core; the checks added by issue 11."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date
from pathlib import Path

import pytest

from bot.documents import get_parser, parser_names
from bot.documents.checks import check_citi, module_rule_met
from bot.documents.citi import parse
from bot.rules import DEFAULT_MODULE_RULES, DocumentChecks
from bot.rules_loader import load_rules
from tests.citi_pdfs import DEFAULT_MODULES, REFRESHER_STAGE, report_text

ROOT = Path(__file__).resolve().parent.parent
CITI = load_rules(ROOT / "rules.yaml").documents["citi_report"]
TODAY = date(2026, 6, 1)
DONE = date(2026, 1, 5)
ENDS = date(2029, 1, 4)


def _codes(findings: list[typing.Any]) -> list[str]:
    return [f.code for f in findings]


def test_rules_parser_names_are_the_registry() -> None:
    from bot.rules_loader import CHOICES, RulesError, parse_rules
    from tests.conftest import RULES

    assert set(CHOICES["document_parsers"]) == set(parser_names()) == {"citi", "generic"}
    text = RULES.read_text(encoding="utf-8").replace("parser: citi", "parser: xlsx", 1)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "parser: xlsx" in row)
    with pytest.raises(RulesError) as refused:
        parse_rules(text)
    assert f"rules.yaml:{line}:" in str(refused.value) and "must be one of citi, generic" in str(
        refused.value
    )


def test_citi_parser_tells_the_core_what_it_needs() -> None:
    parser = get_parser("citi")
    fields = parse(report_text(completion=DONE, expiration=ENDS)).fields
    shown = dict(parser.applicant_fields(fields))
    assert shown["document_field.record_id"] == "12345678"
    assert shown["document_field.expiration_date"] == "2029-01-04"
    assert "document_field.email" not in shown
    keys = [k for k, _ in parser.reviewer_fields(fields, show_email=False)]
    assert "document_field.email" not in keys and "document_field.verification_url" in keys
    with_email = dict(parser.reviewer_fields(fields, show_email=True))
    assert with_email["document_field.email"] == "alice@example.edu"
    assert with_email["document_field.modules"].startswith(f"{len(DEFAULT_MODULES)}: Belmont Report")
    assert parser.identity_key(fields) == "12345678"
    assert parser.expiry_date(fields) == ENDS
    assert parser.supports_renewal
    generic = get_parser("generic")
    assert not generic.supports_renewal and generic.identity_key({}) is None
    assert generic.expiry_date(fields) is None


def test_label_keys_exist_in_both_languages() -> None:
    from bot.i18n import Translator

    catalog = Translator().catalog
    fields = parse(report_text()).fields
    for key, _ in get_parser("citi").reviewer_fields(fields, show_email=True):
        assert key in catalog["en"] and key in catalog["ko"]
    for outcome in ("accepted", "needs_review", "rejected"):
        assert f"document_outcome.{outcome}" in catalog["ko"]


def _check(
    text: str, checks: DocumentChecks = CITI.require, names: tuple[str, ...] = ("Alice Kim",)
) -> typing.Any:
    return check_citi(parse(text), checks, names, TODAY)


def test_score_below_the_reports_own_minimum_is_refused() -> None:
    out = _check(report_text(completion=DONE, expiration=ENDS, score=70, minimum_passing=80))
    assert _codes(out.problems) == ["score_too_low"]
    assert out.problems[0].params == {"score": "70", "min": "80"}
    assert CITI.require.min_score is None  # even without a minimum in rules.yaml


def test_conflicts_of_interest_module_is_flagged_when_missing() -> None:
    modules = [m for m in DEFAULT_MODULES if "Conflicts" not in m]
    out = _check(report_text(completion=DONE, expiration=ENDS, modules=modules))
    assert _codes(out.warnings) == ["missing_module"] and not out.problems
    assert "Conflicts of Interest" in out.warnings[0].params["module"]


def test_refresher_hipaa_title_counts_as_hipaa() -> None:
    hipaa = DEFAULT_MODULE_RULES[0]
    assert module_rule_met(hipaa, ["HIPAA and Human Subjects Research"], REFRESHER_STAGE)
    titles_only = dataclasses.replace(hipaa, pattern="")
    assert module_rule_met(titles_only, ["HIPAA and Human Subjects Research"], REFRESHER_STAGE)
    assert not module_rule_met(titles_only, ["HIPAA and Human Subjects Research"], "Stage 1 - Basic Course")
    assert not module_rule_met(titles_only, ["Belmont Report"], REFRESHER_STAGE)


def test_clear_report_with_an_unreadable_field_goes_to_a_reviewer() -> None:
    text = report_text(completion=DONE, expiration=ENDS).replace("Expiration Date", "Expir~tion D#te")
    out = _check(text)
    assert not out.problems and out.needs_manual_check
    assert out.unread == ["expiration_date"]
    assert out.warnings[0].code == "unread_fields" and out.warnings[0].params["fields"] == "Expiration Date"


def test_not_clearly_a_report_with_missing_fields_is_refused() -> None:
    out = _check("CITI Program\nCOMPLETION REPORT - PART 1 OF 2\nStage: 1")
    assert "missing_fields" in _codes(out.problems)


def test_expired_certificate_hears_both_reasons() -> None:
    from tests.test_documents_citi import CERTIFICATE

    out = _check(CERTIFICATE.replace("Data or Specimens Only Research", "Biomedical Research"))
    assert _codes(out.problems) == ["certificate_not_report", "wrong_course", "expired"]
