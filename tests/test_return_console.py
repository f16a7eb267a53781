"""Return for changes in the console (no forms): the button or ↩️ asks for `return ID STEP REASON`,
only the step reopens, and a re-upload brings the package back to the same post with the CITI diff."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.application import Application
from bot.models import Review
from tests.citi_pdfs import DEFAULT_MODULES, make_report
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents


def _submitted(bot: Application, clock: Clock, tmp_path: Path) -> tuple[Driver, Review]:
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    applicant = bot.store.get("console:alice")
    assert applicant is not None and applicant.review_id
    review = bot.store.review(applicant.review_id)
    assert review is not None and review.posts
    return driver, review


def _renewed_report(tmp_path: Path, clock: Clock) -> Path:
    today = clock().date()
    path = tmp_path / "docs" / "report-new.pdf"
    path.write_bytes(
        make_report(
            name="Alice Kim",
            record_id="40599999",
            completion=today - timedelta(days=2),
            expiration=today + timedelta(days=1090),
            modules=(*DEFAULT_MODULES, "Internet-Based Research"),
        )
    )
    return path


def test_return_by_text_reopens_one_step_and_the_reupload_edits_the_same_post(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    post_id = review.posts[-1].message_id
    post = driver.console.last_post("reviewers")
    assert post is not None and "return_for_changes" in [b.action for b in post.message.buttons]
    assert "↩️" in post.message.reactions

    # No forms on the console: the button asks for the command, with steps and reasons numbered.
    asked = driver.as_("reviewer").say("/press return_for_changes")
    text = "\n".join(s.text for s in asked)
    assert f"return {review.id} STEP REASON" in text
    assert f"`return {review.id} 2 1 see page 2`" in text, "the example is the whole command"
    assert "1. The report is for another course" in text and "6. The reviewers ask" in text
    assert bot.store.review(review.id).state == "pending"  # type: ignore[union-attr]

    done = driver.say(f"return {review.id} 2 2 page 3 is cut off")
    assert any("returned for changes" in s.text for s in done), [s.text for s in done]
    returned = bot.store.review(review.id)
    assert returned is not None and returned.state == "returned" and returned.votes == {}
    assert returned.returned is not None and returned.returned.reason_id == "missing_hipaa"
    alice = bot.store.get("console:alice")
    assert alice is not None and alice.steps["citi_training"].status == "reopened"
    assert alice.is_done("physionet_account") and alice.is_done("credentialing"), "other steps stay"
    assert alice.review_id == review.id
    told = driver.dm_texts("alice")[-1]
    assert "does not show the HIPAA module" in told and "page 3 is cut off" in told
    assert "Complete the CITI" in told or "CITI" in told  # the step's title
    edited = driver.console.edits[-1]
    assert edited.ref.message_id == post_id
    assert "Returned for changes" in edited.message.text and "@reviewer" in edited.message.text
    assert edited.message.buttons == () and edited.message.reactions == ()
    # A vote on a returned post changes nothing.
    driver.say(f"/react ✅ {post_id}")
    assert bot.store.review(review.id).state == "returned"  # type: ignore[union-attr]

    posts_before = len(driver.console.to("#reviewers"))
    driver.as_("alice").say(f"/upload {_renewed_report(tmp_path, clock)}")
    back = bot.store.review(review.id)
    assert back is not None and back.state == "pending", driver.dm_texts("alice")[-3:]
    assert any("back with the reviewers" in t for t in driver.dm_texts("alice"))
    top_level = [s for s in driver.console.to("#reviewers") if s.destination.thread is None]
    assert len(top_level) == 1, "no new post: the same one is edited"
    assert len(driver.console.to("#reviewers")) > posts_before  # the thread note pinging the voters
    note = driver.console.to("#reviewers")[-1]
    assert note.destination.thread is not None and "@reviewer" in note.text and "is back" in note.text
    again = driver.console.edits[-1]
    assert again.ref.message_id == post_id
    changed = again.message.text
    assert "What changed" in changed
    assert "record id: 40512345 → 40599999" in changed
    assert "modules added: Internet-Based Research" in changed
    assert "expiry: " in changed and "→" in changed
    assert again.message.buttons, "pending again: the buttons are back"

    driver.as_("reviewer").say(f"/react ✅ {post_id}")
    assert bot.store.review(review.id).state == "approved"  # type: ignore[union-attr]


def test_return_emoji_asks_for_the_command_and_a_bad_command_decides_nothing(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    asked = driver.as_("reviewer").say("/react ↩️")
    assert any(f"return {review.id} STEP REASON" in s.text for s in asked)
    # The "other" reason needs the reviewer's own words; a step is needed.
    for line in (f"return {review.id} 2 6", f"return {review.id} nine please", f"return {review.id}"):
        answer = driver.say(line)
        assert any("STEP REASON" in s.text for s in answer), line
        assert bot.store.review(review.id).state == "pending"  # type: ignore[union-attr]
    # The applicant cannot return their own package; a non-reviewer's command is not one.
    driver.as_("alice").say(f"return {review.id} 2 1")
    assert bot.store.review(review.id).state == "pending"  # type: ignore[union-attr]
    driver.as_("reviewer").say(f"return {review.id} 4 your own words only")
    returned = bot.store.review(review.id)
    assert returned is not None and returned.state == "returned"
    assert returned.returned is not None and returned.returned.reason == "your own words only"
    assert "your own words only" in driver.dm_texts("alice")[-1]


def test_an_answer_step_returned_and_answered_again_shows_answer_changed(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say(f"return {review.id} 1 the username has a typo")
    alice = bot.store.get("console:alice")
    assert alice is not None and alice.steps["physionet_account"].status == "reopened"
    driver.as_("alice").say("alice_kim2")
    driver.say("yes")
    back = bot.store.review(review.id)
    assert back is not None and back.state == "pending", driver.dm_texts("alice")[-3:]
    assert "answer changed" in driver.console.edits[-1].message.text


def test_reject_offers_the_numbered_reasons_and_a_number_picks_one(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    asked = driver.as_("reviewer").say("/react ❌")
    assert any("4. The training has expired" in s.text for s in asked)
    driver.say("2 4")
    rejected = bot.store.review(review.id)
    assert rejected is not None and rejected.state == "rejected"
    assert "The training has expired" in driver.dm_texts("alice")[-1]


def test_a_returned_shared_document_is_shared_again_under_the_same_post(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    from tests.citi_pdfs import make_png

    driver, review = _submitted(bot, clock, tmp_path)
    post_id = review.posts[-1].message_id
    shared_before = [s for s in driver.console.to("#reviewers") if s.message.files]
    assert len(shared_before) == 1  # the approval proof, shared with the first post
    driver.as_("reviewer").say(f"return {review.id} approval_proof the screenshot is cropped")
    proof = tmp_path / "docs" / "proof2.png"
    proof.write_bytes(make_png(width=300, height=200))
    driver.as_("alice").say(f"/upload {proof}")
    assert bot.store.review(review.id).state == "pending"  # type: ignore[union-attr]
    shared = [s for s in driver.console.to("#reviewers") if s.message.files]
    assert len(shared) == 2, "the new file goes under the same post"
    assert shared[-1].destination.thread is not None and shared[-1].destination.thread.message_id == post_id
    assert "a new file" in driver.console.edits[-1].message.text


def test_an_admin_reset_closes_a_returned_round_so_the_next_package_opens_a_new_one(
    bot: Application, clock: Clock, tmp_path: Path
) -> None:
    driver, review = _submitted(bot, clock, tmp_path)
    driver.as_("reviewer").say(f"return {review.id} 1 the username has a typo")
    assert bot.store.review(review.id).state == "returned"  # type: ignore[union-attr]
    answer = driver.as_("admin").say("reset alice physionet_account")[0].text
    assert "withdrawn" in answer, answer
    assert bot.store.review(review.id).state == "withdrawn"  # type: ignore[union-attr]
    alice = bot.store.get("console:alice")
    assert alice is not None and alice.review_id == ""
    driver.as_("alice").say("alice_kim2")
    driver.say("yes")
    alice = bot.store.get("console:alice")
    assert alice is not None and alice.review_id and alice.review_id != review.id, "a new round"
    assert bot.store.review(review.id).state == "withdrawn"  # type: ignore[union-attr]
