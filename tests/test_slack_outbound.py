"""SlackAdapter's sends and profiles against the fake Web API, and the pure Block Kit rendering."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.adapters.slack.blocks import escape, plain_text, read_submission, render_blocks, render_modal
from bot.adapters.slack.outbound import SlackAdapter
from bot.events import (
    Button,
    ButtonStyle,
    Choice,
    Destination,
    Form,
    FormField,
    Outgoing,
    UserRef,
)
from bot.platform import DeliveryError
from tests.fake_slack import FakeSlack, slack_user


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def adapter_for(fake: FakeSlack) -> SlackAdapter:
    return SlackAdapter(client=WebClient(token=fake.token, base_url=fake.api_url), token=fake.token)


# -- sending ------------------------------------------------------------------------------------


def test_failed_sends_raise_delivery_errors(fake: FakeSlack) -> None:
    adapter = adapter_for(fake)
    fake.errors["chat.postMessage"] = "not_in_channel"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.to_channel("C0REVIEWERS"), Outgoing("hello"))
    assert info.value.permanent and "not_in_channel" in str(info.value) and "/invite" in str(info.value)
    fake.errors["conversations.open"] = "cannot_dm_bot"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.dm(UserRef("slack", "UBOT2")), Outgoing("hello"))
    assert info.value.permanent and "conversations.open" in str(info.value)
    fake.errors["chat.postMessage"] = "fatal_error"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.to_channel("C1"), Outgoing("hello"))
    assert not info.value.permanent


def test_a_keyed_post_can_be_found_again_after_a_crash(fake: FakeSlack) -> None:
    """A review post carries its idempotency key as message metadata; find_sent asks the channel."""
    adapter = adapter_for(fake)
    adapter.send(Destination.to_channel("C0LAB1234"), Outgoing("an earlier message"))
    ref = adapter.send(Destination.to_channel("C0LAB1234"), Outgoing("📋 a package", key="op1:1"))
    posted = fake.calls_to("chat.postMessage")[-1].params
    metadata = posted["metadata"] if isinstance(posted["metadata"], dict) else json.loads(posted["metadata"])
    assert metadata["event_payload"] == {"key": "op1:1"}
    assert adapter.find_sent("C0LAB1234", "op1:1") == ref
    assert adapter.find_sent("C0LAB1234", "op9:1") is None
    fake.errors["conversations.history"] = "missing_scope"
    with pytest.raises(DeliveryError):  # the caller then posts again rather than lose the post
        adapter.find_sent("C0LAB1234", "op1:1")


def test_profile_comes_from_users_info_once(fake: FakeSlack) -> None:
    fake.users["UALICE"] = slack_user("UALICE", "Alice Kim", "alice@example.edu")
    adapter = adapter_for(fake)
    user = UserRef("slack", "UALICE")
    first = adapter.profile(user)
    assert (first.real_name, first.display_name, first.email) == ("Alice Kim", "Alice", "alice@example.edu")
    assert adapter.profile(user) == first
    assert len(fake.calls_to("users.info")) == 1
    assert adapter.mention(user) == "<@UALICE>"
    with pytest.raises(DeliveryError):
        adapter.profile(UserRef("slack", "UNOBODY"))


def test_a_failed_profile_is_not_remembered(fake: FakeSlack) -> None:
    """users.info failing once (a blip, a rate limit) must not leave the person nameless for the run."""
    now = [0.0]
    adapter = adapter_for(fake)
    adapter.clock = lambda: now[0]
    user = UserRef("slack", "UALICE")
    with pytest.raises(DeliveryError):
        adapter.profile(user)  # unknown to Slack for now
    assert adapter.user("UALICE") == UserRef("slack", "UALICE")  # no name, and no second call yet
    assert len(fake.calls_to("users.info")) == 1
    fake.users["UALICE"] = slack_user("UALICE", "Alice Kim")
    now[0] = 59.0
    assert adapter.user("UALICE").display_name == ""
    now[0] = 61.0
    assert adapter.user("UALICE").display_name == "Alice"
    assert len(fake.calls_to("users.info")) == 2


def test_edit_without_buttons_clears_the_blocks(fake: FakeSlack) -> None:
    adapter = adapter_for(fake)
    ref = adapter.send(Destination.to_channel("C1"), Outgoing("a", buttons=(Button("approve", "Approve"),)))
    adapter.edit(ref, Outgoing("decided"))
    [update] = fake.calls_to("chat.update")
    blocks = update.params["blocks"]
    assert (json.loads(blocks) if isinstance(blocks, str) else blocks) == []
    assert update.params["ts"] == ref.message_id and update.params["text"] == "decided"


# -- text and blocks ----------------------------------------------------------------------------


def test_slack_markup_becomes_plain_text_and_back() -> None:
    assert (
        plain_text("<mailto:a@b.org|a@b.org> &lt;3 &amp; <https://x.org/y>") == "a@b.org <3 & https://x.org/y"
    )
    assert plain_text("hi <@U123>") == "hi <@U123>"
    assert escape("a < b & <@U1> <!here> <https://x.org> > c") == (
        "a &lt; b &amp; <@U1> <!here> <https://x.org> &gt; c"
    )


def test_blocks_split_long_text_and_render_buttons() -> None:
    long = "\n".join(f"line {i} " + "x" * 200 for i in range(40))
    blocks = render_blocks(Outgoing(long, buttons=(Button("approve", "Approve", "r1", ButtonStyle.PRIMARY),)))
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    [button] = blocks[-1]["elements"]
    assert button == {
        "type": "button",
        "action_id": "accessbot_approve",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "r1",
        "style": "primary",
    }


def test_a_form_renders_within_slack_limits_and_reads_back() -> None:
    form = Form(
        id="reject_reason",
        title="Reject this applicant's package",  # longer than Slack's 24 characters
        submit="Reject",
        cancel="Cancel",
        fields=(
            FormField(
                "reopen_step",
                "Step",
                "choice",
                tuple(Choice(f"s{n}", f"{n}. " + "x" * 100) for n in range(120)),
                placeholder="Pick one",
            ),
            FormField("reason", "Reason", "paragraph", max_length=5000),
        ),
        context="R-7",
    )
    view = render_modal(form, "C0REVIEWERS", "1772440000.000100")
    assert view["callback_id"] == "accessbot_reject_reason"
    assert len(view["title"]["text"]) <= 24 and view["title"]["text"].endswith("…")
    step, reason = view["blocks"]
    assert step["block_id"] == "reopen_step" and step["element"]["action_id"] == "reopen_step_input"
    assert len(step["element"]["options"]) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in step["element"]["options"])
    assert step["element"]["placeholder"] == {"type": "plain_text", "text": "Pick one"}
    assert reason["element"]["multiline"] and reason["element"]["max_length"] == 3000
    assert not step["optional"] and not reason["optional"]

    view["state"] = {
        "values": {
            "reason": {"reason_input": {"value": "expired"}},
            "reopen_step": {"reopen_step_input": {"selected_option": {"value": "s2"}}},
        }
    }
    submission = read_submission(view)
    assert (submission.form, submission.context) == ("reject_reason", "R-7")
    assert (submission.channel, submission.ts) == ("C0REVIEWERS", "1772440000.000100")
    assert submission.answers == (("reopen_step", "s2"), ("reason", "expired"))
