"""rules.yaml: the shipped file is valid; every kind of mistake is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.rules_loader import (
    RulesError,
    RulesHolder,
    RulesNotice,
    load_rules,
    missing_translations,
    parse_rules,
)
from tests.conftest import RULES

SHIPPED = RULES.read_text(encoding="utf-8")


def test_shipped_rules_are_valid_and_fully_translated() -> None:
    rules = load_rules(RULES)
    assert [s.id for s in rules.steps][:2] == ["physionet_account", "citi_training"]
    assert rules.steps[-1].complete_by == "review"
    assert missing_translations(rules) == []
    assert "console:reviewer" in rules.reviewers.users and rules.is_admin("console:admin")


def _errors(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return str(caught.value).splitlines()


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def test_wrong_choice_names_line_and_field() -> None:
    text = SHIPPED.replace("complete_by: confirm", "complete_by: upload", 1)
    line = _line_of(text, "complete_by: upload")
    assert _errors(text) == [
        f"rules.yaml:{line}: step 3 (citi_on_physionet).complete_by"
        " must be one of confirm, answer, document, form, review (got 'upload')"
    ]


def test_unknown_key_is_an_error() -> None:
    text = SHIPPED.replace("  approvals_required: 1", "  approvals_required: 1\n  aprovals: 2")
    (error,) = _errors(text)
    assert f"rules.yaml:{_line_of(text, 'aprovals: 2')}: reviewers.aprovals is not a known setting" in error


def test_wrong_type_is_an_error() -> None:
    text = SHIPPED.replace("approvals_required: 1", "approvals_required: two")
    (error,) = _errors(text)
    line = _line_of(text, "two")
    assert error == f"rules.yaml:{line}: reviewers.approvals_required must be a whole number (got 'two')"


def test_duplicate_step_id_is_an_error() -> None:
    text = SHIPPED.replace("id: citi_on_physionet", "id: citi_training")
    (error,) = _errors(text)
    line = _line_of(text, "id: citi_training", occurrence=2)
    used = "is already used by step 2 (citi_training)"
    assert error == f"rules.yaml:{line}: step 3 (citi_training).id 'citi_training' {used}"


def test_undefined_document_and_missing_ask_are_errors() -> None:
    text = SHIPPED.replace("document: approval_proof", "document: aproval_proof")
    assert any(
        "step 6 (approval_proof).document names an undefined document 'aproval_proof'" in e
        for e in _errors(text)
    )


def test_bad_yaml_names_the_line() -> None:
    text = SHIPPED.replace("language: en\n", "language: [en\n")
    (error,) = _errors(text)
    assert error.startswith("rules.yaml:") and "is not valid YAML" in error


def test_duplicate_yaml_key_is_an_error() -> None:
    text = SHIPPED.replace("language: en\n", "language: en\nlanguage: ko\n")
    assert any("language is given twice" in e for e in _errors(text))


def test_several_problems_are_all_reported() -> None:
    text = SHIPPED.replace("approvals_required: 1", "approvals_required: 0").replace(
        "version: 1", "version: 2"
    )
    errors = _errors(text)
    assert any("version must be one of 1" in e for e in errors)


def test_rules_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["rules", "check", str(RULES)]) == 0
    broken = tmp_path / "rules.yaml"
    broken.write_text(SHIPPED.replace("complete_by: confirm", "complete_by: upload", 1), encoding="utf-8")
    assert cli_main(["rules", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:" in err and "step 3 (citi_on_physionet).complete_by must be one of" in err
    assert cli_main(["rules", "check", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot be read" in capsys.readouterr().err


def test_reload_keeps_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    holder = RulesHolder(path)
    path.write_text(SHIPPED.replace("version: 1", "version: one"), encoding="utf-8")
    error = holder.reload()
    assert error is not None and "version" in str(error)
    assert holder.current.version == 1 and len(holder.current.steps) == 8
    path.write_text(SHIPPED.replace("approvals_required: 1", "approvals_required: 2"), encoding="utf-8")
    assert holder.reload() is None and holder.current.reviewers.approvals_required == 2


# -- safety: catastrophic patterns, deep nesting, huge files, live reloads ------------------------------

CATASTROPHIC = [
    r"^(a+)+$",
    r"(a|aa)*b",
    r"(.*a){12}",
    r"^(\w+\s?)+$",
    r"(x+x+)+y",
    r"^([a-z]+-?)+$",
    r"(a|a)*",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_rules_check_refuses_a_catastrophic_pattern_naming_the_line(
    pattern: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.yaml"
    text = SHIPPED.replace('answer_pattern: "^[A-Za-z0-9_.-]{3,50}$"', f"answer_pattern: '{pattern}'")
    path.write_text(text, encoding="utf-8")
    assert cli_main(["rules", "check", str(path)]) == 1
    line = _line_of(text, "answer_pattern:")
    err = capsys.readouterr().err
    assert f"{path}:{line}: step 1 (physionet_account).answer_pattern may take exponential time" in err, err


def test_a_catastrophic_module_pattern_is_refused_too() -> None:
    text = SHIPPED.replace('pattern: "HIPAA"', 'pattern: "(H+)+IPAA"', 1)
    assert "(H+)+IPAA" in text
    (error,) = _errors(text)
    assert f"rules.yaml:{_line_of(text, '(H+)+IPAA')}: documents." in error and "exponential" in error


@pytest.mark.parametrize(
    "pattern", [r"^[A-Za-z0-9_.-]{3,50}$", r"^[a-z]+(-[a-z]+)*$", r"(\d{3}-)+\d{4}", r"^(yes|no)$"]
)
def test_safe_patterns_are_accepted(pattern: str) -> None:
    from bot.safe_regex import problem

    assert problem(pattern) is None


def test_every_match_is_bounded_in_time() -> None:
    import time

    from bot.safe_regex import fullmatch

    start = time.monotonic()
    assert fullmatch(r"(?:(a+)\1)+b", "a" * 200, timeout_s=0.1) is None  # slips past Python's re
    assert time.monotonic() - start < 1.0
    assert fullmatch(r"^[A-Za-z0-9_.-]{3,50}$", "alice_kim") is True
    assert fullmatch(r"^[A-Za-z0-9_.-]{3,50}$", "a" * 30 + "!") is False
    assert fullmatch(r"^(a+)+$", "a" * 30 + "b", timeout_s=0.1) is False  # the 15.6 s answer of the issue


def test_deep_nesting_is_an_error_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nsteps: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert cli_main(["rules", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: nests lists and mappings more than 32 levels deep" in err and "Traceback" not in err


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (error,) = _errors("\n".join(lines) + "\n")
    assert "expands to more than 200,000 values" in error


def test_a_huge_rules_file_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    with path.open("wb") as handle:
        handle.write(SHIPPED.encode())
        handle.truncate(50 * 1024 * 1024)  # 50 MB (sparse)
    assert cli_main(["rules", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "is 52,428,800 bytes; rules.yaml may be at most 1,048,576" in err


def test_a_broken_live_reload_is_told_once_per_distinct_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    holder = RulesHolder(path)
    broken = SHIPPED.replace("complete_by: confirm", "complete_by: upload", 1)
    path.write_text(broken, encoding="utf-8")
    notice = holder.reload_notice()
    assert notice is not None and not notice.ok
    assert (
        "step 3 (citi_on_physionet).complete_by must be one of" in notice.text and "steps[" not in notice.text
    )
    path.write_text(broken + "\n# saved again\n", encoding="utf-8")
    assert holder.reload_notice() is None  # the same error: the admins were told already
    path.write_text(broken.replace("approvals_required: 1", "approvals_required: two"), encoding="utf-8")
    again = holder.reload_notice()
    assert again is not None and "approvals_required" in again.text  # a new error is told
    path.write_text(SHIPPED, encoding="utf-8")
    assert holder.reload_notice() == RulesNotice(True)
    assert len(holder.current.steps) == 8
