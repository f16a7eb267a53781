"""How progress is shown to an applicant: the checklist, the current step's instructions, what is missing."""

from __future__ import annotations

from bot.context import Context
from bot.rules import Step
from bot.step_kinds import kind_of
from bot.workflow import checklist, current_step, done_count, missing_for_review

_MARKS = {"done": "✅", "current": "👉", "todo": "⬜"}


def step_instructions(ctx: Context, step: Step, number: int) -> str:
    lang = ctx.lang
    parts = [ctx.t("status.now", number=number, title=step.title), step.help.get(lang).strip()]
    state = ctx.applicant().steps.get(step.id)
    if state is not None and state.status == "reopened" and state.note:
        parts.append(ctx.t("status.reopened_because", reason=state.note))
    if step.links:
        parts.append(ctx.t("status.links"))
        parts.extend(f"• {link.label.get(lang)}: {link.url}" for link in step.links)
    parts.append(kind_of(step).how_to_finish(step, ctx.rules, lang, ctx.tr))
    return "\n".join(p for p in parts if p)


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
        lines.append(f"{_MARKS[item.state]} {item.number}. {item.step.title.get(lang)}{suffix}")
    step = current_step(rules, applicant)
    if step is None:
        lines.append("")
        lines.append(ctx.t("status.all_done"))
        return "\n".join(lines)
    if with_instructions:
        lines.append("")
        lines.append(step_instructions(ctx, step, rules.step_index(step.id) + 1))
    missing = missing_for_review(rules, applicant)
    if missing and not kind_of(step).decided_by_reviewers:
        numbers = ", ".join(str(rules.step_index(s.id) + 1) for s in missing)
        lines.append("")
        lines.append(ctx.t("status.missing", steps=numbers))
    return "\n".join(lines)


def next_step_text(ctx: Context) -> str:
    """After a step is completed: what comes next (or that the package went to review)."""
    rules = ctx.rules
    step = current_step(rules, ctx.applicant())
    if step is None:
        return ctx.t("status.all_done")
    return step_instructions(ctx, step, rules.step_index(step.id) + 1)
