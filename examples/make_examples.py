"""Regenerate the example documents in examples/ (made-up people; no real person's data).

.venv/bin/python -m examples.make_examples
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.citi_pdfs import make_certificate, make_generic_pdf, make_report
from tests.fixtures.citi import binary

HERE = Path(__file__).resolve().parent


def main() -> None:
    done, ends = date(2026, 11, 2), date(2029, 11, 1)
    (HERE / "citi_report_alice.pdf").write_bytes(
        make_report(
            name="Alice Kim",
            record_id="48151623",
            completion=done,
            expiration=ends,
            email="alice@example.edu",
        )
    )
    (HERE / "citi_certificate_alice.pdf").write_bytes(
        make_certificate(name="Alice Kim", record_id="48151623", completion=done, expiration=ends)
    )
    (HERE / "citi_report_expired.pdf").write_bytes(
        make_report(
            name="Alice Kim", record_id="42424242", completion=date(2022, 1, 5), expiration=date(2025, 1, 4)
        )
    )
    # Real producers (rebuilt by tests/fixtures/citi/build_binary.py): a browser's print of the report
    # (header, footer with the verify page's address and "1/2", the HIPAA row wrapped between "(ID:"
    # and its number), and an office suite's export of the report merged with its certificate.
    (HERE / "citi_report_browser_print.pdf").write_bytes(binary.read("chromium_report.pdf"))
    (HERE / "citi_report_with_certificate.pdf").write_bytes(binary.read("libreoffice_with_certificate.pdf"))
    (HERE / "approval_proof.pdf").write_bytes(
        make_generic_pdf(
            (
                "PhysioNet",
                "MIMIC-CXR Database v2.1.0",
                "Files",
                "You have access to this project. Download the files below.",
            )
        )
    )


if __name__ == "__main__":
    main()
