"""Return for changes on Slack: the real bolt App, signed requests, the fake Web API.

The Return for changes button opens a modal (views.open) offering the steps and the canned reasons;
its submission returns the package, edits the same post (chat.update) and tells a Korean applicant
in Korean; a re-upload edits that post again with the CITI changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.citi_pdfs import DEFAULT_MODULES, make_report
from tests.test_slack import ALICE, REVIEWER, REVIEWERS, SlackWorld, world

__all__ = ["world"]  # the fixture, shared with tests/test_slack.py


def _submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id == "reason":
            state[block_id] = {"reason_input": {"type": "plain_text_input", "value": value}}
        else:
            state[block_id] = {
                f"{block_id}_input": {
                    "type": "static_select",
                    "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
                }
            }
    return {
        "type": "view_submission",
        "team": {"id": "T0LAB", "domain": "lab"},
        "user": {"id": REVIEWER, "username": "rev", "name": "rev", "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "trigger_id": "1234.5678.77",
        "view": {**view, "id": "V0RETURN", "team_id": "T0LAB", "hash": "1.a", "state": {"values": state}},
        "response_urls": [],
    }


def _blocks_text(call: Any) -> str:
    blocks = call.params.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return json.dumps(blocks, ensure_ascii=False) + str(call.params.get("text"))


def test_return_button_modal_returns_edits_the_post_and_tells_a_korean_applicant_in_korean(
    world: SlackWorld,
) -> None:
    review = world.complete_package()
    ts = review.posts[-1].message_id
    world.dm(ALICE, "한국어로 해 주세요")
    assert world.bot.store.get(f"slack:{ALICE}").lang == "ko"  # type: ignore[union-attr]

    assert world.press(REVIEWER, "return_for_changes", ts, review.id).status == 200
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "accessbot_return_reason"
    by_block = {b["block_id"]: b for b in view["blocks"]}
    assert list(by_block) == ["return_step", "reason_choice", "reason"]
    steps = [o["value"] for o in by_block["return_step"]["element"]["options"]]
    assert "citi_training" in steps and "lab_review" not in steps
    reasons = by_block["reason_choice"]["element"]
    assert reasons["type"] == "static_select"
    assert [o["value"] for o in reasons["options"]] == [
        "wrong_course",
        "missing_hipaa",
        "name_mismatch",
        "expired",
        "certificate_not_report",
        "other",
    ]
    assert reasons["options"][1]["text"]["text"].startswith("2. The report does not show the HIPAA")
    assert by_block["reason"]["optional"] is True  # own words beside the chosen reason
    assert world.review(review.id).state == "pending"  # nothing decided until it is sent

    before_updates = len(world.fake.calls_to("chat.update"))
    submission = _submission(
        view, {"return_step": "citi_training", "reason_choice": "missing_hipaa", "reason": "p. 2"}
    )
    response = world.signer.interaction(submission)
    assert response.status == 200 and response.body == ""
    returned = world.review(review.id)
    assert returned.state == "returned" and returned.returned is not None
    told = world.texts(ALICE)[-1]
    assert "HIPAA 모듈" in told and "p. 2" in told and "수정을 요청" in told, told
    assert "CITI" in told  # the step's title, in Korean
    updates = world.fake.calls_to("chat.update")[before_updates:]
    assert [u.params["ts"] for u in updates] == [ts], "the same post is edited"
    shown = _blocks_text(updates[-1])
    assert "Returned for changes" in shown and f"<@{REVIEWER}>" in shown and "HIPAA" in shown
    assert '"actions"' not in shown  # no buttons while it is with the applicant
    assert any("returned for changes" in t for t in world.ephemeral(REVIEWER))

    # The applicant uploads a new report: the package comes back to the same post, with the diff.
    today = world.clock().date()
    new_report = make_report(
        name="Alice Kim",
        record_id="40577777",
        completion=today - timedelta(days=1),
        expiration=today + timedelta(days=1094),
        modules=(*DEFAULT_MODULES, "Internet-Based Research"),
    )
    posts_before = len(world.fake.calls_to("chat.postMessage"))
    world.upload(ALICE, world.fake.add_file("FREPORT2", new_report))
    back = world.review(review.id)
    assert back.state == "pending" and [p.message_id for p in back.posts] == [ts]
    updates = world.fake.calls_to("chat.update")
    assert updates[-1].params["ts"] == ts
    shown = _blocks_text(updates[-1])
    assert "40512345 → 40577777" in shown and "Internet-Based Research" in shown
    assert '"actions"' in shown  # the buttons are back
    new_posts = world.fake.calls_to("chat.postMessage")[posts_before:]
    top_level = [
        c for c in new_posts if c.params.get("channel") == REVIEWERS and not c.params.get("thread_ts")
    ]
    assert top_level == [], "no new review post"
    pings = [c for c in new_posts if c.params.get("thread_ts") == ts]
    assert pings and f"<@{REVIEWER}>" in str(pings[-1].params.get("text"))
    assert any("검토자에게 돌아갔습니다" in t for t in world.texts(ALICE))


def test_reject_modal_offers_the_reasons_and_a_chosen_one_reaches_the_applicant(world: SlackWorld) -> None:
    review = world.complete_package()
    ts = review.posts[-1].message_id
    world.press(REVIEWER, "reject", ts, review.id)
    [opened] = world.fake.calls_to("views.open")
    view = opened.params["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["reopen_step", "reason_choice", "reason"]
    response = world.signer.interaction(
        _submission(view, {"reopen_step": "citi_training", "reason_choice": "expired"})
    )
    assert response.status == 200
    decided = world.review(review.id)
    assert decided.state == "rejected" and decided.reopen_step == "citi_training"
    assert "The training has expired" in world.texts(ALICE)[-1]
    assert REVIEWERS  # the post was closed in the reviewers channel
    assert world.fake.calls_to("chat.update")[-1].params["ts"] == ts
