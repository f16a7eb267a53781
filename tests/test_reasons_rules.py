"""Canned reasons in rules.yaml: checked by `rules check` (naming the line), and how a reviewer's
choice becomes what the applicant reads (bot/review/reasons.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.review import reasons
from bot.rules_loader import RulesError, load_rules, parse_rules
from bot.schema import LocalText
from tests.conftest import RULES

SHIPPED = RULES.read_text(encoding="utf-8")


def _errors(text: str) -> str:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return str(caught.value)


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    lines = text.splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if needle in line]
    return hits[nth - 1]


def test_shipped_reasons_cover_the_issue_and_both_languages() -> None:
    rules = load_rules(RULES)
    ids = [r.id for r in rules.reasons]
    assert ids == [
        "wrong_course",
        "missing_hipaa",
        "name_mismatch",
        "expired",
        "certificate_not_report",
        "other",
    ]
    assert all(set(r.text.texts) == {"en", "ko"} for r in rules.reasons)
    assert [r.id for r in rules.reasons if r.needs_text] == ["other"]
    assert rules.reasons_for("reject") == rules.reasons_for("return") == rules.reasons


def test_a_reused_reason_id_is_refused_naming_its_line() -> None:
    text = SHIPPED.replace("  - id: expired\n", "  - id: wrong_course\n", 1)
    errors = _errors(text)
    line = _line_of(text, "  - id: wrong_course", 2)
    assert f"rules.yaml:{line}" in errors and "'wrong_course' is already used by reasons[0]" in errors


def test_a_reason_without_korean_is_refused_naming_its_line() -> None:
    old = '      ko: "보고서의 이름이 신청자 이름과 다릅니다. 본인 이름으로 된 보고서를 보내 주세요."\n'
    assert old in SHIPPED
    text = SHIPPED.replace(old, "", 1)
    errors = _errors(text)
    assert "reasons[2].text" in errors and "needs a ko text" in errors
    assert f"rules.yaml:{_line_of(text, 'The name on the report does not match')}:" in errors


def test_a_bad_id_and_an_unknown_use_are_refused() -> None:
    text = SHIPPED.replace("  - id: expired\n", "  - id: Expired Report\n", 1)
    errors = _errors(text)
    assert "reasons[3].id" in errors and "lower-case" in errors
    assert f"rules.yaml:{_line_of(text, 'id: Expired Report')}" in errors
    text = SHIPPED.replace("  - id: expired\n", "  - id: expired\n    offered_for: [approve]\n", 1)
    errors = _errors(text)
    assert "reasons[3].offered_for[0] must be one of reject, return" in errors
    assert f"rules.yaml:{_line_of(text, 'offered_for: [approve]')}" in errors


def test_no_reasons_is_valid_and_forms_ask_for_own_words(tmp_path: Path) -> None:
    start = SHIPPED.index("reasons:\n")
    end = SHIPPED.index("\nsteps:")
    text = SHIPPED[:start] + SHIPPED[end:]
    rules = parse_rules(text)
    assert rules.reasons == ()
    t = Translator().bound("en")
    fields = reasons.form_fields(rules, "return", t)
    assert [f.id for f in fields] == ["reason"] and fields[0].required
    assert reasons.from_text(rules, "return", "2") is not None  # a number is then just words
    assert reasons.menu(rules, "reject", t) == ""


def test_a_number_picks_a_reason_in_the_applicants_language_and_words_stay_as_typed() -> None:
    rules = load_rules(RULES)
    chosen = reasons.from_text(rules, "reject", "2")
    assert chosen is not None and chosen.id == "missing_hipaa"
    said = chosen.for_applicant()
    assert isinstance(said, LocalText) and "HIPAA 모듈" in said.get("ko") and "HIPAA module" in said.get("en")
    both = reasons.from_text(rules, "reject", "4: see page 2")
    assert both is not None and both.id == "expired" and both.note == "see page 2"
    assert both.text_in("ko").endswith("\nsee page 2") and "보수 교육" in both.text_in("ko")
    own = reasons.from_text(rules, "reject", "the scan is unreadable")
    assert own is not None and own.reason is None and own.for_applicant() == "the scan is unreadable"
    assert reasons.from_text(rules, "reject", "6") is None, "other needs the reviewer's own words"
    other = reasons.from_text(rules, "reject", "6 please use the lab's account")
    assert other is not None and other.for_applicant() == "please use the lab's account"
    assert reasons.from_text(rules, "reject", "  ") is None
    assert reasons.from_text(rules, "reject", "9 out of range") is not None  # not a reason: own words
    assert reasons.from_form(rules, "return", "certificate_not_report", "") is not None
    assert reasons.from_form(rules, "return", "", "") is None
    typed = reasons.from_form(rules, "return", "3", "")
    assert typed is not None and typed.id == "name_mismatch"


def test_the_menu_is_numbered_in_the_readers_language() -> None:
    rules = load_rules(RULES)
    ko = reasons.menu(rules, "return", Translator().bound("ko"))
    assert ko.splitlines()[0].startswith("1. 다른 과정의 보고서입니다")
    assert len(ko.splitlines()) == 6
