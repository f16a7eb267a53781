"""Exports people can use: CSV streamed row by row, XLSX with openpyxl, step titles in the admin's
language and a column that says each applicant's stage; no names, e-mails or document contents."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import admin
from bot.admin_cli import ReadOptions, admin_command
from bot.models import Applicant, Review, StepState
from bot.rules_loader import load_rules
from bot.settings import Settings
from bot.store import Store
from tests.conftest import RULES, Clock

RULES_ = load_rules(RULES)


def _done(upto: int, approved: bool = False) -> Callable[[Applicant], None]:
    def change(a: Applicant) -> None:
        for step in RULES_.steps[:upto]:
            a.steps[step.id] = StepState("done", a.created)
        if approved:
            a.approved_at = a.created

    return change


@pytest.fixture
def data(tmp_path: Path, clock: Clock) -> Path:
    folder = tmp_path / "data"
    with Store(folder, clock=clock) as store:
        for name, upto in (("alice", 2), ("bob", 7), ("carol", 8)):
            store.ensure(f"console:{name}", lang="en", display_name=f"{name.title()} Secretname")
            clock.advance(hours=1)
            store.update(f"console:{name}", _done(upto, approved=name == "carol"))
        store.create_review(Review("r1", "console:bob", "pending", store.now(), "console"))
        store.update("console:bob", lambda a: setattr(a, "review_id", "r1"))
        store.update(
            "console:alice", lambda a: a.steps.update(physionet_account=StepState("reopened", a.created))
        )
    return folder


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_columns_and_stages(data: Path) -> None:
    with Store(data, exclusive=False) as store:
        english = io.StringIO()
        admin.write_csv(english, store, RULES_)
        rows = _rows(english.getvalue())
        out = io.StringIO()
        assert admin.write_csv(out, store, RULES_, "ko") == 3
    header = rows[0]
    assert header[:6] == ["user", "language", "created", "current_step", "stage", "done"]
    assert header[6] == "Create a PhysioNet account" and header[-1] == "review"
    stages = {r[0]: r[4] for r in rows[1:]}
    assert stages["console:alice"] == "step 1 of 8 (to redo): Create a PhysioNet account"
    assert stages["console:bob"] == "waiting for the reviewers since 2026-03-02"
    assert stages["console:carol"] == "approved on 2026-03-02"
    assert "Secretname" not in out.getvalue() + str(rows)
    korean = _rows(out.getvalue())
    assert korean[0][6] == "PhysioNet 계정 만들기" and "검토 대기 중" in korean[2][4]


def test_csv_is_streamed(data: Path) -> None:
    class Counting(io.StringIO):
        writes = 0

        def write(self, s: str) -> int:
            self.writes += 1
            return super().write(s)

    stream = Counting()
    with Store(data, exclusive=False) as store:
        admin.write_csv(stream, store, RULES_)
    assert stream.writes >= 4  # one write per row, not one big string


def test_xlsx_from_the_command_line(data: Path, tmp_path: Path) -> None:
    import openpyxl

    target = tmp_path / "out.xlsx"
    out, err = io.StringIO(), io.StringIO()
    settings = Settings(data_dir=data, rules_path=RULES)
    assert admin_command(settings, "export", [], out, err, ReadOptions(xlsx=target, lang="ko")) == 0, (
        err.getvalue()
    )
    assert "3 applicant(s)" in out.getvalue()
    sheet = openpyxl.load_workbook(target, read_only=True)["applicants"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][6] == "PhysioNet 계정 만들기" and len(rows) == 4
    csv_out = io.StringIO()
    assert admin_command(settings, "export", [], csv_out, err) == 0
    assert _rows(csv_out.getvalue())[1][0] == "console:alice"


def test_xlsx_without_openpyxl_says_how(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    out, err = io.StringIO(), io.StringIO()
    settings = Settings(data_dir=data, rules_path=RULES)
    assert admin_command(settings, "export", [], out, err, ReadOptions(xlsx=tmp_path / "x.xlsx")) == 1
    assert "accessbot[xlsx]" in err.getvalue() and not (tmp_path / "x.xlsx").exists()
