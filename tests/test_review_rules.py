"""Decision rules: who counts, distinct reviewers, withdrawals, emoji variants, buttons, reasons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.application import Application
from bot.documents import Validator
from bot.models import Review
from tests.conftest import RULES, Clock, make_bot
from tests.journey import FORM_ANSWERS, Driver, complete_package, write_documents


def _rules(tmp_path: Path, **replacements: str) -> Path:
    text = RULES.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_approvals(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[Application]:
    path = _rules(
        tmp_path,
        **{
            "approvals_required: 1": "approvals_required: 2",
            '"console:reviewer2"]': '"console:reviewer2", "console:alice"]',
        },
    )
    bot = make_bot(tmp_path / "data", validator, clock, path)
    yield bot
    bot.close()


def _submitted(bot: Application, clock: Clock, tmp_path: Path) -> tuple[Driver, Review]:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    return driver, _review(bot)


def _review(bot: Application) -> Review:
    """Alice's latest review round (a rejection unlinks it from her record, so look in the reviews)."""
    rounds = [r for r in bot.store.reviews() if r.applicant == "console:alice"]
    assert rounds
    return rounds[-1]


def test_distinct_reviewers_are_needed_and_self_votes_do_not_count(
    two_approvals: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, _ = _submitted(two_approvals, clock, tmp_path)
    driver.as_("alice").say("/react ✅")  # alice is a reviewer here, but it is her own package
    assert any("your own package" in t for t in driver.dm_texts("alice"))
    driver.as_("reviewer").say("/react ✅")
    driver.say("/react heavy_check_mark")  # the same reviewer again: still one approval
    assert _review(two_approvals).state == "pending"
    assert any("(1 of 2)" in t for t in driver.dm_texts("reviewer"))
    driver.as_("reviewer2").say("/react :white_check_mark::skin-tone-3:")
    decided = _review(two_approvals)
    assert decided.state == "approved" and sorted(decided.decided_by) == [
        "console:reviewer",
        "console:reviewer2",
    ]


def test_removing_a_reaction_withdraws_the_vote(
    two_approvals: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, _ = _submitted(two_approvals, clock, tmp_path)
    driver.as_("reviewer").say("/react ✅")
    driver.say("/unreact ✅")
    assert _review(two_approvals).votes == {}
    driver.as_("reviewer2").say("/react ✅")
    assert _review(two_approvals).state == "pending"  # only one approval remains


def test_reactions_elsewhere_and_other_emoji_are_not_votes(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, _ = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say("/react 👀")
    driver.say("/react ✅ 1")  # post 1 is a DM, not a review post
    assert _review(bot).votes == {} and _review(bot).state == "pending"


def test_button_approve_and_post_content(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver, _ = _submitted(bot, clock, tmp_path)
    post = driver.console.last_post("reviewers")
    assert post is not None and post.message.reactions == ("✅", "❌", "↩️")
    assert "Time taken: 0 days" in post.text
    driver.as_("reviewer").say("/press approve")
    assert _review(bot).state == "approved"
    edited = driver.console.last_post("reviewers")
    assert edited is not None and edited.ref == post.ref and not edited.message.buttons
    assert "Approved by @reviewer" in edited.text and driver.console.edits
    thread = [s for s in driver.console.to("#reviewers") if s.destination.thread is not None]
    assert thread and "Approved by @reviewer" in thread[-1].text


def test_reject_needs_step_and_reason_and_can_be_cancelled(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, _ = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say("/press reject")
    driver.say("cancel")
    assert _review(bot).state == "pending" and _review(bot).votes == {}
    driver.say("/react ❌")
    driver.say("the report looks edited")  # no step: asked again, nothing decided
    assert _review(bot).state == "pending"
    assert "start with the step to reopen" in driver.dm_texts("reviewer")[-1]
    driver.say("/reply citi_training: the report looks edited")  # in the post's thread
    decided = _review(bot)
    assert decided.state == "rejected" and decided.reopen_step == "citi_training"
    assert "the report looks edited" in driver.dm_texts("alice")[-1]


def test_resubmitted_package_gets_a_new_review_round(bot: Application, clock: Clock, tmp_path: Path) -> None:
    driver, first = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say("/react ❌")
    driver.say("7 please fill in the form again")
    for line in ("done", *FORM_ANSWERS):  # redo step 7 (the form): the package is complete again
        driver.as_("alice").say(line)
    second = _review(bot)
    assert second.id != first.id and second.state == "pending"
    posts = [s for s in driver.console.to("#reviewers") if s.destination.thread is None]
    assert len(posts) == 2


def test_name_warning_reaches_reviewers_in_words_without_the_names(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver = Driver(bot)
    driver.console.names["alice"] = "Bob Lee"  # her profile name differs from the report's
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    post = driver.console.last_post("reviewers")
    assert post is not None
    assert "the name on the report differs from the applicant's profile name" in post.text
    assert "Bob Lee" not in post.text and "Alice Kim" not in post.text


def test_a_decision_after_a_restart_still_updates_the_post(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    first = make_bot(tmp_path / "data", validator, clock)
    _, review = _submitted(first, clock, tmp_path)
    first.close()
    second = make_bot(tmp_path / "data", validator, clock)
    try:
        again = Driver(second)
        again.as_("reviewer").say("/react ✅")
        [edited] = again.console.edits
        assert edited.ref.message_id == review.posts[-1].message_id
        assert "React ✅ to approve" not in edited.text and "Approved by @reviewer" in edited.text
    finally:
        second.close()


def test_approval_proof_reaches_reviewers_only_and_is_deleted_once_decided(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    [shared] = [s for s in driver.console.to("#reviewers") if s.message.files]
    assert (
        shared.destination.thread is not None
        and shared.destination.thread.message_id == review.posts[-1].message_id
    )
    assert [f.filename for f in shared.message.files] == ["approval_proof.png"]  # no personal name in it
    assert shared.message.files[0].data == (tmp_path / "docs" / "approval.png").read_bytes()
    assert not any(s.message.files for s in driver.console.sent if s.destination.user is not None)
    assert len(list(bot.store.files_dir.iterdir())) == 1  # the CITI report itself is never kept
    driver.as_("reviewer").say("/react ✅")
    assert not list(bot.store.files_dir.iterdir())
    applicant = bot.store.get("console:alice")
    assert applicant is not None and all(not d.stored_file for d in applicant.documents)
