"""Stages of approval (rules.yaml `stages`): pure functions over the rules and a review round.

A complete package enters the first stage. Each stage has its own reviewers (a list, a role, the
supervisor the applicant named), its own place (a DM to each of its reviewers, or the reviewers
channel) and its own count of approvals. When a stage has its count, the round moves to the next
stage (`advance`); after the last, the package is approved; a rejection at any stage ends the round.
Only the current stage's reviewers vote (`refusal`).

Without `stages` in rules.yaml there is one implicit stage (`effective`): the reviewers channel,
`reviewers.users`, `reviewers.approvals_required`: exactly the desk's behaviour before stages.

These functions only compute. The desk (bot/review/desk.py) writes what they return under its lock;
the posts (bot/review/posts.py) send what a stage needs; the post (bot/review/render.py) shows where
the package is (`progress_line`). Texts are the `stages.*` keys of bot/locales/stages.*.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.i18n import Bound
from bot.language.text import normalise
from bot.messenger import Delivery, Mention, Tell
from bot.models import Applicant, PostRef, Review, StagePassed
from bot.review.deliveries import PostReview
from bot.rules import Rules, Stage
from bot.schema import LocalText

Refusal = Literal["", "not_reviewer", "wrong_stage"]


def enabled(rules: Rules) -> bool:
    return bool(rules.stages)


def effective(rules: Rules) -> tuple[Stage, ...]:
    """The stages in force: rules.yaml's, or the one implicit stage of the reviewers channel."""
    if rules.stages:
        return rules.stages
    implicit = Stage(
        id="",
        title=LocalText.of(""),
        where="channel",
        role="reviewers",
        approvals_required=rules.reviewers.approvals_required,
    )
    return (implicit,)


def first(rules: Rules) -> Stage:
    return effective(rules)[0]


def current(rules: Rules, review: Review) -> Stage:
    """The stage the round is at. A stage id rules.yaml no longer has: the first stage not passed."""
    stages = effective(rules)
    found = next((s for s in stages if s.id == review.stage), None)
    if found is not None:
        return found
    passed = {p.stage for p in review.stages_passed}
    return next((s for s in stages if s.id not in passed), stages[-1])


def number(rules: Rules, stage: Stage) -> int:
    """The stage's number as people see it (from 1)."""
    return next((i for i, s in enumerate(effective(rules), start=1) if s.id == stage.id), 1)


def following(rules: Rules, stage: Stage) -> Stage | None:
    """The stage after `stage`, None after the last."""
    stages = effective(rules)
    n = number(rules, stage)
    return stages[n] if n < len(stages) else None


def named_reviewer(stage: Stage, applicant: Applicant | None) -> str:
    """The supervisor the applicant named in the `named_by` step, by stable id ("" when none)."""
    if stage.named_by is None or applicant is None:
        return ""
    state = applicant.steps.get(stage.named_by)
    answer = normalise(str(state.evidence.get("answer", ""))) if state is not None else ""
    if not answer:
        return ""
    return next((key for name, key in stage.names.items() if normalise(name) == answer), "")


def reviewers(rules: Rules, stage: Stage, applicant: Applicant | None) -> tuple[str, ...]:
    """Who reviews this applicant's package at `stage` (the applicant too when listed: the desk
    refuses self-approval with its own answer)."""
    found = list(stage.users)
    named = named_reviewer(stage, applicant)
    if named:
        found.append(named)
    if stage.role == "reviewers" or (stage.role is None and not stage.users and stage.named_by is None):
        found += rules.reviewers.users
    elif stage.role == "admins":
        found += rules.admins
    return tuple(dict.fromkeys(found))


def refusal(rules: Rules, review: Review, applicant: Applicant | None, voter: str) -> Refusal:
    """Why `voter` may not vote (or claim) at the round's current stage: "" when they may;
    `wrong_stage` for a reviewer of another stage; `not_reviewer` for anyone else."""
    if voter in reviewers(rules, current(rules, review), applicant):
        return ""
    if rules.is_reviewer(voter) or any(voter in reviewers(rules, s, applicant) for s in effective(rules)):
        return "wrong_stage"
    return "not_reviewer"


def approvals(rules: Rules, review: Review, applicant: Applicant | None) -> list[str]:
    """The current stage's approvals that count: its reviewers', never the applicant's own."""
    allowed = reviewers(rules, current(rules, review), applicant)
    return [k for k, v in review.votes.items() if v == "approve" and k in allowed and k != review.applicant]


