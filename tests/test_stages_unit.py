"""bot/review/stages.py as pure functions, and review rounds written before stages still load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot import integrity
from bot.i18n import Translator
from bot.models import Applicant, PostRef, Review, StagePassed, StepState
from bot.review import stages
from bot.rules import Rules
from bot.rules_loader import load_rules, parse_rules
from tests.conftest import RULES

SHIPPED = RULES.read_text(encoding="utf-8")

TWO = """
stages:
  - id: supervisor
    title: {en: "supervisor", ko: "지도교수"}
    where: dm
    users: ["console:prof"]
    named_by: physionet_account
    names: {"Kim Lab": "console:kim"}
  - id: data_team
    title: {en: "data team", ko: "데이터 팀"}
    role: reviewers
    approvals_required: 2
"""


def _rules(stages_text: str = TWO) -> Rules:
    return parse_rules(SHIPPED + stages_text, "rules.yaml")


def _round(**changes: object) -> Review:
    base = Review(
        id="r1",
        applicant="console:alice",
        state="pending",
        created="2026-03-02T09:00:00+00:00",
        platform="console",
        stage="supervisor",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _alice(answer: str = "") -> Applicant:
    applicant = Applicant(key="console:alice", lang="en", created="2026-03-01", updated="2026-03-01")
    if answer:
        applicant.steps["physionet_account"] = StepState("done", "2026-03-01", {"answer": answer})
    return applicant


def test_without_stages_one_implicit_stage_behaves_as_before() -> None:
    rules = load_rules(RULES)
    (only,) = stages.effective(rules)
    assert (only.id, only.where, only.approvals_required) == (
        "",
        "channel",
        rules.reviewers.approvals_required,
    )
    review = _round(stage="")
    assert stages.reviewers(rules, only, None) == rules.reviewers.users
    assert stages.refusal(rules, review, None, "console:reviewer") == ""
    assert stages.refusal(rules, review, None, "console:mallory") == "not_reviewer"
    assert not stages.posted(rules, review, None)
    old_post = PostRef("console", "reviewers", "7")  # a post recorded before stages existed
    assert stages.posted(rules, _round(stage="", posts=[old_post]), None)
    assert stages.following(rules, only) is None
    assert stages.progress_line(rules, review, None, Translator().bound("en"), str) == ""
    assert stages.redraw_deliveries(rules, review) == ()
    assert stages.closing_deliveries(rules, review, "review.channel_approved") == []


def test_who_reviews_a_stage_users_the_named_supervisor_and_a_role() -> None:
    rules = _rules()
    supervisor, data_team = rules.stages
    assert stages.reviewers(rules, supervisor, _alice()) == ("console:prof",)
    # The answer names the supervisor (case and spacing ignored); an unknown name leaves the list.
    assert stages.reviewers(rules, supervisor, _alice("kim  lab")) == ("console:prof", "console:kim")
    assert stages.reviewers(rules, supervisor, _alice("someone else")) == ("console:prof",)
    assert stages.reviewers(rules, data_team, None) == rules.reviewers.users
    assert rules.is_reviewer("console:kim"), (
        "anyone a stage may name is a reviewer (the reject form, text votes)"
    )


def test_only_the_current_stage_votes_and_its_count_decides() -> None:
    rules = _rules()
    review = _round()
    assert stages.refusal(rules, review, _alice(), "console:prof") == ""
    assert stages.refusal(rules, review, _alice(), "console:reviewer") == "wrong_stage"
    assert stages.refusal(rules, review, _alice(), "console:kim") == "wrong_stage", "not named by alice"
    assert stages.refusal(rules, review, _alice("kim lab"), "console:kim") == ""
    assert stages.refusal(rules, review, _alice(), "console:mallory") == "not_reviewer"
    voted = _round(
        votes={"console:prof": "approve", "console:reviewer": "approve", "console:alice": "approve"}
    )
    assert stages.approvals(rules, voted, _alice()) == ["console:prof"], (
        "other stages' and own votes never count"
    )
    assert stages.tally(rules, voted, _alice()) == (1, 1) and stages.passed(rules, voted, _alice())


def test_advancing_keeps_the_stage_votes_and_starts_the_next_stage_clean() -> None:
    rules = _rules()
    supervisor, data_team = rules.stages
    review = _round(
        votes={"console:prof": "approve"},
        claimed_by="console:prof",
        claimed_at="2026-03-02T09:00:00+00:00",
        awaiting_reason_from=["console:prof"],
    )
    assert stages.following(rules, supervisor) == data_team
    moved = stages.advance(review, supervisor, data_team, ["console:prof"], "2026-03-02T10:00:00+00:00")
    assert moved.stage == "data_team" and moved.votes == {} and moved.claimed_by == ""
    assert moved.awaiting_reason_from == [] and review.votes == {"console:prof": "approve"}, "pure"
    assert moved.stages_passed == [
        StagePassed("supervisor", "2026-03-02T10:00:00+00:00", ["console:prof"], {"console:prof": "approve"})
    ]
    assert stages.current(rules, moved) == data_team
    assert stages.tally(rules, moved, None) == (0, 2)
    mention = {"console:prof": "@prof"}.__getitem__
    line = stages.progress_line(rules, moved, None, Translator().bound("en"), mention)
    assert line == "Stage 2 of 2: data team, 0 of 2 approvals; supervisor approved by @prof on 2026-03-02"
    korean = stages.progress_line(rules, moved, None, Translator().bound("ko"), mention)
    assert korean == "2단계 중 2단계: 데이터 팀, 승인 2명 중 0명; 지도교수: @prof님이 2026-03-02에 승인"


def test_a_stage_rules_yaml_no_longer_has_falls_back_to_the_first_not_passed() -> None:
    rules = _rules()
    gone = _round(stage="pi", stages_passed=[StagePassed("supervisor", "2026-03-02", ["console:prof"])])
    assert stages.current(rules, gone).id == "data_team"
    assert stages.current(rules, _round(stage="pi")).id == "supervisor"


def test_dm_posts_are_made_once_per_reviewer_and_never_to_the_applicant() -> None:
    rules = _rules()
    review = _round(applicant="console:prof")
    assert stages.unposted(rules, review, None) == [], "prof is the applicant: nobody else at stage 1"
    review = _round()
    assert stages.unposted(rules, review, _alice("kim lab")) == ["console:prof", "console:kim"]
    sent = _round(posts=[PostRef("console", "dm-prof", "3", stage="supervisor", to="console:prof")])
    assert stages.unposted(rules, sent, _alice("kim lab")) == ["console:kim"]
    assert not stages.posted(rules, sent, _alice("kim lab")) and stages.posted(rules, sent, _alice())


def test_rounds_written_before_stages_load_and_pass_the_integrity_check(tmp_path: Path) -> None:
    old = {
        "id": "abc123def456",
        "applicant": "console:alice",
        "state": "pending",
        "created": "2026-03-02T09:00:00+00:00",
        "platform": "console",
        "posts": [{"platform": "console", "channel": "reviewers", "message_id": "7"}],
        "votes": {"console:reviewer": "approve"},
    }
    assert integrity.record_problem(old, Review) is None
    review = Review.from_dict(old)
    assert review.stage == "" and review.stages_passed == [] and review.posts[0].stage == ""
    staged = _round(
        stage="data_team",
        stages_passed=[
            StagePassed("supervisor", "2026-03-02", ["console:prof"], {"console:prof": "approve"})
        ],
        posts=[PostRef("console", "dm-prof", "3", stage="supervisor", to="console:prof")],
    ).to_dict()
    assert integrity.record_problem(staged, Review) is None
    assert Review.from_dict(staged).stages_passed[0].votes == {"console:prof": "approve"}
    bad = {**staged, "stages_passed": [{"stage": "supervisor"}]}
    assert integrity.record_problem(bad, Review) is not None, "a damaged record is still refused"
