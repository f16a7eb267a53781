"""Validator end to end on real PDFs (made by fpdf2, read by pypdf in the worker): each check and severity."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.documents import Validator, Verdict, render_problem
from bot.i18n import Translator
from bot.rules import DocumentChecks, DocumentProfile, ModuleRule, Severity
from bot.rules_loader import load_rules
from tests import citi_pdfs as pdfs

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 6, 1)
DONE = date(2026, 1, 5)
ENDS = date(2029, 1, 4)
RULES = load_rules(ROOT / "rules.yaml")
CITI = RULES.documents["citi_report"]
PROOF = RULES.documents["approval_proof"]
TRANSLATOR = Translator()


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        v.warm_up()
        yield v


def check(
    validator: Validator,
    data: bytes,
    profile: DocumentProfile = CITI,
    names: Sequence[str] = ("Alice Kim",),
    today: date = TODAY,
) -> Verdict:
    verdict = validator.validate(
        data,
        filename="report.pdf",
        content_type="application/pdf",
        profile=profile,
        applicant_names=names,
        today=today,
    )
    for finding in (*verdict.problems, *verdict.warnings):  # every message gets all its placeholders
        for lang in ("en", "ko"):
            assert "{" not in render_problem(TRANSLATOR, lang, finding), finding
    return verdict


def require(**changes: object) -> DocumentProfile:
    return dataclasses.replace(CITI, require=dataclasses.replace(CITI.require, **changes))  # type: ignore[arg-type]


def codes(findings: Sequence[object]) -> list[str]:
    return [f.code for f in findings]  # type: ignore[attr-defined]


def report(**kw: object) -> bytes:
    kw.setdefault("completion", DONE)
    kw.setdefault("expiration", ENDS)
    return pdfs.make_report(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", pdfs.LAYOUTS)
def test_valid_report_every_layout(validator: Validator, layout: str) -> None:
    verdict = check(validator, report(layout=layout))
    assert verdict.accepted, verdict.problems
    assert verdict.kind == "report"
    assert (verdict.problems, verdict.warnings, verdict.needs_manual_check) == ((), (), False)
    f = verdict.fields
    assert f["name"] == "Alice Kim"
    assert (f["record_id"], f["completion_date"], f["expiration_date"]) == (
        "12345678",
        "2026-01-05",
        "2029-01-04",
    )
    assert f["course_learner_group"] == "Data or Specimens Only Research"
    assert f["verification_url"] == pdfs.verify_url("12345678")
    assert len(verdict.sha256) == 64
    json.dumps(dict(f))  # JSON-safe


def test_long_module_table_over_several_pages(validator: Validator) -> None:
    modules = [f"Elective module number {i} on research practice" for i in range(70)]
    verdict = check(validator, report(modules=[*modules, "Research and HIPAA Privacy Protections"]))
    assert verdict.accepted, verdict.problems
    assert verdict.pages >= 4
    assert len(verdict.fields["modules"]) == 71


def test_accented_name_with_unicode_font(validator: Validator) -> None:
    verdict = check(validator, report(name="Zoë Łukasiewicz-Núñez"), names=["Zoe Lukasiewicz Nunez"])
    assert verdict.fields["name"] == "Zoë Łukasiewicz-Núñez"
    assert verdict.accepted and not verdict.warnings


@pytest.mark.skipif(pdfs.HANGUL_FONT is None, reason="no Hangul font here; Korean names are tested on text")
def test_korean_name_pdf(validator: Validator) -> None:
    verdict = check(validator, report(name="김민준"), names=["김 민준"])
    assert verdict.accepted and verdict.fields["name"] == "김민준"


def test_certificate_refused_with_directions(validator: Validator) -> None:
    verdict = check(validator, pdfs.make_certificate(completion=DONE, expiration=ENDS))
    assert verdict.kind == "certificate"
    assert codes(verdict.problems) == ["certificate_not_report"]
    assert verdict.fields["record_id"] == "12345678"


def test_certificate_accepted_when_allowed(validator: Validator) -> None:
    profile = require(kind=("report", "certificate"))
    verdict = check(validator, pdfs.make_certificate(completion=DONE, expiration=ENDS), profile)
    assert verdict.accepted, verdict.problems
    assert codes(verdict.warnings) == ["manual_check"]  # certificates list no modules
    assert verdict.needs_manual_check


def test_legacy_report(validator: Validator) -> None:
    verdict = check(validator, pdfs.make_legacy_report())
    assert verdict.kind == "legacy_report"
    # Every check applies to every kind: the applicant also hears that it expired long ago.
    assert codes(verdict.problems) == ["wrong_kind", "expired_old_course"]
    assert verdict.problems[1].params["year"] == "2017"
    allowed = check(validator, pdfs.make_legacy_report(expiration=ENDS), require(kind=("legacy_report",)))
    assert allowed.accepted, allowed.problems
    assert allowed.needs_manual_check
    assert codes(allowed.warnings) == ["no_verification_link"]
    assert allowed.fields["record_id"] == "12345678"


def test_wrong_course(validator: Validator) -> None:
    verdict = check(validator, report(course="Biomedical Research Investigators"))
    assert codes(verdict.problems) == ["wrong_course"]
    assert verdict.problems[0].params == {
        "found": "Biomedical Research Investigators",
        "needed": "Data or Specimens Only Research",
    }
    spaced = check(validator, report(course="data or  SPECIMENS only Research"))
    assert spaced.accepted


def test_expired_and_expiring(validator: Validator) -> None:
    expired = check(validator, report(completion=date(2022, 1, 5), expiration=date(2025, 1, 4)))
    assert codes(expired.problems) == ["expired"]
    assert expired.problems[0].params == {"date": "2025-01-04"}
    too_soon = check(validator, report(expiration=TODAY + timedelta(days=10)))
    assert codes(too_soon.problems) == ["expires_too_soon"]
    assert too_soon.problems[0].params == {"date": "2026-06-11", "days": "10", "min_days": "30"}
    soon = check(validator, report(expiration=TODAY + timedelta(days=60)))
    assert soon.accepted
    assert codes(soon.warnings) == ["expires_soon"]
    assert soon.warnings[0].params["days"] == "60"


@pytest.mark.parametrize(("severity", "accepted"), [("warn", True), ("reject", False), ("off", True)])
def test_name_mismatch(validator: Validator, severity: Severity, accepted: bool) -> None:
    verdict = check(validator, report(), require(name_matches_applicant=severity), names=["Bob Lee"])
    assert verdict.accepted is accepted
    found = codes(verdict.problems) + codes(verdict.warnings)
    assert found == ([] if severity == "off" else ["name_mismatch"])
    assert verdict.needs_manual_check is (severity == "warn")


def test_name_variants_match(validator: Validator) -> None:
    data = report(name="Alice B. Kim")
    for names in (["Kim, Alice"], ["alice kim"], ["A. Kim"], ["nickname", "Alice Kim"]):
        assert not check(validator, data, names=names).warnings, names


def test_score_too_low(validator: Validator) -> None:
    verdict = check(validator, report(score=85), require(min_score=90))
    assert codes(verdict.problems) == ["score_too_low"]
    assert verdict.problems[0].params == {"score": "85", "min": "90"}
    assert check(validator, report(score=95), require(min_score=90)).accepted


@pytest.mark.parametrize(("severity", "accepted"), [("reject", False), ("warn", True)])
def test_missing_module(validator: Validator, severity: Severity, accepted: bool) -> None:
    profile = require(modules=(ModuleRule("HIPAA", "Research and HIPAA Privacy Protections", severity),))
    verdict = check(validator, report(modules=pdfs.NO_HIPAA_MODULES), profile)
    assert verdict.accepted is accepted
    found = verdict.problems if severity == "reject" else verdict.warnings
    assert codes(found) == ["missing_module"]
    assert found[0].params == {"module": "Research and HIPAA Privacy Protections"}


@pytest.mark.parametrize(("severity", "accepted"), [("warn", True), ("reject", False)])
def test_refresher_stage(validator: Validator, severity: Severity, accepted: bool) -> None:
    verdict = check(validator, report(stage=pdfs.REFRESHER_STAGE), require(refresher_stage=severity))
    assert verdict.accepted is accepted
    assert codes(verdict.problems) + codes(verdict.warnings) == ["refresher_stage"]


@pytest.mark.parametrize(("severity", "accepted"), [("warn", True), ("reject", False), ("off", True)])
def test_no_verification_link(validator: Validator, severity: Severity, accepted: bool) -> None:
    verdict = check(validator, report(with_link=False), require(verification_link=severity))
    assert verdict.accepted is accepted
    assert codes(verdict.problems) + codes(verdict.warnings) == (
        [] if severity == "off" else ["no_verification_link"]
    )
    assert verdict.needs_manual_check is (severity == "warn")


def test_browser_reprint_link_only_in_annotation(validator: Validator) -> None:
    verdict = check(validator, report(layout="browser"))
    assert verdict.accepted
    assert verdict.fields["verification_url"] == pdfs.verify_url("12345678")


@pytest.mark.parametrize(
    ("changes", "detail"),
    [({"link_kind": "w"}, "link kind"), ({"link_record_id": "87654321"}, "link record id")],
)
def test_inconsistent_link(validator: Validator, changes: dict[str, str], detail: str) -> None:
    verdict = check(validator, report(**changes))
    assert codes(verdict.problems) == ["inconsistent"]
    assert detail in verdict.problems[0].params["detail"]


def test_missing_fields(validator: Validator) -> None:
    verdict = check(
        validator, pdfs.make_generic_pdf(["CITI Program", "COMPLETION REPORT - PART 1 OF 2", "Stage: 1"])
    )
    assert verdict.kind == "report"
    assert "missing_fields" in codes(verdict.problems)
    missing = next(f for f in verdict.problems if f.code == "missing_fields").params["missing"]
    assert missing == "Name, Record ID, Completion Date, Expiration Date, Course Learner Group"


def test_not_citi(validator: Validator) -> None:
    verdict = check(validator, pdfs.make_generic_pdf(["Quarterly budget", "Total: 1,000 EUR"]))
    assert (verdict.kind, codes(verdict.problems)) == ("unknown", ["not_citi"])


def test_size_checked_first(validator: Validator) -> None:
    small = dataclasses.replace(CITI, max_bytes=1000)
    verdict = check(validator, report(), small)
    assert codes(verdict.problems) == ["too_large"] and verdict.sha256 == ""
    assert verdict.problems[0].params == {"max_mb": "0.001"}


def test_image_to_pdf_only_profile(validator: Validator) -> None:
    assert codes(check(validator, pdfs.make_png()).problems) == ["not_pdf"]


@pytest.mark.parametrize("make", [pdfs.make_png, pdfs.make_jpeg])
def test_generic_images_need_manual_check(validator: Validator, make: object) -> None:
    verdict = check(validator, make(), PROOF)  # type: ignore[operator]
    assert verdict.accepted and verdict.kind == "image" and verdict.needs_manual_check
    assert codes(verdict.warnings) == ["manual_check"]


def test_generic_wrong_type_and_phrases(validator: Validator) -> None:
    pdf_only_images = dataclasses.replace(PROOF, accept=("png", "jpeg"))
    verdict = check(validator, pdfs.make_generic_pdf(), pdf_only_images)
    assert codes(verdict.problems) == ["wrong_file_type"]
    assert verdict.problems[0].params == {"accepted": "PNG, JPEG"}
    assert codes(check(validator, b"PK\x03\x04 zip", PROOF).problems) == ["wrong_file_type"]
    phrases = dataclasses.replace(
        PROOF, require=DocumentChecks(phrases=("credentialing application", "approved"))
    )
    ok = check(
        validator, pdfs.make_generic_pdf(["Your Credentialing  Application has been APPROVED."]), phrases
    )
    assert ok.accepted and ok.kind == "pdf"
    bad = check(validator, pdfs.make_generic_pdf(["Your application is pending."]), phrases)
    assert codes(bad.problems) == ["missing_phrase", "missing_phrase"]
    assert bad.problems[0].params == {"phrase": "credentialing application"}
    scan = check(validator, pdfs.make_image_only_pdf(), PROOF)
    assert scan.accepted and scan.needs_manual_check and codes(scan.warnings) == ["manual_check"]
    assert codes(check(validator, pdfs.make_image_only_pdf(), phrases).problems) == ["no_text"]


def test_concurrent_calls_do_not_mix(validator: Validator) -> None:
    files = {rid: report(record_id=rid) for rid in ("11111111", "22222222", "33333333", "44444444")}
    results: dict[str, list[str]] = {rid: [] for rid in files}

    def run(rid: str) -> None:
        for _ in range(5):
            results[rid].append(str(check(validator, files[rid]).fields["record_id"]))

    threads = [threading.Thread(target=run, args=(rid,)) for rid in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got == [rid] * 5 for rid, got in results.items())


def test_two_workers_pool() -> None:
    with Validator(workers=2) as v:
        assert len(set(v.worker_pids)) == 2
        assert check(v, report()).accepted


def test_other_institution_is_flagged_for_reviewers_or_refused(validator: Validator) -> None:
    data = pdfs.make_report(completion=DONE, expiration=ENDS, institution="Example University")
    warned = check(validator, data)
    assert warned.accepted and [w.code for w in warned.warnings] == ["wrong_institution"]
    assert warned.warnings[0].params["found"] == "Example University"
    refused = check(validator, data, require(wrong_institution="reject"))
    assert not refused.accepted and [p.code for p in refused.problems] == ["wrong_institution"]
    mit = check(validator, pdfs.make_report(completion=DONE, expiration=ENDS))
    assert mit.accepted and not mit.warnings
