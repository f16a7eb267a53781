"""Stages of approval, end to end through the console (errbot-style): the supervisor approves by DM,
then the data team in the reviewers channel. Wrong-stage voters, a rejection at stage 1, a restart
and a crash between the stages, and the rounds before stages existed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import assemble
from bot.application import Application
from bot.documents import Validator
from bot.models import Review
from bot.rules_loader import RulesHolder
from bot.store import Store
from tests.conftest import RULES, Clock, _SharedValidator
from tests.journey import Driver, complete_package, write_documents

STAGES = """
stages:
  - id: supervisor
    title: {en: "supervisor", ko: "지도교수"}
    where: dm
    users: ["console:prof"]
  - id: data_team
    title: {en: "data team", ko: "데이터 팀"}
    where: channel
    role: reviewers
"""


def write_rules(folder: Path, stages: str = STAGES) -> Path:
    path = folder / "rules.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(RULES.read_text(encoding="utf-8") + stages, encoding="utf-8")
    return path


def _app(data: Path, validator: Validator, clock: Clock, rules: Path) -> Application:
    return assemble(
        rules=RulesHolder(rules),
        store=Store(data, clock=clock),
        validator=_SharedValidator(validator),  # type: ignore[arg-type]
        clock=clock,
    )


def _round(app: Application, user: str = "alice") -> Review:
    return next(r for r in app.store.reviews() if r.applicant == f"console:{user}")


def _channel_posts(driver: Driver) -> list[Any]:
    return [s for s in driver.console.to("#reviewers") if s.destination.thread is None]


def _submitted(tmp_path: Path, validator: Validator, clock: Clock, stages: str = STAGES) -> Application:
    return _app(tmp_path / "data", validator, clock, write_rules(tmp_path / "cfg", stages))


def test_supervisor_by_dm_then_data_team_in_the_channel(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app = _submitted(tmp_path, validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)

    review = _round(app)
    assert review.stage == "supervisor" and review.state == "pending"
    assert _channel_posts(driver) == [], "stage 1 happens in the supervisor's DM, not the channel"
    (dm,) = [s for s in driver.console.to("prof") if s.message.buttons]
    assert [b.action for b in dm.message.buttons] == ["approve", "reject", "return_for_changes", "claim"]
    assert "Stage 1 of 2: supervisor, 0 of 1 approvals" in dm.text
    assert "alice_kim" in dm.text and "40512345" in dm.text, "the same rendered package"
    assert [p.to for p in review.posts] == ["console:prof"]

    # A data-team reviewer is not the supervisor: a plain answer, nothing counted.
    reply = driver.as_("reviewer").say(f"approve {review.id}")[-1].text
    assert "at the supervisor stage" in reply and "was not counted" in reply
    assert _round(app).votes == {}

    replies = driver.as_("prof").say("/press approve")
    assert any("completes the supervisor stage" in s.text for s in replies), [s.text for s in replies]
    review = _round(app)
    assert review.state == "pending" and review.stage == "data_team" and review.votes == {}
    assert [(p.stage, p.by, p.votes) for p in review.stages_passed] == [
        ("supervisor", ["console:prof"], {"console:prof": "approve"})
    ]
    told = driver.dm_texts("alice")[-1]
    assert "passed the supervisor stage" in told and "data team" in told
    closed = next(s for s in driver.console.sent if s.ref == dm.ref)
    assert closed.message.buttons == () and "supervisor: approved by @prof" in closed.text

    (post,) = _channel_posts(driver)
    assert "Stage 2 of 2: data team, 0 of 1 approvals" in post.text
    assert "supervisor approved by @prof on 2026-03-02" in post.text
    assert [b.action for b in post.message.buttons] == ["approve", "reject", "return_for_changes", "claim"]

    # The supervisor has had their say: at stage 2 only the data team votes.
    reply = driver.as_("prof").say(f"/react ✅ {post.ref.message_id}")[-1].text
    assert "at the data team stage" in reply
    assert _round(app).votes == {}
    # Someone who reviews at no stage is told just that.
    driver.as_("mallory").say(f"/react ✅ {post.ref.message_id}")
    assert any("Only the lab's reviewers" in t for t in driver.dm_texts("mallory"))

    driver.as_("reviewer").say("/react white_check_mark")
    review = _round(app)
    assert review.state == "approved" and review.decided_by == ["console:reviewer"]
    assert any(t.startswith("🎉 Your access is approved") for t in driver.dm_texts("alice"))
    final = next(s for s in driver.console.sent if s.ref == post.ref)
    assert final.message.buttons == () and "Approved by @reviewer" in final.text
    app.close()


def test_a_rejection_at_stage_1_ends_the_round(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    app = _submitted(tmp_path, validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("prof").say("/press reject")
    assert any("step to reopen" in t for t in driver.dm_texts("prof"))
    driver.say("2 this is not the course our lab requires")
    review = _round(app)
    assert review.state == "rejected" and review.decided_by == ["console:prof"]
    assert review.stage == "supervisor" and review.stages_passed == []
    last = driver.dm_texts("alice")[-1]
    assert "not the course our lab requires" in last
    assert _channel_posts(driver) == [], "the data team never sees a package its supervisor rejected"
    dm = next(s for s in driver.console.sent if s.ref.message_id == review.posts[0].message_id)
    assert dm.message.buttons == (), "the DM is closed"
    app.close()


def test_two_supervisors_each_get_a_dm_and_both_must_approve(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    stages = STAGES.replace(
        'users: ["console:prof"]', 'users: ["console:prof", "console:prof2"]\n    approvals_required: 2'
    )
    app = _submitted(tmp_path, validator, clock, stages)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    assert sorted(p.to for p in _round(app).posts) == ["console:prof", "console:prof2"]
    reply = driver.as_("prof").say("/press approve")[-1].text
    assert "(1 of 2)" in reply
    for name in ("prof", "prof2"):  # both DMs redrawn with the count
        dm = [s for s in driver.console.to(name) if "Stage 1 of 2" in s.text][-1]
        assert "1 of 2 approvals" in dm.text, dm.text
    assert _round(app).stage == "supervisor"
    driver.as_("prof2").say("/press claim")
    prof_dm = next(s for s in driver.console.sent if s.ref.message_id == _dm_of(_round(app), "prof"))
    assert "@prof2" in prof_dm.text, "a claim redraws every DM of the stage, not only the latest"
    driver.as_("prof2").say("/press approve")
    review = _round(app)
    assert review.stage == "data_team" and review.stages_passed[0].by == ["console:prof", "console:prof2"]
    for name in ("prof", "prof2"):
        dm = next(s for s in driver.console.sent if s.ref.message_id == _dm_of(review, name))
        assert dm.message.buttons == (), f"{name}'s DM is closed once the stage passed"
    assert len(_channel_posts(driver)) == 1
    app.close()


def _dm_of(review: Review, name: str) -> str:
    return next(p.message_id for p in review.posts if p.to == f"console:{name}")


def test_nobody_approves_their_own_package_at_a_stage(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    stages = STAGES.replace('users: ["console:prof"]', 'users: ["console:prof", "console:prof2"]')
    app = _submitted(tmp_path, validator, clock, stages)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date(), name="Prof Park")
    driver.adapter.names["prof"] = "Prof Park"
    complete_package(driver, report, proof, user="prof")
    review = _round(app, "prof")
    assert [p.to for p in review.posts] == ["console:prof2"], "no DM asks prof to approve prof"
    reply = driver.as_("prof").say(f"approve {review.id}")[-1].text
    assert "your own package" in reply
    assert _round(app, "prof").votes == {} and _round(app, "prof").stage == "supervisor"
    app.close()


def test_a_restart_between_the_stages(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    rules = write_rules(tmp_path / "cfg")
    first = _app(tmp_path / "data", validator, clock, rules)
    driver = Driver(first)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("prof").say("/press approve")
    first.close()

    second = _app(tmp_path / "data", validator, clock, rules)
    try:
        again = Driver(second)
        posted = [int(p.message_id) for r in second.store.reviews() for p in r.posts]
        assert posted and again.adapter.first_id == max(posted) + 1, "new posts numbered after the old"
        assert second.redeliver() == 0, "nothing was left to send"
        again.as_("reviewer").say("/react ✅")  # the stage-2 post of the earlier run
        review = _round(second)
        assert review.state == "approved" and review.decided_by == ["console:reviewer"]
        assert [p.stage for p in review.stages_passed] == ["supervisor"]
    finally:
        second.close()


class Crash(BaseException):
    """Stands for the process dying (not an Exception: no handler in the bot catches it)."""


def _crash_on(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    def dying(*args: Any, **kwargs: Any) -> Any:
        raise Crash(name)

    monkeypatch.setattr(owner, name, dying)


def test_a_crash_after_stage_1_passed_posts_stage_2_once_after_the_restart(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = write_rules(tmp_path / "cfg")
    first = _app(tmp_path / "data", validator, clock, rules)
    driver = Driver(first)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    # Stage 1 passes and is recorded; the process dies before anything it leaves is sent.
    _crash_on(monkeypatch, first.services.messenger, "_carry_out")
    with pytest.raises(Crash):
        driver.as_("prof").say("/press approve")
    first.services.store.close()
    monkeypatch.undo()
    assert _channel_posts(driver) == []

    second = _app(tmp_path / "data", validator, clock, rules)
    try:
        review = _round(second)
        assert review.stage == "data_team" and review.stages_passed[0].by == ["console:prof"]
        again = Driver(second)
        assert second.redeliver() >= 2  # the applicant told, the stage-2 post
        assert any("passed the supervisor stage" in t for t in again.dm_texts("alice"))
        assert len(_channel_posts(again)) == 1
        assert second.redeliver() == 0 and len(_channel_posts(again)) == 1, "posted once"
        second.tick()
        assert len(_channel_posts(again)) == 1, "a tick does not post it again"
        review = _round(second)
        assert [p.stage for p in review.posts] == ["supervisor", "data_team"]
        again.as_("reviewer").say("/react ✅")
        assert _round(second).state == "approved"
    finally:
        second.close()


def test_without_stages_a_round_is_posted_and_decided_as_before(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app = _submitted(tmp_path, validator, clock, stages="")
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review = _round(app)
    assert review.stage == "" and [(p.stage, p.to) for p in review.posts] == [("", "")]
    (post,) = _channel_posts(driver)
    assert "Stage" not in post.text
    driver.as_("reviewer").say("/react ✅")
    assert _round(app).state == "approved" and _round(app).stages_passed == []
    app.close()


def test_korean_applicant_is_told_the_stage_in_korean(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app = _submitted(tmp_path, validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("alice").say("한국어")
    driver.as_("prof").say("/press approve")
    told = driver.dm_texts("alice")[-1]
    assert "지도교수 단계를 통과했습니다" in told and "데이터 팀 단계" in told, told


def test_claims_belong_to_a_stage(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    app = _submitted(tmp_path, validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review = _round(app)
    # A data-team reviewer cannot take a package still with the supervisor (the desk, whatever the
    # way the claim came: the console cannot press a button in someone else's DM).
    refused = app.services.desk.claim(review, "console:reviewer")
    assert refused.status == "ignored_wrong_stage" and _round(app).claimed_by == ""
    driver.as_("prof").say("/press claim")
    assert _round(app).claimed_by == "console:prof"
    driver.say("/press approve")
    moved = _round(app)
    assert moved.stage == "data_team" and moved.claimed_by == "", "passing the stage lets the claim go"
    driver.as_("reviewer").say("/react 👀")
    assert _round(app).claimed_by == "console:reviewer"
    app.close()


def test_the_supervisor_named_by_the_applicant_reviews_stage_1(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    # The shipped file's answer step (the PhysioNet username) stands for a "who is your supervisor?" step.
    stages = STAGES.replace(
        'users: ["console:prof"]',
        'users: ["console:prof"]\n    named_by: physionet_account\n    names: {alice_kim: "console:kim"}',
    )
    app = _submitted(tmp_path, validator, clock, stages)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review = _round(app)
    assert sorted(p.to for p in review.posts) == ["console:kim", "console:prof"]
    driver.as_("kim").say("/press approve")
    assert _round(app).stage == "data_team" and _round(app).stages_passed[0].by == ["console:kim"]
    app.close()


def test_a_supervisor_who_cannot_be_reached_is_told_to_the_admins_once(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.events import Destination, Outgoing
    from bot.platform import DeliveryError

    stages = STAGES.replace('users: ["console:prof"]', 'users: ["console:prof", "console:prof2"]')
    app = _submitted(tmp_path, validator, clock, stages)
    driver = Driver(app)
    real_send = driver.adapter.send

    def send(destination: Destination, message: Outgoing) -> Any:
        if destination.user is not None and destination.user.id == "prof":
            raise DeliveryError("the user closed their DMs", permanent=True)
        return real_send(destination, message)

    monkeypatch.setattr(driver.adapter, "send", send)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    assert [p.to for p in _round(app).posts] == ["console:prof2"], "the other supervisor has it"
    told = [t for t in driver.dm_texts("admin") if "prof" in t]
    assert len(told) == 1, driver.dm_texts("admin")
    for _ in range(3):
        app.tick()
    assert len([t for t in driver.dm_texts("admin") if "prof" in t]) == 1, "told once, not every tick"
    assert app.redeliver() == 0, "the post is done: prof2 decides"
    driver.as_("prof2").say("/press approve")
    assert _round(app).stage == "data_team"
    app.close()


def test_a_stage_2_post_sent_but_not_recorded_is_found_again_not_posted_twice(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.console.serve import console_for

    rules = write_rules(tmp_path / "cfg")
    transcript = tmp_path / "console-posts.jsonl"
    first = _app(tmp_path / "data", validator, clock, rules)
    driver = Driver(first)
    driver.adapter.transcript = transcript
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    # The vote is recorded (the first update_review), the stage passes, the channel post goes out,
    # and the process dies before the round records where the post landed.
    store = first.services.store
    real = store.update_review
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise Crash("update_review")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "update_review", dying)
    with pytest.raises(Crash):
        driver.as_("prof").say("/press approve")
    (posted,) = _channel_posts(driver)
    store.close()
    monkeypatch.undo()

    second = _app(tmp_path / "data", validator, clock, rules)
    try:
        adapter, session = console_for(second, None, transcript=transcript)
        second.redeliver()
        review = _round(second)
        assert review.stage == "data_team"
        assert [(p.stage, p.message_id) for p in review.posts][-1] == ("data_team", posted.ref.message_id)
        assert not [s for s in adapter.to("#reviewers") if "asks for approval" in s.text], "not posted again"
        session.feed("/as reviewer")
        session.feed(f"/react ✅ {posted.ref.message_id}")
        assert _round(second).state == "approved"
    finally:
        second.close()


def test_a_reviewers_home_lists_only_what_waits_on_their_stage(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    app = _submitted(tmp_path, validator, clock)
    driver = Driver(app)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    review = _round(app)
    assert "0 package(s) waiting" in driver.as_("reviewer").say("/home")[-1].text, "with the supervisor"
    assert "1 package(s) waiting" in driver.as_("prof").say("/home")[-1].text
    driver.as_("prof").say(f"approve {review.id}")
    assert "1 package(s) waiting" in driver.as_("reviewer").say("/home")[-1].text
    assert "0 package(s) waiting" in driver.as_("prof").say("/home")[-1].text
    app.close()
