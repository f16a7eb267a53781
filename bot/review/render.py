"""The review post, as a pure function of the applicant, the review round and the rules.

What reviewers are told to do follows what the platform can show: buttons and reactions, reactions
only, buttons only, or neither (then the text commands `approve ID` / `reject ID`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from bot.emoji import canonical
from bot.events import Button, ButtonStyle, Outgoing
from bot.i18n import Bound
from bot.models import Applicant, Review, from_iso
from bot.platform import Capabilities
from bot.review import returns, stages
from bot.rules import Rules
from bot.step_kinds import kind_of

APPROVE = "approve"
REJECT = "reject"
CLAIM = "claim"


def summary(
    applicant: Applicant,
    review: Review,
    rules: Rules,
    t: Bound,
    *,
    mention: Callable[[str], str],
    now: datetime,
    capabilities: Capabilities,
) -> Outgoing:
    """The post that asks reviewers for a decision on one package."""
    who = mention(applicant.key)
    lines = [t("review.post_intro", applicant=who, program=rules.program.name)]
    fields: list[tuple[str, str]] = []
    for number, step in enumerate(rules.steps, start=1):
        kind = kind_of(step)
        if kind.decided_by_reviewers:
            continue
        state = applicant.steps.get(step.id)
        if state is None or state.status != "done":
            value = t("review.evidence_missing")
        else:
            value = kind.for_reviewers(step, state, rules, t)
        label = f"{number}. {step.title.get(t.lang)}"
        fields.append((label, value))
        lines.append(f"{label}: {value}")
    back = _came_back(review, rules, t)
    lines.extend(f"{label}: {value}" for label, value in back)
    fields.extend(back)
    days = max(0, (now - from_iso(applicant.created)).days)
    lines.append(t("review.post_took", days=days))
    claimed: tuple[tuple[str, str], ...] = ()
    if review.claimed_by and review.state == "pending":
        taken = t("review.post_claimed", reviewer=mention(review.claimed_by))
        lines.append(taken)
        claimed = ((t("review.post_claimed_label"), taken),)
    claimed += _stage_field(applicant, review, rules, t, mention, lines)
    how = how_to_decide(
        rules, t, capabilities, review.id, needed=stages.current(rules, review).approvals_required
    )
    lines.append(how)
    approve, reject = _emoji(rules)
    buttons = (
        (
            Button(APPROVE, t("review.button_approve"), review.id, ButtonStyle.PRIMARY),
            Button(REJECT, t("review.button_reject"), review.id, ButtonStyle.DANGER),
            Button(returns.RETURN, t("returns.button"), review.id),
            Button(CLAIM, t("review.button_claim"), review.id),
        )
        if capabilities.buttons
        else ()
    )
    return Outgoing(
        text="\n".join(lines),
        title=t("review.post_title", applicant=who),
        fields=(
            *fields,
            (t("review.post_took_label"), t("review.post_took_days", days=days)),
            *claimed,
            (t("review.post_how_label"), how),
        ),
        buttons=buttons,
        reactions=(approve, reject, _return_emoji(rules)) if capabilities.reactions else (),
    )


def how_to_decide(
    rules: Rules, t: Bound, capabilities: Capabilities, review_id: str, *, needed: int | None = None
) -> str:
    """`needed`: the approvals the round's stage needs (default `reviewers.approvals_required`)."""
    needed = rules.reviewers.approvals_required if needed is None else needed
    if capabilities.reactions:
        approve, reject = _emoji(rules)
        how = t("review.post_how", approve=approve, reject=reject, needed=needed)
        return how + " " + t("returns.post_how_reaction", emoji=_return_emoji(rules))
    if capabilities.buttons:
        return t("review.post_how_buttons", needed=needed) + " " + t("returns.post_how_button")
    how = t("review.post_how_text", review=review_id, needed=needed)
    return how + " " + t("returns.post_how_text", review=review_id)


def _stage_field(
    applicant: Applicant,
    review: Review,
    rules: Rules,
    t: Bound,
    mention: Callable[[str], str],
    lines: list[str],
) -> tuple[tuple[str, str], ...]:
    """Where the package is among the stages of approval (a line and a field; none without stages)."""
    where = stages.progress_line(rules, review, applicant, t, mention)
    if not where:
        return ()
    lines.append(where)
    return ((t("stages.post_label"), where),)


def closed(post: Outgoing, decided: str, label: str) -> Outgoing:
    """The decided post: the last line and field said how to decide, the decision takes their place."""
    return dataclasses.replace(
        post,
        text=post.text.rsplit("\n", 1)[0] + "\n" + decided,
        fields=(*post.fields[:-1], (label, decided)),
        buttons=(),
        reactions=(),
    )


def _came_back(review: Review, rules: Rules, t: Bound) -> list[tuple[str, str]]:
    """A package back after a return for changes: which step was asked for, and what changed."""
    changed = returns.change_lines(review, t)
    info = review.returned
    if not changed or info is None:
        return []
    step = rules.step(info.step)
    title = step.title.get(t.lang) if step is not None else info.step
    return [(t("returns.post_changes_label"), t("returns.post_back", step=title) + "\n" + "\n".join(changed))]


def _return_emoji(rules: Rules) -> str:
    found = canonical(rules.reviewers.return_for_changes[0]) if rules.reviewers.return_for_changes else "↩"
    return found + "\ufe0f" if found == "↩" else found  # Discord knows ↩️ only with its variation selector


def _emoji(rules: Rules) -> tuple[str, str]:
    approve = rules.reviewers.approve[0] if rules.reviewers.approve else "✅"
    reject = rules.reviewers.reject[0] if rules.reviewers.reject else "❌"
    return canonical(approve), canonical(reject)
