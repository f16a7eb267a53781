"""The Slack adapter end to end: the real bolt App, signed requests, and a fake Slack Web API."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.adapters.slack.outbound import SlackAdapter
from bot.adapters.slack.serve import create_app
from bot.application import Application
from bot.documents import Validator
from bot.events import (
    ButtonPress,
    Choice,
    Event,
    Form,
    FormField,
    FormSubmitted,
    Home,
    MessageRef,
    ReactionAdded,
    UserRef,
)
from bot.models import Review
from bot.platform import Adapter, Environment
from bot.rules import Rules
from tests.citi_pdfs import make_png, make_report
from tests.conftest import RULES, Clock, make_bot
from tests.fake_slack import BOT_ID, BOT_USER, FakeSlack, Signer, slack_user
from tests.journey import FORM_ANSWERS

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
REVIEWERS = "C0REVIEWERS"
ALICE, REVIEWER, REVIEWER2, ADMIN, MALLORY = "UALICE", "UREV", "UREV2", "UADMIN", "UMALLORY"


def dm_channel(user: str) -> str:
    return "D" + user.removeprefix("U")  # what the fake's conversations.open answers


def slack_rules(tmp_path: Path) -> Path:
    text = RULES.read_text(encoding="utf-8")
    text = text.replace('admins: ["console:admin"]', f'admins: ["slack:{ADMIN}"]')
    text = text.replace(
        'users: ["console:reviewer", "console:reviewer2"]',
        f'users: ["slack:{REVIEWER}", "slack:{REVIEWER2}"]',
    )
    assert f"slack:{ADMIN}" in text and f"slack:{REVIEWER2}" in text and f"slack: {REVIEWERS}" in text
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class SlackWorld:
    fake: FakeSlack
    bot: Application
    signer: Signer
    clock: Clock
    tmp_path: Path

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)

    @property
    def adapter(self) -> SlackAdapter:
        adapter = self.bot.adapters["slack"]
        assert isinstance(adapter, SlackAdapter)
        return adapter

    def ts(self) -> str:
        return f"1772440000.{next(self._ts):06d}"

    def dm(self, user: str, text: str, **extra: Any) -> Any:
        event = {
            "type": "message",
            "channel": dm_channel(user),
            "user": user,
            "text": text,
            "ts": self.ts(),
            "channel_type": "im",
            **extra,
        }
        return self.signer.event(event)

    def upload(self, user: str, file: dict[str, Any], text: str = "") -> Any:
        return self.dm(user, text, subtype="file_share", files=[file], upload=False)

    def react(self, user: str, emoji: str, ts: str, *, removed: bool = False) -> Any:
        event = {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user,
            "reaction": emoji,
            "item_user": BOT_USER,
            "item": {"type": "message", "channel": REVIEWERS, "ts": ts},
            "event_ts": self.ts(),
        }
        return self.signer.event(event)

    def press(self, user: str, action: str, post_ts: str, value: str) -> Any:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0LAB"},
            "api_app_id": "A0ACCESS",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": post_ts,
                "channel_id": REVIEWERS,
                "is_ephemeral": False,
            },
            "trigger_id": f"1234.5678.{next(self._ts)}",
            "team": {"id": "T0LAB", "domain": "lab"},
            "channel": {"id": REVIEWERS, "name": "reviewers"},
            "message": {"type": "message", "ts": post_ts, "user": BOT_USER, "text": "package"},
            "actions": [
                {
                    "action_id": f"accessbot_{action}",
                    "block_id": "accessbot_actions",
                    "text": {"type": "plain_text", "text": action.title()},
                    "value": value,
                    "type": "button",
                    "action_ts": self.ts(),
                }
            ],
        }
        return self.signer.interaction(payload)

    def texts(self, user: str) -> list[str]:
        return self.fake.texts_to(dm_channel(user))

    def ephemeral(self, user: str) -> list[str]:
        """What only `user` saw, in a channel (answers to their button presses and forms)."""
        calls = self.fake.calls_to("chat.postEphemeral")
        return [str(c.params.get("text")) for c in calls if c.params.get("user") == user]

    def report(self, record_id: str = "40512345", name: str = "Alice Kim") -> bytes:
        today = self.clock().date()
        return make_report(
            name=name,
            record_id=record_id,
            completion=today - timedelta(days=20),
            expiration=today + timedelta(days=1000),
        )

    def complete_package(self, user: str = ALICE) -> Review:
        report = self.fake.add_file("FREPORT", self.report())
        proof = self.fake.add_file("FPROOF", make_png(), name="approval.png", mimetype="image/png")
        self.dm(user, "hi")
        self.dm(user, "alice_kim")
        self.dm(user, "yes")  # the username is confirmed before it is recorded
        self.upload(user, report)
        for _ in range(3):
            self.dm(user, "done")
        self.upload(user, proof)
        for line in ("done", *FORM_ANSWERS):  # the usage-authorization form, one question at a time
            self.dm(user, line)
        applicant = self.bot.store.get(f"slack:{user}")
        assert applicant is not None and applicant.review_id, self.texts(user)
        review = self.bot.store.review(applicant.review_id)
        assert review is not None and review.posts
        return review

    def review(self, review_id: str) -> Review:
        review = self.bot.store.review(review_id)
        assert review is not None
        return review


STAFF = {
    ALICE: ("Alice Kim", "alice@example.edu"),
    REVIEWER: ("Rita Reviewer", ""),
    REVIEWER2: ("Ravi Reviewer", ""),
    ADMIN: ("Ada Admin", ""),
}
"""The fake workspace's people every Slack test meets (name, e-mail)."""


