"""`accessbot rules diff OLD NEW` on an edit of the shipped rules.yaml: a step added, a step removed,
min_score raised; the data folder is read beside a live bot and left as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.models import Applicant, DocumentRecord, Review, StepState
from bot.rules import Rules
from bot.rules_diff import diff_rules, stricter_checks, summarise_diff
from bot.rules_loader import load_rules, parse_rules
from bot.store import Store
from tests.conftest import RULES, Clock

ETHICS = """  - id: ethics_quiz
    title: {en: "Answer the lab's data ethics quiz", ko: "연구실 데이터 윤리 퀴즈"}
    help: {en: "Five questions.", ko: "다섯 문제입니다."}
    complete_by: confirm

  - id: lab_review
"""


def edited_rules_text() -> str:
    """The shipped rules with a step added, one removed and min_score raised."""
    text = RULES.read_text(encoding="utf-8")
    text = text.replace("  - id: lab_review\n", ETHICS, 1)
    removed = re.sub(
        r"  - id: citi_on_physionet\n.*?(?=  - id: credentialing\n)", "", text, count=1, flags=re.S
    )
    assert removed != text
    return removed.replace(
        "      unique_record_id: true\n", "      unique_record_id: true\n      min_score: 90\n", 1
    )


def _person(store: Store, rules: Rules, name: str, upto: str, score: str | None) -> None:
    key = f"console:{name}"
    store.ensure(key, lang="en")
    at = store.now()

    def walk(a: Applicant) -> None:
        for step in rules.steps:
            if step.id == upto:
                break
            evidence = {"answer": "kim_j"} if step.id == "physionet_account" else {}
            a.steps[step.id] = StepState("done", at, evidence)
        fields = {"reported_score": score} if score else {}
        a.documents.append(DocumentRecord(f"{name}sha", "citi_training", at, True, "report", fields=fields))

    store.update(key, walk)


def _approve(a: Applicant) -> None:
    a.steps["lab_review"] = StepState("done", a.created)
    a.approved_at = a.created


@pytest.fixture
def data(tmp_path: Path, clock: Clock) -> Path:
    rules = load_rules(RULES)
    folder = tmp_path / "data"
    with Store(folder, clock=clock) as store:
        _person(store, rules, "alice", "lab_review", "80")  # package pending
        store.create_review(Review("r1", "console:alice", "pending", store.now(), "console"))
        store.update("console:alice", lambda a: setattr(a, "review_id", "r1"))
        _person(store, rules, "bob", "", None)  # approved, no score recorded
        store.update("console:bob", _approve)
        _person(store, rules, "carol", "credentialing", "95")
        _person(store, rules, "erin", "credentialing", "85")
        _person(store, rules, "fay", "citi_training", None)  # nothing touched by the change
    return folder


def test_the_diff_says_who_is_affected(data: Path) -> None:
    old, new = load_rules(RULES), parse_rules(edited_rules_text())
    with Store(data, exclusive=False) as store:
        diff = diff_rules(old, new, store.all(), store.reviews())
        text = summarise_diff(old, new, store)
    assert diff.steps_added == ["ethics_quiz"] and diff.steps_removed == ["citi_on_physionet"]
    assert diff.stricter == {"citi_training": ["min_score none → 90"]}
    changes = {a.key: a.detail for a in diff.current_changes}
    assert changes == {
        "console:alice": "8. lab_review → 7. ethics_quiz",
        "console:bob": "finished → 7. ethics_quiz",
    }
    assert {a.key for a in diff.done_removed} == {
        "console:alice",
        "console:bob",
        "console:carol",
        "console:erin",
    }
    assert {a.key for a in diff.done_stricter} == {
        "console:alice",
        "console:bob",
        "console:erin",
    }  # carol has 95
    assert [(a.key, a.detail) for a in diff.pending_need_document] == [("console:alice", "citi_training")]
    assert [(a.key, a.detail) for a in diff.approved_changed] == [
        ("console:bob", "would have to do 7. ethics_quiz; stricter checks on citi_training")
    ]
    assert "+ ethics_quiz (added)" in text and "- citi_on_physionet (removed)" in text
    assert "pending packages that would need a new document (1):\n    console:alice: citi_training" in text
    assert "console:fay" not in text and "of 5 applicant(s)" in text


def test_no_change_affects_nobody(data: Path) -> None:
    rules = load_rules(RULES)
    with Store(data, exclusive=False) as store:
        text = summarise_diff(rules, rules, store)
    assert "none that changes what applicants must do" in text and text.endswith("  nobody")


def test_stricter_checks_in_words() -> None:
    old = load_rules(RULES).documents["citi_report"].require
    looser = (
        parse_rules(
            RULES.read_text(encoding="utf-8").replace("wrong_institution: warn", 'wrong_institution: "off"')
        )
        .documents["citi_report"]
        .require
    )
    assert stricter_checks(old, old) == [] and stricter_checks(old, looser) == []
    assert stricter_checks(looser, old) == ["wrong_institution off → warn"]


def test_the_command_reads_beside_a_live_bot_and_writes_nothing(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "rules.new.yaml"
    new.write_text(edited_rules_text(), encoding="utf-8")
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(data))

    def files() -> dict[str, tuple[int, int]]:
        return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in data.iterdir()}

    with Store(data):  # the live bot holds the folder's lock
        before = files()
        assert cli_main(["rules", "diff", str(RULES), str(new)]) == 0
        assert files() == before
    out = capsys.readouterr().out
    assert "approved members whose access would change (1)" in out
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nsteps: nope\n", encoding="utf-8")
    assert cli_main(["rules", "diff", str(RULES), str(bad)]) == 1
