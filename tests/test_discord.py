"""The Discord adapter end to end: real discord.py client, real gateway payloads, recorded HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.documents import Validator
from bot.events import ButtonPress, Event, FormSubmitted, MessageRef
from bot.platform import DeliveryError
from tests.citi_pdfs import make_png, make_report
from tests.conftest import Clock
from tests.discord_harness import (
    ADMIN,
    APPLICANT,
    BOT_ID,
    GENERAL_CHANNEL,
    GUILD_ID,
    MALLORY,
    REVIEW_CHANNEL,
    REVIEWER,
    Harness,
)

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def h(tmp_path: Path, validator: Validator, clock: Clock) -> AsyncIterator[Harness]:
    async with Harness(tmp_path, validator, clock) as harness:
        yield harness


def report_pdf(clock: Clock, name: str = "Alice Kim", record_id: str = "40512345") -> bytes:
    today = clock().date()
    return make_report(
        name=name,
        record_id=record_id,
        completion=today - timedelta(days=20),
        expiration=today + timedelta(days=1000),
    )


async def say(
    h: Harness, user: int, text: str = "", files: list[tuple[str, bytes]] | None = None
) -> list[str]:
    """A DM from `user`; returns the texts the bot sent back to that user's DM."""
    before = len(h.dm_texts(user))
    attachments = [h.attachment(name, data) for name, data in files or []]
    h.dm(user, text, attachments)
    await h.until(lambda: len(h.dm_texts(user)) > before)
    await h.settle()
    return h.dm_texts(user)[before:]


async def complete_package(h: Harness, clock: Clock) -> int:
    """Every step before the review, as the applicant; returns the review post's message id."""
    await say(h, APPLICANT, "hi")
    await say(h, APPLICANT, "alice_kim")
    await say(h, APPLICANT, "yes")  # confirmed before it is recorded
    await say(h, APPLICANT, files=[("report.pdf", report_pdf(clock))])
    for _ in range(3):
        await say(h, APPLICANT, "done")
    await say(h, APPLICANT, files=[("approval.png", make_png())])
    await say(h, APPLICANT, "done")
    await h.until(lambda: h.channel_posts())
    await h.settle()
    return h.review_post_id()


def review_state(h: Harness) -> str:
    reviews = [r for r in h.bot.store.reviews() if r.applicant == f"discord:{APPLICANT}"]
    assert len(reviews) == 1
    return reviews[0].state


# -- DMs and files ----------------------------------------------------------------------------------


async def test_dm_is_answered_in_the_dm(h: Harness) -> None:
    replies = await say(h, APPLICANT, "hi")
    assert "Hello!" in replies[0] and "Create a PhysioNet account" in replies[0]
    assert h.fake.of("start_private_message")[0].args == {"user_id": APPLICANT}
    sent = h.fake.of("send_message")[0].args["payload"]
    assert sent["allowed_mentions"] == {"parse": []}  # the bot never pings anyone by accident


async def test_pdf_attachment_is_read_validated_and_answered(h: Harness, clock: Clock) -> None:
    await say(h, APPLICANT, "alice_kim")
    await say(h, APPLICANT, "yes")  # confirmed before it is recorded
    replies = await say(h, APPLICANT, files=[("report.pdf", report_pdf(clock))])
    assert len(h.fake.of("get_from_cdn")) == 1
    assert replies[0].startswith("Thanks, checking report.pdf")
    assert any("accepted" in r and "40512345" in "".join(replies) for r in replies), replies
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.is_done("citi_training")


async def test_oversized_attachment_is_refused_without_reading_it(h: Harness, clock: Clock) -> None:
    await say(h, APPLICANT, "alice_kim")
    await say(h, APPLICANT, "yes")  # confirmed before it is recorded
    big = h.attachment("huge.pdf", b"%PDF-1.7 tiny", size=25_000_000)
    h.dm(APPLICANT, "", [big])
    await h.until(lambda: len(h.dm_texts(APPLICANT)) >= 2)
    await h.settle()
    assert "10" in h.dm_texts(APPLICANT)[-1]  # the limit, in MB
    assert h.fake.of("get_from_cdn") == []


async def test_file_posted_in_a_channel_is_refused_privately(h: Harness) -> None:
    pdf = h.attachment("report.pdf", b"%PDF-1.7 personal data")
    h.channel_message(APPLICANT, GENERAL_CHANNEL, "here is my report", attachments=[pdf])
    await h.until(lambda: h.dm_texts(APPLICANT))
    assert "do not post documents in channels" in h.dm_texts(APPLICANT)[0]
    assert h.channel_posts(GENERAL_CHANNEL) == [] and h.fake.of("get_from_cdn") == []