@contextmanager
def slack_world(
    tmp_path: Path,
    validator: Validator,
    clock: Clock,
    rules: Path,
    *,
    people: dict[str, tuple[str, str]] | None = None,
    channels: dict[str, dict[str, Any]] | None = None,
) -> Iterator[SlackWorld]:
    """The real bolt App on a bot with `rules`, against a fresh fake Web API on 127.0.0.1 that knows
    STAFF and `people` (and `channels`); closed, App Home redraws included, on the way out."""
    with FakeSlack() as fake:
        for user, (name, email) in {**STAFF, **(people or {})}.items():
            fake.users[user] = slack_user(user, name, email) if email else slack_user(user, name)
        fake.channels.update(channels or {})
        bot = make_bot(tmp_path / "data", validator, clock, rules)
        env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET})
        client = WebClient(token=fake.token, base_url=fake.api_url)
        app = create_app(bot, env, client=client, allow_loopback_files=True)
        created = SlackWorld(fake, bot, Signer(app, SECRET), clock, tmp_path)
        try:
            yield created
        finally:
            if created.adapter.homes is not None:
                created.adapter.homes.close()  # App Home redraws still under way end before the fake
            bot.close()


@pytest.fixture
def world(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[SlackWorld]:
    people = {MALLORY: ("Mallory Meddler", "")}
    with slack_world(tmp_path, validator, clock, slack_rules(tmp_path), people=people) as created:
        yield created


# -- DMs ----------------------------------------------------------------------------------------


def test_dm_gets_reply_in_dm_channel(world: SlackWorld) -> None:
    response = world.dm(ALICE, "what step am I on?")
    assert response.status == 200
    assert world.fake.calls_to("conversations.open") == []  # the event named the DM channel
    replies = world.texts(ALICE)
    assert len(replies) == 1 and "Create a PhysioNet account" in replies[0]
    call = world.fake.calls_to("chat.postMessage")[0]
    assert call.headers["authorization"] == "Bearer xoxb-test"
    world.dm(ALICE, "status")
    assert world.fake.calls_to("conversations.open") == []
    assert world.bot.store.get(f"slack:{ALICE}") is not None


def test_pdf_upload_is_downloaded_with_token_and_validated(world: SlackWorld) -> None:
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")
    world.upload(ALICE, world.fake.add_file("FREPORT", world.report()))
    [download] = world.fake.downloads
    assert download.params["file"] == "FREPORT" and download.headers["authorization"] == "Bearer xoxb-test"
    texts = world.texts(ALICE)
    assert any("checking report.pdf" in t for t in texts), texts
    assert any("is accepted" in t for t in texts), texts
    applicant = world.bot.store.get(f"slack:{ALICE}")
    assert applicant is not None and applicant.is_done("citi_training")


def test_stub_file_is_resolved_with_files_info(world: SlackWorld) -> None:
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")
    world.fake.add_file("FSTUB", world.report())
    stub = {"id": "FSTUB", "mode": "file_access", "file_access": "check_file_info", "created": 1772440000}
    world.upload(ALICE, stub)
    assert [c.params["file"] for c in world.fake.calls_to("files.info")] == ["FSTUB"]
    assert len(world.fake.downloads) == 1
    assert any("is accepted" in t for t in world.texts(ALICE))


def test_html_page_instead_of_pdf_is_our_fault_and_admins_are_told(world: SlackWorld) -> None:
    world.fake.file_token = "xoxb-with-files-read"  # our token cannot read files: Slack sends its login page
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")
    world.upload(ALICE, world.fake.add_file("FREPORT", world.report()))
    assert len(world.fake.downloads) == 1
    assert any("problem on our side" in t for t in world.texts(ALICE)), world.texts(ALICE)
    [to_admin] = world.texts(ADMIN)
    assert "files:read" in to_admin and "HTML page" in to_admin
    applicant = world.bot.store.get(f"slack:{ALICE}")
    assert applicant is not None and not applicant.is_done("citi_training")


def test_oversized_file_is_refused_without_downloading(world: SlackWorld) -> None:
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")
    world.upload(ALICE, world.fake.add_file("FBIG", b"%PDF-1.7 ...", size=25_000_000))
    assert world.fake.downloads == []
    assert any("too big" in t and "10 MB" in t for t in world.texts(ALICE)), world.texts(ALICE)


def test_bot_messages_edits_and_own_messages_are_ignored(world: SlackWorld) -> None:
    world.dm(BOT_USER, "my own message")
    world.dm(ALICE, "from another bot", bot_id="B0OTHER", subtype="bot_message")
    world.dm(ALICE, "", subtype="message_changed", message={"text": "edited"})
    world.dm(ALICE, "", subtype="message_deleted")
    world.signer.event(
        {"type": "message", "channel": dm_channel(ALICE), "bot_id": BOT_ID, "text": "mine", "ts": world.ts()}
    )
    assert world.fake.calls_to("chat.postMessage") == []


def test_file_posted_in_a_channel_is_refused_privately_without_download(world: SlackWorld) -> None:
    file = world.fake.add_file("FPUB", world.report())
    world.signer.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "C0GENERAL",
            "channel_type": "channel",
            "user": ALICE,
            "text": "here is my report",
            "files": [file],
            "ts": world.ts(),
        }
    )
    world.signer.event(
        {
            "type": "message",
            "channel": "C0GENERAL",
            "channel_type": "channel",
            "user": ALICE,
            "text": "hi all",
        }
        | {"ts": world.ts()}
    )
    assert world.fake.downloads == []
    assert world.fake.messages_to("C0GENERAL") == []
    [reply] = world.texts(ALICE)
    assert "do not post documents in channels" in reply