def tally(rules: Rules, review: Review, applicant: Applicant | None) -> tuple[int, int]:
    """(approvals so far, approvals needed) at the current stage."""
    return len(approvals(rules, review, applicant)), current(rules, review).approvals_required


def passed(rules: Rules, review: Review, applicant: Applicant | None) -> bool:
    have, needed = tally(rules, review, applicant)
    return have >= needed


def advance(review: Review, stage: Stage, to: Stage, by: list[str], now: str) -> Review:
    """The round after `stage` passed, at stage `to`: the stage's votes kept in `stages_passed`,
    the next stage's votes, claim and reasons start empty."""
    record = StagePassed(stage.id, now, list(by), dict(review.votes))
    return replace(
        review,
        stage=to.id,
        stages_passed=[*review.stages_passed, record],
        votes={},
        awaiting_reason_from=[],
        reason_asked_at={},
        claimed_by="",
        claimed_at="",
    )


# -- posts -------------------------------------------------------------------------------------------


def stage_posts(review: Review, stage_id: str) -> list[PostRef]:
    return [p for p in review.posts if p.stage == stage_id]


def unposted(rules: Rules, review: Review, applicant: Applicant | None) -> list[str]:
    """A DM stage's reviewers who have not been sent the package yet (never the applicant)."""
    stage = current(rules, review)
    sent = {p.to for p in stage_posts(review, stage.id)}
    return [k for k in reviewers(rules, stage, applicant) if k != review.applicant and k not in sent]


def posted(rules: Rules, review: Review, applicant: Applicant | None) -> bool:
    """The current stage has its posts: the channel post, or a DM to each of its reviewers."""
    stage = current(rules, review)
    if stage.where == "dm":
        return not unposted(rules, review, applicant)
    return bool(stage_posts(review, stage.id))


@dataclass(frozen=True)
class StagePosts(Delivery):
    """Redraw every post of one stage (each reviewer's DM, or the channel post): with `key`, closed
    with that text in place of how to decide (the stage is over, the buttons go); without, as it
    stands (a vote counted)."""

    review_id: str
    stage: str
    key: str = ""
    params: Mapping[str, object] = field(default_factory=dict)


# -- what people are told ----------------------------------------------------------------------------


def passed_deliveries(review: Review, stage: Stage, to: Stage, by: list[str]) -> list[Delivery]:
    """After `stage` passed (the round now at `to`): the applicant told in their language, the
    stage's DMs closed, and the package posted for stage `to` (once: keyed by the stage)."""
    deciders = tuple(Mention(k) for k in by)
    out: list[Delivery] = [
        Tell(review.applicant, "stages.passed_dm", {"stage": stage.title, "next": to.title}),
    ]
    if stage_posts(review, stage.id):
        params = {"stage": stage.title, "by": deciders, "next": to.title}
        out.append(StagePosts(review.id, stage.id, "stages.closed_passed", params))
    out.append(PostReview(review.id))
    return out


def redraw_deliveries(rules: Rules, review: Review) -> tuple[Delivery, ...]:
    """A vote counted or a claim at a stage: every post of the stage redrawn (each reviewer's DM, not
    only the latest post). Only with stages: without them the post shows no count, as before."""
    if not enabled(rules):
        return ()
    return (StagePosts(review.id, current(rules, review).id),)


def closing_deliveries(rules: Rules, review: Review, key: str, **params: object) -> list[Delivery]:
    """A decision at a DM stage: every DM of the stage closed, not only the latest post."""
    if not enabled(rules):
        return []
    stage = current(rules, review)
    if stage.where != "dm" or not stage_posts(review, stage.id):
        return []
    return [StagePosts(review.id, stage.id, key, params)]


def progress_line(
    rules: Rules, review: Review, applicant: Applicant | None, t: Bound, mention: Callable[[str], str]
) -> str:
    """Where the package is: "Stage 2 of 2: data team: 1 of 2 approvals; supervisor approved by @kim
    on 2026-03-02". "" without stages."""
    if not enabled(rules):
        return ""
    stage = current(rules, review)
    have, needed = tally(rules, review, applicant)
    parts = [
        t(
            "stages.post_at",
            number=number(rules, stage),
            total=len(effective(rules)),
            stage=stage.title,
            have=have,
            needed=needed,
        )
    ]
    titles = {s.id: s.title for s in effective(rules)}
    for record in review.stages_passed:
        title = titles.get(record.stage, LocalText.of(record.stage))
        who = ", ".join(mention(k) for k in record.by)
        parts.append(t("stages.post_passed", stage=title, by=who, date=record.at[:10]))
    return "; ".join(parts)
