"""Every problem code has an English and a Korean message with the same placeholders; docs list every code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.documents import CODES, Finding, render_problem
from bot.i18n import Translator

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


@pytest.mark.parametrize("code", CODES)
def test_both_languages_same_placeholders(translator: Translator, code: str) -> None:
    en = translator.catalog["en"][f"problem.{code}"]
    ko = translator.catalog["ko"][f"problem.{code}"]
    assert _placeholders(en) == _placeholders(ko)
    assert re.search(r"[\uac00-\ud7a3]", ko), "the Korean text must be Korean"
    assert all(len(sentence) < 160 for sentence in re.split(r"(?<=[.:])\s", en)), "keep sentences short"


def test_no_stray_keys(translator: Translator) -> None:
    for lang in ("en", "ko"):
        keys = {k.removeprefix("problem.") for k in translator.catalog[lang] if k.startswith("problem.")}
        assert keys == set(CODES)


def test_render(translator: Translator) -> None:
    finding = Finding("wrong_course", {"found": "Biomedical", "needed": "Data or Specimens Only Research"})
    assert '"Biomedical"' in render_problem(translator, "en", finding)
    assert "Biomedical" in render_problem(translator, "ko", finding)
    cert = render_problem(translator, "en", Finding("certificate_not_report"))
    assert "Records" in cert and "Completion Records" in cert and "View-Print-Share" in cert
    assert "{" not in render_problem(translator, "ko", Finding("manual_check"))


def test_docs_list_every_code() -> None:
    doc = (ROOT / "docs" / "problem-codes.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"`{code}`" in doc
