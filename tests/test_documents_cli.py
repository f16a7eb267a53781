"""`accessbot check`: exit codes, human and JSON output, usage errors without tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.documents.check_cli import main
from tests import citi_pdfs as pdfs

ROOT = Path(__file__).resolve().parent.parent
RULES = str(ROOT / "rules.yaml")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--rules", RULES] if "--rules" not in argv else list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    made = {
        "report": pdfs.make_report(),
        "certificate": pdfs.make_certificate(),
        "png": pdfs.make_png(),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


def test_accepted_report_human(files: dict[str, Path]) -> None:
    code, out, err = run(str(files["report"]), "--name", "Alice Kim")
    assert code == 0, err
    assert "record_id: 12345678" in out and "Research and HIPAA Privacy Protections" in out
    assert out.rstrip().endswith("ACCEPTED")


def test_rejected_certificate_json_korean(files: dict[str, Path]) -> None:
    code, out, _ = run("check", str(files["certificate"]), "--json", "--lang", "ko")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"accepted", "outcome", "unread_fields", "kind", "fields", "problems", "warnings"}
    assert data["outcome"] == "rejected"
    assert data["accepted"] is False and data["kind"] == "certificate"
    assert data["problems"][0]["code"] == "certificate_not_report"
    assert "수료 보고서" in data["problems"][0]["message"]


def test_name_mismatch_warning_and_profile(files: dict[str, Path]) -> None:
    code, out, _ = run(str(files["report"]), "--name", "Bob Lee", "--json")
    assert code == 0
    assert [w["code"] for w in json.loads(out)["warnings"]] == ["name_mismatch"]
    code, out, _ = run(str(files["png"]), "--profile", "approval_proof", "--json")
    assert code == 0 and json.loads(out)["kind"] == "image"
    assert json.loads(out)["outcome"] == "needs_review"


def test_usage_errors(files: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path / "missing.pdf"))
    assert (code, out) == (2, "") and "cannot read" in err
    code, _, err = run(str(files["report"]), "--profile", "nope")
    assert code == 2 and "unknown document profile" in err and "citi_report" in err
    broken = tmp_path / "rules.yaml"
    broken.write_text("version: 1\nsteps: [\n", encoding="utf-8")
    code, _, err = run(str(files["report"]), "--rules", str(broken))
    assert code == 2 and "Traceback" not in err and str(broken) in err
    code, _, err = run()
    assert code == 2 and "usage" in err
    code, _, err = run(str(files["report"]), "--lang", "fr")
    assert code == 2


def test_every_hostile_file_gets_a_code_and_exit_1(tmp_path: Path) -> None:
    """The issue's promise for admins checking files by hand: a code, exit 1, never a traceback."""
    from tests.hostile_pdfs import CORPUS

    for name, (build, codes) in CORPUS.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(build())
        code, out, err = run(str(path), "--json")
        assert code == 1, name
        verdict = json.loads(out)
        assert verdict["accepted"] is False
        assert {p["code"] for p in verdict["problems"]} & codes, (name, verdict["problems"])
        assert "Traceback" not in err


def _producer_files(folder: Path) -> dict[str, tuple[bytes, int, str]]:
    """One report per producer: (bytes, exit code, last line)."""
    from tests.fixtures.citi import binary, layouts

    return {
        "fpdf2": (layouts.fpdf_table_report(), 0, "ACCEPTED"),
        "reportlab": (layouts.rl_table_report(), 0, "ACCEPTED"),
        "chromium": (binary.read("chromium_report.pdf"), 0, "ACCEPTED"),
        "libreoffice": (binary.read("libreoffice_with_certificate.pdf"), 0, "ACCEPTED"),
        "pypdf": (layouts.rotate_pages(layouts.rl_table_report(), 90), 0, "ACCEPTED"),
        "hand-written": (layouts.raw_type3_report(), 0, "ACCEPTED"),
        "chromium-part2": (binary.read("chromium_part2.pdf"), 1, "REJECTED"),
        "reportlab-scan": (layouts.rl_scan(), 1, "REJECTED"),
    }


def test_right_verdict_on_six_producers(tmp_path: Path) -> None:
    for producer, (data, expected, last) in _producer_files(tmp_path).items():
        path = tmp_path / f"{producer}.pdf"
        path.write_bytes(data)
        code, out, err = run(str(path), "--name", "Alice Kim")
        assert (code, out.rstrip().splitlines()[-1]) == (expected, last), (producer, out, err)
        if expected == 0:
            assert "modules (10):" in out, (producer, out)