# -- security and delivery ----------------------------------------------------------------------


def test_bad_signature_gets_401_and_nothing_happens(world: SlackWorld) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvBAD", "event": {"type": "message"}})
    headers = world.signer.headers(body, "application/json", signature="v0=" + "0" * 64)
    assert world.signer.raw(body, headers).status == 401
    assert world.fake.calls == []


def test_retried_event_is_processed_once(world: SlackWorld) -> None:
    event = {
        "type": "message",
        "channel": dm_channel(ALICE),
        "user": ALICE,
        "text": "status",
        "ts": world.ts(),
        "channel_type": "im",
    }
    assert world.signer.event(event, event_id="Ev0RETRY").status == 200
    retried = world.signer.event(
        event, event_id="Ev0RETRY", x_slack_retry_num="1", x_slack_retry_reason="timeout"
    )
    assert retried.status == 200
    assert len(world.texts(ALICE)) == 1


def test_rate_limited_post_is_retried(world: SlackWorld) -> None:
    world.fake.rate_limit_once.add("chat.postMessage")
    world.dm(ALICE, "status")
    assert len(world.fake.calls_to("chat.postMessage")) == 2
    assert len(world.texts(ALICE)) == 2  # the 429'd attempt and the retry carry the same message
    assert world.bot.store.get(f"slack:{ALICE}") is not None


# -- reviews ------------------------------------------------------------------------------------


