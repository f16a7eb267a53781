"""A form step in rules.yaml: `rules check` names the line of each mistake; `rules diff` sees a changed
question; the review post shows the answers through the step kind's reviewer hook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import Translator
from bot.models import Applicant, Review, StepState
from bot.platform import Capabilities
from bot.review.render import summary
from bot.rules_diff import diff_rules
from bot.rules_loader import RulesError, missing_translations, parse_rules
from tests.conftest import RULES

SHIPPED = RULES.read_text(encoding="utf-8")


def errors(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return str(caught.value).splitlines()


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def edit(old: str, new: str) -> str:
    assert old in SHIPPED, old
    return SHIPPED.replace(old, new, 1)


def test_the_shipped_form_is_valid_and_translated() -> None:
    rules = parse_rules(SHIPPED)
    step = rules.step("lab_form")
    assert step is not None and step.complete_by == "form"
    assert [q.id for q in step.questions] == ["project", "storage", "supervisor", "end_date"]
    assert [o.value for o in step.questions[1].options] == ["lab_server", "university_hpc", "other"]
    assert step.links  # the lab's own page is kept beside the questions
    assert missing_translations(rules) == []


@pytest.mark.parametrize(
    ("old", "new", "needle", "nth", "message"),
    [
        (
            "      - id: supervisor",
            "      - id: project",
            "- id: project",
            2,
            "questions[2].id 'project' is already used by questions[0]",
        ),
        (
            "        type: choice",
            "        type: dropdown",
            "type: dropdown",
            1,
            "must be one of text, choice, yes_no",
        ),
        (
            "      - id: supervisor\n",
            "      - id: supervisor\n        type: choice\n",
            "      - id: supervisor",  # the question's, not the commented stages example's
            1,
            "questions[2].options needs at least two options",
        ),
        (
            '        pattern: "20[0-9]{2}',
            '        pattern: "([20[0-9]{2}',
            'pattern: "([20',
            1,
            "not a valid regular expression",
        ),
        (
            'label: {en: "Project title", ko: "프로젝트 이름"}',
            'label: {ko: "프로젝트 이름"}',
            'label: {ko: "프로젝트 이름"}',
            1,
            "questions[0].label needs a text in the default language (en)",
        ),
        (
            '        label: {en: "Your supervisor',
            "        options: [{value: a, label: x}, {value: b, label: y}]\n"
            '        label: {en: "Your supervisor',
            "options: [{value: a",
            1,
            "questions[2].options are only for choice",
        ),
    ],
)
def test_rules_check_names_the_line_of_each_form_mistake(
    old: str, new: str, needle: str, nth: int, message: str
) -> None:
    text = edit(old, new)
    found = errors(text)
    hits = [e for e in found if message in e]
    assert len(hits) == 1, found
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert hits[0].startswith(f"rules.yaml:{lines[nth - 1]}: step 7 (lab_form)."), (hits[0], lines)


def test_an_unsafe_pattern_is_refused_at_its_own_line() -> None:
    text = edit('        pattern: "20[0-9]{2}', '        pattern: "(a+)+|20[0-9]{2}')
    [problem] = [e for e in errors(text) if "pattern" in e]
    line = line_of(text, 'pattern: "(a+)+')
    assert problem.startswith(f"rules.yaml:{line}: step 7 (lab_form).questions[3].pattern"), problem


def test_questions_on_a_step_that_is_not_a_form_are_refused() -> None:
    text = edit("    complete_by: form\n", "    complete_by: confirm\n")
    assert any("step 7 (lab_form).questions are only for form steps" in e for e in errors(text))


def test_a_missing_korean_label_is_a_warning_not_a_refusal() -> None:
    rules = parse_rules(
        edit('label: {en: "Project title", ko: "프로젝트 이름"}', 'label: {en: "Project title"}')
    )
    assert missing_translations(rules) == ["steps.lab_form.questions.project.label has no ko text"]


def _applicant(answers: dict[str, str]) -> Applicant:
    now = "2026-03-02T09:00:00+00:00"
    applicant = Applicant("console:alice", "en", now, now)
    applicant.steps["lab_form"] = StepState("done", now, {"answers": answers})
    return applicant


ANSWERS = {
    "project": "Chest X-ray triage",
    "storage": "other",
    "supervisor": "Prof. Lee",
    "end_date": "2027-06-30",
}


def test_rules_diff_lists_a_changed_question_and_who_no_longer_fits() -> None:
    old = parse_rules(SHIPPED)
    new = parse_rules(
        edit(
            "        max_length: 10\n",
            "        max_length: 10\n      - id: funding\n        label: {en: Funding, ko: 연구비}\n",
        )
    )
    diff = diff_rules(old, new, [_applicant(ANSWERS)], [])
    assert diff.stricter["lab_form"] == ["question funding added"]
    assert [a.key for a in diff.done_stricter] == ["console:alice"]  # a new required question
    looser = parse_rules(
        edit(
            "        max_length: 10\n",
            "        max_length: 10\n      - id: funding\n        required: false\n"
            "        label: {en: Funding, ko: 연구비}\n",
        )
    )
    assert diff_rules(old, looser, [_applicant(ANSWERS)], []).done_stricter == []  # still fits


def test_the_review_post_shows_the_answers_in_the_reviewers_language() -> None:
    rules = parse_rules(SHIPPED)
    review = Review("r1", "console:alice", "pending", "2026-03-02T09:00:00+00:00", "console")
    translator = Translator()
    for lang, expected in (
        ("en", "Where will the data be stored?: Somewhere else"),
        ("ko", "데이터를 어디에 저장하나요?: 기타"),
    ):
        post = summary(
            _applicant(ANSWERS),
            review,
            rules,
            translator.bound(lang),
            mention=lambda key: "@alice",
            now=datetime(2026, 3, 3, tzinfo=UTC),
            capabilities=Capabilities(),
        )
        assert expected in post.text and "Chest X-ray triage" in post.text and "2027-06-30" in post.text
