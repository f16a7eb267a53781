"""Return for changes: the review post's button, the return emoji, the return form, and the text
command `return ID STEP REASON`. The desk decides (bot/review/returns.py); deliveries go out after
its lock is released.

Where the platform has no forms (and for the emoji), the reviewer is asked in DM for the command,
with the steps and the reasons numbered: nothing is decided until they name a step and a reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from bot.events import ButtonPress, DirectMessage, FormSubmitted, ReactionAdded
from bot.handlers.review import reason_menu, tell_voter
from bot.models import Review
from bot.review import reasons, returns
from bot.review.reasons import Chosen
from bot.rules import Step


def ask_for_return(ctx: Context, review: Review) -> None:
    """How to return this package in text: the command, the steps, the reasons."""
    ctx.reply(
        ctx.t(
            "returns.ask",
            applicant=ctx.messenger.mention(review.applicant),
            review=review.id,
            steps=ctx.desk.step_menu(ctx.tr),
        )
        + reason_menu(ctx, "return", review.id)
    )


def finish_return(ctx: Context, review: Review, step: Step | None, chosen: Chosen | None) -> None:
    if step is None or chosen is None:
        ask_for_return(ctx, review)
        return
    decision = ctx.desk.return_for_changes(review, ctx.user.key, step, chosen)
    if decision.status != "returned":
        tell_voter(ctx, decision)  # not a reviewer, their own package, already decided
        return
    ctx.carry_out(decision)
    ctx.reply(ctx.t("returns.ack", step=step.title))


@dataclass(frozen=True)
class ReturnAsked:
    review: Review | None


class ReturnPromptHandler:
    """The Return for changes button where no form could be shown, or the return emoji on a review
    post: the reviewer is asked for the step and the reason (nothing is decided yet)."""

    def match(self, ctx: Context) -> ReturnAsked | None:
        event = ctx.event
        if isinstance(event, ButtonPress) and event.action == returns.RETURN:
            ref = event.message
            review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id) or (
                ctx.store.review(event.value) if event.value else None
            )
            return ReturnAsked(review)
        if isinstance(event, ReactionAdded) and ctx.desk.is_return_emoji(event.emoji):
            ref = event.message
            review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id)
            return ReturnAsked(review) if review is not None else None
        return None

    def handle(self, ctx: Context, found: ReturnAsked) -> None:
        review = found.review
        if review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        if not ctx.rules.is_reviewer(ctx.user.key):
            ctx.reply(ctx.t("review.not_reviewer", what=ctx.t("review.via_button")))
            return
        if review.state != "pending":
            state = ctx.t(f"review.state_{review.state}")
            ctx.reply(ctx.t("review.already_decided", state=state, what=ctx.t("review.via_button")))
            return
        ask_for_return(ctx, review)


@dataclass(frozen=True)
class FilledReturn:
    review: Review | None
    step: Step | None
    chosen: Chosen | None


class ReturnFormHandler:
    """The return form came back: the step, the reason chosen, the reviewer's own words."""

    def match(self, ctx: Context) -> FilledReturn | None:
        event = ctx.event
        if not isinstance(event, FormSubmitted) or event.form != returns.RETURN_FORM:
            return None
        ref = event.message
        review = (ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id) if ref else None) or (
            ctx.store.review(event.context) if event.context else None
        )
        step = ctx.desk.find_step(event.answer(returns.STEP_FIELD))
        chosen = reasons.from_form(
            ctx.rules, "return", event.answer(reasons.REASON_CHOICE), event.answer(reasons.NOTE)
        )
        return FilledReturn(review, step, chosen)

    def handle(self, ctx: Context, found: FilledReturn) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        finish_return(ctx, found.review, found.step, found.chosen)


@dataclass(frozen=True)
class ReturnCommand:
    review: Review | None
    rest: str


class ReturnCommandHandler:
    """`return ID STEP REASON` in DM: REASON is a number from the menu, one's own words, or both."""

    def match(self, ctx: Context) -> ReturnCommand | None:
        if not isinstance(ctx.event, DirectMessage) or not ctx.is_dm_text:
            return None
        if not ctx.rules.is_reviewer(ctx.user.key):
            return None
        command = returns.TEXT_COMMAND.match(ctx.text)
        if command is None:
            return None
        return ReturnCommand(ctx.store.review(command.group(1)), command.group(2).strip())

    def handle(self, ctx: Context, found: ReturnCommand) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        step, reason = ctx.desk.parse_reason(found.rest)
        chosen = reasons.from_text(ctx.rules, "return", reason) if step is not None else None
        finish_return(ctx, found.review, step, chosen)