def test_complete_package_is_posted_with_blocks_and_seeded_reactions(world: SlackWorld) -> None:
    review = world.complete_package()
    [post] = world.fake.messages_to(REVIEWERS)
    assert f"<@{ALICE}>" in post["text"] and "40512345" in post["text"]
    blocks = post["blocks"]
    assert f"<@{ALICE}>" in blocks[0]["text"]["text"]
    assert any(b["type"] == "section" and b.get("fields") for b in blocks)
    actions = blocks[-1]
    assert actions["type"] == "actions"
    buttons = {e["action_id"]: e for e in actions["elements"]}
    assert buttons["accessbot_approve"]["style"] == "primary"
    assert buttons["accessbot_reject"]["style"] == "danger"
    assert {e["value"] for e in buttons.values()} == {review.id}
    ts = review.posts[-1].message_id
    seeded = world.fake.calls_to("reactions.add")
    assert [(c.params["channel"], c.params["timestamp"], c.params["name"]) for c in seeded] == [
        (REVIEWERS, ts, "white_check_mark"),
        (REVIEWERS, ts, "x"),
        (REVIEWERS, ts, "leftwards_arrow_with_hook"),  # return for changes (tests/test_return_slack.py)
    ]
    assert any("sent to the lab's reviewers" in t for t in world.texts(ALICE))
    # The approval proof goes up with files_upload_v2, into the post's thread, and nowhere else.
    [complete] = world.fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == REVIEWERS and complete.params["thread_ts"] == ts
    assert list(world.fake.uploads.values()) == [make_png()]
    assert "approval_proof.png" in json.dumps(world.fake.calls_to("files.getUploadURLExternal")[0].params)


def test_reviewer_reaction_approves_and_non_reviewer_changes_nothing(world: SlackWorld) -> None:
    review = world.complete_package()
    ts = review.posts[-1].message_id
    world.react(MALLORY, "white_check_mark", ts)
    assert world.review(review.id).state == "pending"
    assert any("Only the lab's reviewers" in t for t in world.texts(MALLORY))

    world.react(REVIEWER, "white_check_mark::skin-tone-2", ts)
    decided = world.review(review.id)
    assert decided.state == "approved" and decided.decided_by == [f"slack:{REVIEWER}"]
    assert any(t.startswith("🎉 Your access is approved") for t in world.texts(ALICE))
    thread = [m for m in world.fake.messages_to(REVIEWERS) if m.get("thread_ts") == ts]
    assert thread and f"<@{REVIEWER}>" in thread[0]["text"]


def test_approve_button_decides(world: SlackWorld) -> None:
    review = world.complete_package()
    response = world.press(REVIEWER, "approve", review.posts[-1].message_id, review.id)
    assert response.status == 200
    assert world.review(review.id).state == "approved"
    assert any(t.startswith("🎉 Your access is approved") for t in world.texts(ALICE))
    # The post itself now shows the decision and offers no more buttons.
    [update] = world.fake.calls_to("chat.update")
    assert update.params["ts"] == review.posts[-1].message_id
    blocks = (
        json.loads(update.params["blocks"])
        if isinstance(update.params["blocks"], str)
        else update.params["blocks"]
    )
    assert not [b for b in blocks if b.get("type") == "actions"]
    assert "Approved by" in update.params["text"]