async def test_ordinary_channel_chatter_and_bots_are_ignored(h: Harness) -> None:
    h.channel_message(MALLORY, GENERAL_CHANNEL, "lunch?")
    h.dm(BOT_ID, "an echo of myself")
    await h.settle()
    assert h.fake.calls == [c for c in h.fake.calls if c.route.startswith("bulk_upsert")]


# -- reviews ------------------------------------------------------------------------------------------


async def test_complete_package_posts_review_and_a_reaction_decides_it(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    assert any("sent to the lab's reviewers" in t for t in h.dm_texts(APPLICANT))

    [post] = [c for c in h.channel_posts() if c.args["payload"].get("components")]
    payload = post.args["payload"]
    embed = payload["embeds"][0]
    assert f"<@{APPLICANT}>" in embed["description"]
    assert "@Alice Kim" in embed["title"]  # mentions do not render in titles: the name is shown
    values = " ".join(f["value"] for f in embed["fields"])
    assert "alice_kim" in values and "40512345" in values
    buttons = payload["components"][0]["components"]
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    assert [b["custom_id"] for b in buttons] == [
        f"accessbot:approve:{review_id}",
        f"accessbot:reject:{review_id}",
        f"accessbot:claim:{review_id}",
    ]
    seeded = [(c.args["message_id"], c.args["emoji"]) for c in h.fake.of("add_reaction")]
    assert seeded == [(post_id, "✅"), (post_id, "❌")]
    # The approval proof follows as a reply to the post, as a real attachment.
    [shared] = [c.args["payload"] for c in h.channel_posts() if "uploaded" in c.args["payload"]]
    assert shared["uploaded"] == {"approval_proof.png": make_png()}
    assert shared["message_reference"]["message_id"] == post_id

    # The bot's own seeded reactions come back through the gateway: ignored.
    h.react(BOT_ID, post_id, "✅")
    await h.settle()
    assert review_state(h) == "pending"

    # Someone who is not a reviewer changes nothing, and is told why.
    h.react(MALLORY, post_id, "✅")
    await h.until(lambda: h.dm_texts(MALLORY))
    assert "Only the lab's reviewers" in h.dm_texts(MALLORY)[0]
    assert review_state(h) == "pending"

    h.react(REVIEWER, post_id, "✅")
    await h.until(lambda: any(t.startswith("🎉") for t in h.dm_texts(APPLICANT)))
    assert review_state(h) == "approved"
    await h.settle()
    announcement = h.channel_posts()[-1].args["payload"]
    assert "Approved by" in announcement["content"]
    assert announcement["message_reference"]["message_id"] == post_id  # answered as a reply to the post


async def test_approve_button_decides_and_the_applicant_is_told(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    interaction_id = h.press(REVIEWER, post_id, f"accessbot:approve:{review_id}")
    await h.until(lambda: any(t.startswith("🎉") for t in h.dm_texts(APPLICANT)))
    await h.settle()
    assert review_state(h) == "approved"
    [ack] = h.fake.of("interaction_response")
    assert ack.args == {"interaction_id": interaction_id, "type": 6}  # deferred at once, within 3 s
    review = h.bot.store.review(review_id)
    assert review is not None and review.decided_by == [f"discord:{REVIEWER}"]
    [edit] = h.fake.of("edit_message")  # the post now shows the decision, without buttons
    assert edit.args["message_id"] == post_id and edit.args["payload"]["components"] == []
    assert "Approved by" in json.dumps(edit.args["payload"]["embeds"])


async def test_a_non_reviewer_pressing_approve_gets_an_ephemeral_answer(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(MALLORY, post_id, f"accessbot:approve:{review_id}")
    await h.until(lambda: h.followup_texts())
    assert "Only the lab's reviewers" in h.followup_texts()[0]
    assert h.fake.of("followup")[0].args["payload"]["flags"] == 64  # ephemeral
    assert review_state(h) == "pending"


async def test_reject_button_opens_a_form_whose_submission_rejects(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(REVIEWER, post_id, f"accessbot:reject:{review_id}")
    modal = await h.until(lambda: h.fake.of("interaction_response"))
    assert modal[0].args["type"] == 9  # MODAL
    form = modal[0].args["data"]
    inputs = [row["components"][0]["custom_id"] for row in form["components"]]
    assert inputs == ["reopen_step", "reason"]
    assert review_state(h) == "pending"  # nothing is decided until the form is submitted

    h.submit_form(REVIEWER, post_id, form["custom_id"], {"reopen_step": "2", "reason": "wrong course"})
    await h.until(lambda: any("wrong course" in t for t in h.dm_texts(APPLICANT)))
    await h.settle()
    assert review_state(h) == "rejected"
    assert any("rejected" in t for t in h.followup_texts())  # the reviewer's ack, only to them
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.steps["citi_training"].status == "reopened"


async def test_reject_reaction_then_reply_to_the_post_gives_the_reason(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    h.react(REVIEWER, post_id, "❌")
    await h.until(lambda: h.dm_texts(REVIEWER))
    assert "step to reopen" in h.dm_texts(REVIEWER)[0]
    h.channel_message(REVIEWER, REVIEW_CHANNEL, f"<@{BOT_ID}> 2 the report has expired", reply_to=post_id)
    await h.until(lambda: any("the report has expired" in t for t in h.dm_texts(APPLICANT)))
    assert review_state(h) == "rejected"


async def test_non_reviewer_reject_press_opens_no_form(h: Harness, clock: Clock) -> None:
    """Whether a press opens a form is the core's answer (Host.form_for), not the adapter's."""
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(MALLORY, post_id, f"accessbot:reject:{review_id}")
    await h.until(lambda: h.followup_texts())
    assert "Only the lab's reviewers" in h.followup_texts()[0]
    assert [c.args["type"] for c in h.fake.of("interaction_response")] == [6]  # deferred, no modal
    assert review_state(h) == "pending"


@pytest.mark.parametrize(
    ("typed", "reopened"), [("3", "citi_on_physionet"), ("Credentialing", "credentialing")]
)
async def test_form_choice_is_typed_as_its_number_or_value(
    h: Harness, clock: Clock, typed: str, reopened: str
) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    seen: list[Event] = []
    dispatch = h.bot.dispatch

    def recording(event: Event) -> None:
        seen.append(event)
        dispatch(event)

    h.bot.dispatch = recording  # type: ignore[method-assign]
    h.press(REVIEWER, post_id, f"accessbot:reject:{review_id}")
    [modal] = await h.until(lambda: h.fake.of("interaction_response"))
    step_input = modal.args["data"]["components"][0]["components"][0]
    assert step_input["placeholder"].startswith(
        "1. physionet_account, 2. citi_training, 3. citi_on_physionet"
    )
    assert modal.args["data"]["components"][1]["components"][0]["style"] == 2  # the reason: paragraph

    h.submit_form(
        REVIEWER, post_id, modal.args["data"]["custom_id"], {"reopen_step": typed, "reason": "redo"}
    )
    await h.until(lambda: review_state(h) == "rejected")
    await h.settle()
    [submitted] = [e for e in seen if isinstance(e, FormSubmitted)]
    assert submitted.form == "reject_reason" and submitted.context == review_id
    assert submitted.message == MessageRef("discord", str(REVIEW_CHANNEL), str(post_id))
    assert submitted.answers == (("reopen_step", reopened), ("reason", "redo"))
    assert not any(isinstance(e, ButtonPress) for e in seen), "the press that opened the form is not a vote"
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.steps[reopened].status == "reopened"


async def test_every_reaction_but_the_bots_reaches_the_core(h: Harness, clock: Clock) -> None:
    """The core, not the adapter, knows which emoji are votes."""
    post_id = await complete_package(h, clock)
    seen: list[Event] = []
    dispatch = h.bot.dispatch

    def recording(event: Event) -> None:
        seen.append(event)
        dispatch(event)

    h.bot.dispatch = recording  # type: ignore[method-assign]
    h.react(REVIEWER, post_id, "🎉")
    h.react(BOT_ID, post_id, "🎉")
    await h.settle()
    assert [(type(e).__name__, e.user.id) for e in seen] == [("ReactionAdded", str(REVIEWER))]
    assert h.dm_texts(REVIEWER) == [] and review_state(h) == "pending"


async def test_withdrawing_and_voting_again_counts(h: Harness, clock: Clock) -> None:
    post_id = await complete_package(h, clock)
    h.react(REVIEWER, post_id, "❌")
    await h.until(lambda: h.dm_texts(REVIEWER))
    h.unreact(REVIEWER, post_id, "❌")
    await h.settle()
    h.react(REVIEWER, post_id, "❌")
    await h.until(lambda: len(h.dm_texts(REVIEWER)) >= 2)
    assert "step to reopen" in h.dm_texts(REVIEWER)[1]


# -- failures -------------------------------------------------------------------------------------------


async def test_closed_dms_are_reported_to_the_admins(h: Harness) -> None:
    h.fake.dm_closed.add(APPLICANT)
    h.dm(APPLICANT, "hi")
    await h.until(lambda: h.dm_texts(ADMIN))
    text = h.dm_texts(ADMIN)[0]
    assert f"<@{APPLICANT}>" in text and "Cannot send messages to this user" in text


async def test_send_on_the_event_loop_thread_is_refused(h: Harness) -> None:
    from bot.events import Destination, Outgoing, UserRef

    with pytest.raises(RuntimeError, match="event loop thread"):
        h.client.adapter.send(Destination.dm(UserRef("discord", str(APPLICANT))), Outgoing("hi"))
    assert not isinstance(RuntimeError(), DeliveryError)


# -- slash commands ---------------------------------------------------------------------------------------


async def test_commands_are_synced_for_dms(h: Harness) -> None:
    [sync] = h.fake.of("bulk_upsert_global_commands")
    commands = {c["name"]: c for c in sync.args["payload"]}
    assert set(commands) == {"status", "help", "queue", "stats"}
    assert set(commands["status"]["contexts"]) == {0, 1, 2}  # guild, bot DM, private channel
    assert h.fake.of("bulk_upsert_guild_commands") == []


async def test_guild_sync_when_a_guild_is_set(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    async with Harness(tmp_path, validator, clock, guild_id=str(GUILD_ID)) as harness:
        [sync] = harness.fake.of("bulk_upsert_guild_commands")
        assert sync.args["guild_id"] == GUILD_ID
        assert {c["name"] for c in sync.args["payload"]} == {"status", "help", "queue", "stats"}


async def test_slash_status_in_dm_answers_ephemerally(h: Harness) -> None:
    interaction_id = h.slash(APPLICANT, "status")
    await h.until(lambda: h.followup_texts())
    [ack] = h.fake.of("interaction_response")
    assert ack.args == {"interaction_id": interaction_id, "type": 5, "data": {"flags": 64}}
    assert "Create a PhysioNet account" in h.followup_texts()[0]
    assert h.dm_texts(APPLICANT) == []


async def test_slash_queue_and_stats_answer_staff_ephemerally(h: Harness, clock: Clock) -> None:
    await complete_package(h, clock)
    h.slash(REVIEWER, "queue")
    await h.until(lambda: len(h.followup_texts()) >= 2)  # the heading, then one message per package
    queue = "\n".join(h.followup_texts()[:2])
    assert "Packages waiting for the reviewers" in queue and f"<@{APPLICANT}>" in queue
    assert "Waiting 0 hours" in queue and h.dm_texts(REVIEWER) == []
    h.slash(ADMIN, "stats")
    await h.until(lambda: len(h.followup_texts()) >= 3)
    assert "The figures" in h.followup_texts()[2] and f"{APPLICANT}" not in h.followup_texts()[2]
    h.slash(APPLICANT, "queue")
    await h.until(lambda: len(h.followup_texts()) >= 4)
    assert "The queue is for reviewers" in h.followup_texts()[3]


async def test_slash_help_in_a_server(h: Harness) -> None:
    h.slash(REVIEWER, "help", in_dm=False)
    await h.until(lambda: h.followup_texts())
    assert "reviewer" in h.followup_texts()[0].lower()


async def test_a_vote_withdrawn_before_a_restart_and_given_again_after_it_counts(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    """Reaction ids must not repeat across restarts, or the re-added ✅ is dropped as a duplicate."""
    async with Harness(tmp_path, validator, clock, approvals=2) as first:
        post_id = await complete_package(first, clock)
        post = first.fake.messages[post_id]
        first.react(REVIEWER, post_id, "✅")
        await first.until(lambda: first.dm_texts(REVIEWER))
        assert "1/2" in first.dm_texts(REVIEWER)[0] or "1 of 2" in first.dm_texts(REVIEWER)[0]
        first.unreact(REVIEWER, post_id, "✅")
        await first.settle()
        review = first.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
        assert first.bot.store.review(review).votes == {}  # type: ignore[union-attr]

    async with Harness(tmp_path, validator, clock, approvals=2) as second:  # a new client, the same store
        second.fake.messages[post_id] = post
        second.react(REVIEWER, post_id, "✅")
        await second.until(lambda: second.dm_texts(REVIEWER))
        await second.settle()
        assert second.bot.store.review(review).votes == {f"discord:{REVIEWER}": "approve"}  # type: ignore[union-attr]


async def test_buttons_and_reactions_work_after_a_restart(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    async with Harness(tmp_path, validator, clock) as first:
        post_id = await complete_package(first, clock)
        post = first.fake.messages[post_id]
        review_id = first.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]

    async with Harness(tmp_path, validator, clock) as second:  # same data folder, nothing cached
        second.fake.messages[post_id] = post
        second.press(REVIEWER, post_id, f"accessbot:approve:{review_id}")
        await second.until(lambda: any(t.startswith("🎉") for t in second.dm_texts(APPLICANT)))
        assert review_state(second) == "approved"
