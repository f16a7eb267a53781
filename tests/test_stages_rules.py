"""rules.yaml `stages`: a good list loads; every mistake is refused naming its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.rules_loader import RulesError, load_rules, parse_rules
from tests.conftest import RULES

SHIPPED = RULES.read_text(encoding="utf-8")

GOOD = """
stages:
  - id: supervisor
    title: {en: "supervisor", ko: "지도교수"}
    where: dm
    users: ["console:prof", "console:prof2"]
    approvals_required: 2
  - id: data_team
    title: {en: "data team", ko: "데이터 팀"}
    where: channel
    role: reviewers
"""


def _errors(stages: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(SHIPPED + stages, "rules.yaml")
    return str(caught.value).splitlines()


def _line(stages: str, needle: str, occurrence: int = 1) -> int:
    """The line in SHIPPED + stages of the `occurrence`th line of `stages` holding `needle`."""
    found = [i for i, line in enumerate(stages.splitlines()) if needle in line]
    return len(SHIPPED.splitlines()) + 1 + found[occurrence - 1]


def test_the_shipped_file_has_stages_off_and_its_commented_example_is_valid() -> None:
    shipped = load_rules(RULES)
    assert shipped.stages == ()
    example = [line for line in SHIPPED.splitlines() if line.startswith("# ") and "stages:" in line]
    assert example, "rules.yaml shows a commented example of stages"
    start = SHIPPED.index("# stages:")
    block = []
    for line in SHIPPED[start:].splitlines():
        if not line.startswith("#"):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    text = SHIPPED.replace('users: ["console:reviewer"', 'users: ["slack:U0PI", "console:reviewer"', 1)
    rules = parse_rules(text + "\n".join(block) + "\n", "rules.yaml")
    assert [(s.id, s.where, s.approvals_required) for s in rules.stages] == [
        ("supervisor", "dm", 1),
        ("data_team", "channel", 2),
    ]


def test_good_stages_load_and_their_reviewers_count_as_reviewers() -> None:
    rules = parse_rules(SHIPPED + GOOD, "rules.yaml")
    assert [s.id for s in rules.stages] == ["supervisor", "data_team"]
    assert rules.stages[0].title.get("ko") == "지도교수"
    assert rules.is_reviewer("console:prof") and rules.is_reviewer("console:reviewer")
    assert not rules.is_reviewer("console:mallory")


def test_ids_must_be_well_formed_and_unique() -> None:
    stages = GOOD.replace("id: data_team", "id: supervisor").replace(
        "id: supervisor\n", "id: Supervisor\n", 1
    )
    errors = _errors(stages)
    assert errors == [
        f"rules.yaml:{_line(stages, 'id: Supervisor')}: stages[0].id must be lower-case letters, digits"
        " and _ (got 'Supervisor')",
    ]
    stages = GOOD.replace("id: data_team", "id: supervisor")
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'id: supervisor', 2)}: stages[1].id 'supervisor' is already used by"
        " stages[0]"
    ]


def test_titles_are_needed_in_every_language() -> None:
    for title in ('"data team"', '{en: "data team"}'):  # a plain string is English only
        stages = GOOD.replace('{en: "data team", ko: "데이터 팀"}', title)
        line = _line(stages, "title: " + title)
        assert _errors(stages) == [
            f"rules.yaml:{line}: stages[1].title needs a title in every language of `languages` (missing: ko)"
        ]


def test_counts_are_at_least_one_and_at_most_the_listed_reviewers() -> None:
    stages = GOOD.replace("approvals_required: 2", "approvals_required: 3")
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'approvals_required: 3')}: stages[0].approvals_required is 3, but the"
        " stage has at most 2 reviewer(s) to approve"
    ]
    stages = GOOD.replace("approvals_required: 2", "approvals_required: 0")
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'approvals_required: 0')}: stages[0].approvals_required"
        " must be at least 1"
    ]
    # A role counts its list: the shipped file has two reviewers.
    stages = GOOD + "    approvals_required: 3\n"
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'approvals_required: 3')}: stages[1].approvals_required is 3, but the"
        " stage has at most 2 reviewer(s) to approve"
    ]


def test_at_most_one_stage_in_the_reviewers_channel() -> None:
    stages = GOOD.replace("where: dm", "where: channel")
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'where: channel', 2)}: stages[1].where only one stage can be in the"
        " reviewers channel (stages[0] is): a second post there would take votes for the wrong stage;"
        " use `dm` for the other"
    ]


def test_reviewers_are_stable_ids_and_named_by_is_an_answer_step_with_a_fallback() -> None:
    stages = GOOD.replace('"console:prof2"', '"Prof Kim"')
    assert _errors(stages) == [
        f"rules.yaml:{_line(stages, 'Prof Kim')}: stages[0].users[1] must look like platform:id"
        " (got 'Prof Kim')"
    ]
    named = GOOD.replace(
        '    users: ["console:prof", "console:prof2"]\n    approvals_required: 2\n',
        "    named_by: citi_training\n    names: {prof kim: 'console:prof'}\n",
    )
    errors = _errors(named)
    assert errors == [
        f"rules.yaml:{_line(named, 'named_by: citi_training')}: stages[0].named_by must be the id of an"
        " answer step (complete_by: answer), got 'citi_training'",
        f"rules.yaml:{_line(named, 'named_by: citi_training')}: stages[0].named_by needs `users` or"
        " `role` too: who reviews when the answer names nobody known",
    ]
    stray = GOOD.replace("    role: reviewers\n", "    role: reviewers\n    names: {kim: 'console:kim'}\n")
    assert _errors(stray) == [
        f"rules.yaml:{_line(stray, 'names: {kim')}: stages[1].names is only for a stage with named_by"
        " (the step whose answer names the reviewer)"
    ]


def test_rules_check_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    stages = GOOD.replace("where: dm", "where: email")
    path.write_text(SHIPPED + stages, encoding="utf-8")
    assert cli_main(["rules", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{_line(stages, 'where: email')}: stages[0].where must be one of dm, channel" in err, err
    path.write_text(SHIPPED + GOOD, encoding="utf-8")
    assert cli_main(["rules", "check", str(path)]) == 0