def test_reject_button_opens_form_and_submission_reopens_the_step(world: SlackWorld) -> None:
    review = world.complete_package()
    ts = review.posts[-1].message_id
    assert world.press(REVIEWER, "reject", ts, review.id).status == 200
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "accessbot_reject_reason"
    options = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert "citi_training" in options and "lab_review" not in options
    assert world.review(review.id).state == "pending"  # nothing decided until the form is sent

    submission = {
        "type": "view_submission",
        "team": {"id": "T0LAB", "domain": "lab"},
        "user": {"id": REVIEWER, "username": "rev", "name": "rev", "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "trigger_id": "1234.5678.99",
        "view": {
            **view,
            "id": "V0REJECT",
            "team_id": "T0LAB",
            "hash": "1772440000.abc",
            "state": {
                "values": {
                    "reopen_step": {
                        "reopen_step_input": {
                            "type": "static_select",
                            "selected_option": {
                                "text": {"type": "plain_text", "text": "2."},
                                "value": "citi_training",
                            },
                        }
                    },
                    "reason": {
                        "reason_input": {"type": "plain_text_input", "value": "the report has expired"}
                    },
                }
            },
        },
        "response_urls": [],
    }
    response = world.signer.interaction(submission)
    assert response.status == 200 and response.body == ""  # an empty ack closes the modal
    decided = world.review(review.id)
    assert decided.state == "rejected" and decided.reopen_step == "citi_training"
    assert "the report has expired" in world.texts(ALICE)[-1]
    assert any("citi_training" in t for t in world.ephemeral(REVIEWER))  # only the reviewer sees it


def test_reject_without_form_asks_by_dm_and_thread_reply_is_the_reason(world: SlackWorld) -> None:
    review = world.complete_package()
    ts = review.posts[-1].message_id
    world.fake.errors["views.open"] = "expired_trigger_id"
    world.press(REVIEWER, "reject", ts, review.id)
    assert any("step to reopen" in t for t in world.texts(REVIEWER)), world.texts(REVIEWER)
    world.signer.event(
        {
            "type": "message",
            "channel": REVIEWERS,
            "channel_type": "group",
            "user": REVIEWER,
            "text": "2 the report is for another course",
            "ts": world.ts(),
            "thread_ts": ts,
        }
    )
    decided = world.review(review.id)
    assert decided.state == "rejected" and decided.reopen_step == "citi_training"
    assert "the report is for another course" in world.texts(ALICE)[-1]


def test_non_reviewer_reject_press_gets_no_form_and_changes_nothing(world: SlackWorld) -> None:
    review = world.complete_package()
    world.press(MALLORY, "reject", review.posts[-1].message_id, review.id)
    assert world.fake.calls_to("views.open") == []
    assert world.review(review.id).state == "pending"
    assert any("Only the lab's reviewers" in t for t in world.ephemeral(MALLORY))
    assert not world.texts(MALLORY)  # an answer to a press is not a DM


# -- security and correctness (issue 13) --------------------------------------------------------


def test_file_on_another_host_never_gets_the_token_and_admins_are_told(world: SlackWorld) -> None:
    """A url_private_download naming a host that is not Slack's is refused before any request."""
    world.dm(ALICE, "alice_kim")
    world.dm(ALICE, "yes")
    file = world.fake.add_file("FREPORT", world.report())
    file["url_private_download"] = file["url_private"] = "https://files.slack.com.evil.example/x.pdf"
    world.upload(ALICE, file)
    assert world.fake.downloads == []
    assert any("problem on our side" in t for t in world.texts(ALICE)), world.texts(ALICE)
    [to_admin] = world.texts(ADMIN)
    assert "not a Slack file host" in to_admin


def test_app_rate_limited_is_logged_for_the_admins_and_dispatches_nothing(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    notice = {
        "token": "legacy-verification-token",
        "type": "app_rate_limited",
        "team_id": "T0LAB",
        "minute_rate_limited": 1772440020,
        "api_app_id": "A0ACCESS",
    }
    with caplog.at_level(logging.ERROR):
        response = world.signer.send_json(notice)
    assert response.status == 200
    [record] = [r for r in caplog.records if "app_rate_limited" in r.getMessage()]
    assert record.levelno == logging.ERROR and "write again" in record.getMessage()
    assert record.name.startswith("bot.adapters.slack")
    assert world.fake.calls_to("chat.postMessage") == []


def test_failed_users_info_is_retried_on_a_later_event(world: SlackWorld) -> None:
    now = [1000.0]
    world.adapter.clock = lambda: now[0]
    world.fake.errors["users.info"] = "fatal_error"
    world.dm(ALICE, "hi")
    assert len(world.fake.calls_to("users.info")) == 1
    del world.fake.errors["users.info"]
    world.dm(ALICE, "status")
    assert len(world.fake.calls_to("users.info")) == 1  # a short pause after a failure, not a storm
    now[0] += 61
    world.dm(ALICE, "status")
    assert len(world.fake.calls_to("users.info")) == 2
    assert world.adapter.user(ALICE).display_name == "Alice"
    assert len(world.fake.calls_to("users.info")) == 2  # a success is remembered


def test_reaction_on_any_message_reaches_the_core_untouched(world: SlackWorld) -> None:
    """The adapter neither filters reactions on policy nor calls Slack for them: the core decides."""
    seen: list[Event] = []
    dispatch = world.bot.dispatch

    def recording(event: Event) -> None:
        seen.append(event)
        dispatch(event)

    world.bot.dispatch = recording  # type: ignore[method-assign]
    world.react(ALICE, "tada", "1772440000.999999")
    [event] = seen
    assert isinstance(event, ReactionAdded) and event.emoji == "tada"
    assert event.message == MessageRef("slack", REVIEWERS, "1772440000.999999")
    assert [c.method for c in world.fake.calls] == ["auth.test"]  # bolt's own, once; nothing else


# -- forms: the host decides, the adapter renders ----------------------------------------------


@dataclass
class RecordingHost:
    """A Host that offers `form` for every press and records what it is given."""

    rules: Rules
    form: Form | None
    events: list[Event] = field(default_factory=list)
    asked: list[ButtonPress] = field(default_factory=list)
    adapters: list[Adapter] = field(default_factory=list)

    def attach(self, adapter: Adapter) -> None:
        self.adapters.append(adapter)

    def dispatch(self, event: Event) -> None:
        self.events.append(event)

    def form_for(self, press: ButtonPress) -> Form | None:
        self.asked.append(press)
        return self.form

    def tick(self) -> int:
        return 0

    def home_for(self, user: UserRef, *, typed: bool = False) -> Home:
        return Home("home", ())

    def review_posts(self, platform: str, *, pending_only: bool = False) -> list[MessageRef]:
        return []

    def review_post_ids(self, platform: str) -> list[str]:
        return []

    def reviewers_channel(self, platform: str) -> str | None:
        return REVIEWERS


FORM = Form(
    id="survey",
    title="A question",
    submit="Send",
    cancel="Not now",
    fields=(
        FormField("colour", "Colour", "choice", (Choice("red", "Red"), Choice("blue", "Blue"))),
        FormField("why", "Why", "paragraph", max_length=500),
        FormField("note", "Note", required=False),
    ),
    context="ctx-42",
)


def recording_world(world: SlackWorld, form: Form | None) -> tuple[RecordingHost, Signer]:
    host = RecordingHost(world.bot.rules, form)
    env = Environment({"SLACK_BOT_TOKEN": world.fake.token, "SLACK_SIGNING_SECRET": SECRET})
    app = create_app(host, env, client=WebClient(token=world.fake.token, base_url=world.fake.api_url))
    world.signer = Signer(app, SECRET)
    return host, world.signer


def test_a_form_the_host_asks_for_opens_as_a_modal_and_comes_back_as_form_submitted(
    world: SlackWorld,
) -> None:
    host, signer = recording_world(world, FORM)
    world.press(MALLORY, "anything", "1772440000.000001", "value-1")  # no reviewer check in the adapter
    [press] = host.asked
    assert press.action == "anything" and press.value == "value-1" and press.user.id == MALLORY
    assert host.events == []  # the press opened the form instead of being dispatched
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "accessbot_survey"
    assert [(b["block_id"], b["element"]["action_id"]) for b in view["blocks"]] == [
        ("colour", "colour_input"),
        ("why", "why_input"),
        ("note", "note_input"),
    ]
    colour, why, note = (b["element"] for b in view["blocks"])
    assert colour["type"] == "static_select" and [o["value"] for o in colour["options"]] == ["red", "blue"]
    assert why["type"] == "plain_text_input" and why["multiline"] and why["max_length"] == 500
    assert not note["multiline"] and view["blocks"][2]["optional"]

    state = {
        "colour": {"colour_input": {"type": "static_select", "selected_option": {"value": "blue"}}},
        "why": {"why_input": {"type": "plain_text_input", "value": "it is calm"}},
        "note": {"note_input": {"type": "plain_text_input", "value": None}},
    }
    response = signer.interaction(
        {
            "type": "view_submission",
            "team": {"id": "T0LAB", "domain": "lab"},
            "user": {"id": MALLORY, "username": "m", "name": "m", "team_id": "T0LAB"},
            "api_app_id": "A0ACCESS",
            "token": "legacy-verification-token",
            "trigger_id": "1234.5678.77",
            "view": {**view, "id": "V0SURVEY", "team_id": "T0LAB", "state": {"values": state}},
        }
    )
    assert response.status == 200 and response.body == ""
    [submitted] = host.events
    assert submitted == FormSubmitted(
        event_id="slack:view:V0SURVEY",
        user=submitted.user,
        form="survey",
        context="ctx-42",
        message=MessageRef("slack", REVIEWERS, "1772440000.000001"),
        answers=(("colour", "blue"), ("why", "it is calm"), ("note", "")),
    )
    assert submitted.user.id == MALLORY


def test_a_press_without_a_form_or_whose_modal_fails_is_dispatched(world: SlackWorld) -> None:
    host, _ = recording_world(world, None)
    world.press(REVIEWER, "reject", "1772440000.000001", "r1")
    assert world.fake.calls_to("views.open") == []
    [press] = host.events
    assert isinstance(press, ButtonPress) and press.action == "reject" and press.value == "r1"

    host.form = FORM
    world.fake.errors["views.open"] = "expired_trigger_id"
    world.press(REVIEWER, "reject", "1772440000.000001", "r1")
    assert len(world.fake.calls_to("views.open")) == 1
    assert [type(e) for e in host.events] == [ButtonPress, ButtonPress]
