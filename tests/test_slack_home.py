"""The App Home tab through the real bolt App: a signed `app_home_opened` event, views.publish
against the fake Web API; as an applicant, then as a reviewer whose Claim press on the tab redraws it."""

from __future__ import annotations

import json
from typing import Any

from tests.test_slack import ALICE, REVIEWER, SlackWorld, world  # noqa: F401  (world: the fixture)


def _opened(w: SlackWorld, user: str) -> Any:
    return w.signer.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})


def _published(w: SlackWorld) -> list[dict[str, Any]]:
    out = []
    for call in w.fake.calls_to("views.publish"):
        view = call.params["view"]
        out.append(
            {"user": call.params["user_id"], "view": json.loads(view) if isinstance(view, str) else view}
        )
    return out


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_home_tab_as_applicant_then_as_reviewer(world: SlackWorld) -> None:  # noqa: F811
    world.dm(ALICE, "hi")
    assert _opened(world, ALICE).status == 200
    [mine] = _published(world)
    assert mine["user"] == ALICE and mine["view"]["type"] == "home"
    assert mine["view"]["blocks"][0]["type"] == "header"
    assert "Create a PhysioNet account" in _text(mine["view"])
    actions = [b for b in mine["view"]["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "accessbot_done",
        "accessbot_not_yet",
        "accessbot_help",
    ]
    world.fake.reset()

    review = world.complete_package()
    _opened(world, REVIEWER)
    queue = _published(world)[-1]["view"]
    assert "Packages waiting for the reviewers" in _text(queue) and f"<@{ALICE}>" in _text(queue)
    [package] = [b for b in queue["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in package["elements"]] == [
        "accessbot_approve",
        "accessbot_reject",
        "accessbot_return_for_changes",
        "accessbot_claim",
    ]
    assert len({b.get("block_id") for b in queue["blocks"] if "block_id" in b}) == len(
        [b for b in queue["blocks"] if "block_id" in b]
    )

    payload = {
        "type": "block_actions",
        "user": {"id": REVIEWER, "username": "rev", "name": "rev", "team_id": "T0LAB"},
        "api_app_id": "A0ACCESS",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "VH1"},
        "view": {"id": "VH1", "type": "home"},
        "trigger_id": "1234.5678.99",
        "team": {"id": "T0LAB", "domain": "lab"},
        "actions": [
            {
                "action_id": "accessbot_claim",
                "block_id": package["block_id"],
                "value": review.id,
                "type": "button",
                "action_ts": "1772440000.999999",
            }
        ],
    }
    assert world.signer.interaction(payload).status == 200
    assert world.review(review.id).claimed_by == f"slack:{REVIEWER}"
    redrawn = _published(world)[-1]
    assert redrawn["user"] == REVIEWER and "Taken by" in _text(redrawn["view"])
