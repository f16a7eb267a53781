"""Files forwarded to reviewers are safe, and the generic (approval-proof) step says what it checked."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot.documents import Validator, Verdict
from bot.rules import DocumentChecks, DocumentProfile
from bot.rules_loader import load_rules
from tests import citi_pdfs as pdfs
from tests.fixtures.citi.layouts import with_attachment, with_javascript, with_page_open_action

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules.yaml")
CITI = RULES.documents["citi_report"]
PROOF = RULES.documents["approval_proof"]


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        v.warm_up()
        yield v


def check(v: Validator, data: bytes, profile: DocumentProfile = PROOF, filename: str = "x") -> Verdict:
    return v.validate(
        data,
        filename=filename,
        content_type=None,
        profile=profile,
        applicant_names=["Alice Kim"],
        today=date.today(),
    )


def codes(verdict: Verdict) -> list[str]:
    return [p.code for p in verdict.problems]


@pytest.mark.parametrize("make", [with_javascript, with_attachment], ids=["javascript", "attachment"])
def test_pdf_with_active_content_refused(validator: Validator, make: object) -> None:
    data = make(pdfs.make_report())  # type: ignore[operator]
    for profile in (CITI, PROOF):
        verdict = check(validator, data, profile)
        assert codes(verdict) == ["active_content"], verdict.problems
        assert verdict.safe_data == b""


def test_raw_active_names_refused(validator: Validator) -> None:
    from tests.hostile_pdfs import raw_pdf

    data = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ]
    )
    assert codes(check(validator, data)) == ["active_content"]


def test_harmless_open_action_is_fine(validator: Validator) -> None:
    verdict = check(validator, with_page_open_action(pdfs.make_report()), CITI)
    assert verdict.outcome == "accepted", verdict.problems
    assert verdict.safe_extension == ".pdf" and verdict.safe_data.startswith(b"%PDF")


def _png_with_metadata() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 37.4563 N 126.9520 E; Author: Alice Kim")
    out = io.BytesIO()
    Image.new("RGB", (60, 30), (10, 200, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue() + b"<html><script>alert(1)</script></html>"  # a polyglot tail too


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (60, 30), (200, 10, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 27.0, 22.0), 3: "E", 4: (126.0, 57.0, 7.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_images_reencoded_without_metadata(validator: Validator) -> None:
    png = _png_with_metadata()
    verdict = check(validator, png, filename="../../etc/passwd.exe")
    assert verdict.outcome == "needs_review" and verdict.accepted and not verdict.checked
    assert verdict.safe_extension == ".png"
    assert verdict.safe_data.startswith(pdfs.make_png()[:8])
    assert b"GPS" not in verdict.safe_data and b"<html" not in verdict.safe_data
    assert Image.open(io.BytesIO(verdict.safe_data)).size == (60, 30)

    jpeg = _jpeg_with_gps()
    assert b"PhoneMaker" in jpeg
    verdict = check(validator, jpeg, filename="photo.png")
    assert verdict.safe_extension == ".jpg" and verdict.file_type == "jpeg"
    assert b"PhoneMaker" not in verdict.safe_data and b"Exif" not in verdict.safe_data
    assert not Image.open(io.BytesIO(verdict.safe_data)).getexif()


@pytest.mark.parametrize(
    "data",
    [
        pdfs.make_png()[:8] + b"<html><body><script>alert(1)</script></body></html>",
        pdfs.make_png()[:40],  # truncated
        b"\xff\xd8\xff\xe0" + b"<?php system($_GET['c']); ?>" * 10,
    ],
    ids=["png_header_then_html", "truncated_png", "jpeg_header_then_php"],
)
def test_image_must_decode_as_its_type(validator: Validator, data: bytes) -> None:
    verdict = check(validator, data)
    assert codes(verdict) == ["bad_image"]
    assert verdict.safe_data == b""


def test_generic_pdf_is_received_not_accepted_without_a_real_check(validator: Validator) -> None:
    verdict = check(validator, pdfs.make_generic_pdf(["MIMIC-CXR Files"]))
    assert verdict.accepted and verdict.outcome == "needs_review" and not verdict.checked
    assert [w.code for w in verdict.warnings] == ["manual_check"]


def test_generic_phrases_work_across_readings_and_ligatures(validator: Validator) -> None:
    phrases = dataclasses.replace(
        PROOF, require=DocumentChecks(phrases=("MIMIC-CXR", "Files", "credentialed"))
    )
    ok = check(
        validator, pdfs.make_generic_pdf(["MIMIC-CXR Database \ufb01les", "You are credentialed."]), phrases
    )
    assert ok.outcome == "accepted" and ok.checked, ok.problems
    image = check(validator, pdfs.make_png(), phrases)
    assert image.outcome == "needs_review" and not image.checked  # an image cannot show its phrases
    missing = check(validator, pdfs.make_generic_pdf(["Project files"]), phrases)
    assert [p.params["phrase"] for p in missing.problems] == ["MIMIC-CXR", "credentialed"]
