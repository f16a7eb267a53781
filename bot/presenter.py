"""How progress is shown to an applicant: the checklist, the current step's instructions, what is missing.

On platforms with buttons (`capabilities.buttons`), the current step's instructions carry three:
"I've done this", "Not yet" and "Help" (actions STEP_DONE, STEP_NOT_YET, STEP_HELP, the step id as
the value), handled by bot/handlers/conversation.py's StepButtonHandler.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.context import Context
from bot.estimates import estimate_text
from bot.events import Button, ButtonStyle, Outgoing
from bot.models import Applicant
from bot.rules import Step
from bot.step_kinds import kind_of
from bot.workflow import checklist, current_step, done_count, missing_for_review

_MARKS = {"done": "✅", "current": "👉", "todo": "⬜"}

STEP_DONE = "done"
STEP_NOT_YET = "not_yet"
STEP_HELP = "help"
STEP_ACTIONS = (STEP_DONE, STEP_NOT_YET, STEP_HELP)


def step_instructions(ctx: Context, step: Step, number: int) -> str:
    lang = ctx.lang
    parts = [ctx.t("status.now", number=number, title=step.title), step.help.get(lang).strip()]
    applicant = ctx.applicant()
    state = applicant.steps.get(step.id)
    if state is not None and state.status == "reopened" and state.note:
        parts.append(ctx.t("status.reopened_because", reason=state.note))
    if step.links:
        parts.append(ctx.t("status.links"))
        parts.extend(f"• {link.label.get(lang)}: {link.url}" for link in step.links)
    applied = applicant.applied.get(step.id, "") if step.records_applied else ""
    if applied:
        parts.append(ctx.t("status.applied_on", date=applied[:10]))
    else:
        parts.append(kind_of(step).how_to_finish(step, ctx.rules, lang, ctx.tr))
    return "\n".join(p for p in parts if p)


def step_buttons(ctx: Context, step: Step | None) -> tuple[Button, ...]:
    """The buttons for a step's instructions, where the platform shows buttons."""
    if step is None or kind_of(step).decided_by_reviewers or not ctx.adapter.capabilities.buttons:
        return ()
    return (
        Button(STEP_DONE, ctx.t(kind_of(step).done_button), step.id, ButtonStyle.PRIMARY),
        Button(STEP_NOT_YET, ctx.t("buttons.not_yet"), step.id),
        Button(STEP_HELP, ctx.t("buttons.help"), step.id),
    )


def with_step_buttons(ctx: Context, text: str, *, instructions: bool = True) -> Outgoing:
    """`text` as a message, with the current step's buttons when it shows that step's instructions."""
    step = current_step(ctx.rules, ctx.applicant()) if instructions else None
    return Outgoing(text, buttons=step_buttons(ctx, step))


def checklist_text(ctx: Context, *, with_instructions: bool = True) -> str:
    rules = ctx.rules
    applicant = ctx.applicant()
    lang = ctx.lang
    lines = [
        ctx.t(
            "status.header",
            program=rules.program.name,
            done=done_count(rules, applicant),
            total=len(rules.steps),
        )
    ]
    for item in checklist(rules, applicant):
        suffix = ctx.t("status.you_are_here") if item.state == "current" else ""
        if item.reopened and item.state != "done":
            suffix += " " + ctx.t("status.reopened_mark")
        if item.applied:
            suffix += " " + ctx.t("status.applied_mark", date=item.applied)
        lines.append(f"{_MARKS[item.state]} {item.number}. {item.step.title.get(lang)}{suffix}")
    step = current_step(rules, applicant)
    if step is None:
        lines.append("")
        lines.append(finished_line(ctx.t, applicant))
        return "\n".join(lines)
    if with_instructions:
        lines.append("")
        lines.append(step_instructions(ctx, step, rules.step_index(step.id) + 1))
    missing = missing_for_review(rules, applicant)
    if missing and not kind_of(step).decided_by_reviewers:
        numbers = ", ".join(str(rules.step_index(s.id) + 1) for s in missing)
        lines.append("")
        lines.append(ctx.t("status.missing", steps=numbers))
    wait = estimate_text(
        rules, ctx.store, applicant, ctx.tr, ctx.services.estimates
    )  # from this lab's own timestamps
    if wait:
        lines.append("")
        lines.append(wait)
    return "\n".join(lines)


_ACCESS_ENDED = {
    "suspended": "lifecycle.status_suspended",
    "revoked": "lifecycle.status_revoked",
    "closed": "lifecycle.status_closed",
}
"""The last line of a finished checklist when access ended since the approval (bot/entitlements/)."""


def finished_line(t: Callable[..., str], applicant: Applicant) -> str:
    """Every step done: "approved", unless the access it gave was suspended, revoked or closed
    since (a checklist must never say "approved" to someone whose access was taken away)."""
    return t(_ACCESS_ENDED.get(applicant.access.state, "status.all_done"))


def checklist_message(ctx: Context, first_line: str = "") -> Outgoing:
    """The checklist (after `first_line`, when given), with the current step's buttons."""
    text = checklist_text(ctx)
    return with_step_buttons(ctx, f"{first_line}\n\n{text}" if first_line else text)


def next_step_text(ctx: Context) -> str:
    """After a step is completed: what comes next (or that the package went to review)."""
    rules = ctx.rules
    applicant = ctx.applicant()
    step = current_step(rules, applicant)
    if step is None:
        return finished_line(ctx.t, applicant)
    return step_instructions(ctx, step, rules.step_index(step.id) + 1)


def next_step_message(ctx: Context, first_line: str = "") -> Outgoing:
    text = next_step_text(ctx)
    return with_step_buttons(ctx, f"{first_line}\n\n{text}" if first_line else text)
