"""Reviewers decide: emoji on the review post, buttons, and the reason for a rejection."""

from __future__ import annotations

from bot.core import Context
from bot.events import (
    ButtonPress,
    ChannelMessage,
    DirectMessage,
    FormSubmitted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.intents import Intent, understand
from bot.models import Review, Vote
from bot.review import APPROVE, REJECT, REJECT_FORM, VoteOutcome


def _tell_voter(ctx: Context, outcome: VoteOutcome) -> None:
    review = outcome.review
    if outcome.status == "ignored_not_reviewer":
        ctx.reply(ctx.t("review.not_reviewer"))
    elif outcome.status == "ignored_self":
        ctx.reply(ctx.t("review.not_yourself"))
    elif outcome.status == "already_decided" and review is not None:
        ctx.reply(ctx.t("review.already_decided", state=ctx.t(f"review.state_{review.state}")))
    elif outcome.status == "ask_reason":
        applicant = ctx.bot.mention(review.applicant) if review else ""
        ctx.reply(ctx.t("review.ask_reason", applicant=applicant, steps=ctx.bot.reviews.step_menu()))
    elif outcome.status == "counted" and review is not None:
        approvals = sum(1 for v in review.votes.values() if v == "approve")
        ctx.reply(ctx.t("review.counted", have=approvals, needed=ctx.rules.reviewers.approvals_required))


def _review_for(ctx: Context) -> Review | None:
    event = ctx.event
    assert isinstance(event, ReactionAdded | ReactionRemoved | ButtonPress)
    ref = event.message
    return ctx.bot.store.review_for_post(ref.platform, ref.channel, ref.message_id)


class ReactionVoteHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, ReactionAdded | ReactionRemoved)

    def handle(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, ReactionAdded | ReactionRemoved)
        review = _review_for(ctx)
        vote = ctx.bot.reviews.vote_for_emoji(event.emoji)
        if review is None or vote is None:
            return  # reactions on other messages, or other emoji: not a vote
        withdraw = isinstance(event, ReactionRemoved)
        outcome = ctx.bot.reviews.vote(review, ctx.user.key, vote, withdraw=withdraw)
        if withdraw and outcome.status in ("withdrawn", "ignored", "already_decided"):
            return  # removing a reaction needs no answer
        _tell_voter(ctx, outcome)


class ButtonVoteHandler:
    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, ButtonPress) and ctx.event.action in (APPROVE, REJECT)

    def handle(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, ButtonPress)
        review = _review_for(ctx) or (ctx.bot.store.review(event.value) if event.value else None)
        if review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        vote: Vote = "approve" if event.action == APPROVE else "reject"
        _tell_voter(ctx, ctx.bot.reviews.vote(review, ctx.user.key, vote))


class RejectFormHandler:
    """The reject form came back: the vote and its reason in one go."""

    def accepts(self, ctx: Context) -> bool:
        return isinstance(ctx.event, FormSubmitted) and ctx.event.form == REJECT_FORM

    def handle(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, FormSubmitted)
        review = (
            ctx.bot.store.review_for_post(
                event.message.platform, event.message.channel, event.message.message_id
            )
            if event.message is not None
            else None
        ) or (ctx.bot.store.review(event.context) if event.context else None)
        if review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        outcome = ctx.bot.reviews.vote(review, ctx.user.key, "reject")
        if outcome.status != "ask_reason":
            _tell_voter(ctx, outcome)
            return
        text = f"{event.answer('reopen_step')} {event.answer('reason')}".strip()
        finish_rejection(ctx, outcome.review or review, text)


def finish_rejection(ctx: Context, review: Review, text: str) -> None:
    desk = ctx.bot.reviews
    step, reason = desk.parse_reason(text)
    if step is None or not reason:
        ctx.reply(ctx.t("review.reason_needs_step", steps=desk.step_menu()))
        return
    desk.reject(review, ctx.user.key, reason, step)
    ctx.reply(ctx.t("review.rejected_ack", step=step.id))


class RejectReasonHandler:
    """The reviewer's next DM (or thread reply) after a rejection is the reason; 'cancel' withdraws."""

    def accepts(self, ctx: Context) -> bool:
        event = ctx.event
        if not isinstance(event, DirectMessage | ChannelMessage) or not ctx.text:
            return False
        if not ctx.rules.is_reviewer(ctx.user.key):
            return False
        review = ctx.bot.reviews.awaiting_reason(ctx.user.key)
        if review is None:
            return False
        if isinstance(event, ChannelMessage):  # only a reply in the review post's own thread
            return event.thread is not None and any(
                (p.channel, p.message_id) == (event.thread.channel, event.thread.message_id)
                for p in review.posts
            )
        return True

    def handle(self, ctx: Context) -> None:
        review = ctx.bot.reviews.awaiting_reason(ctx.user.key)
        assert review is not None
        if understand(ctx.text).intent is Intent.CANCEL:
            ctx.bot.reviews.vote(review, ctx.user.key, "reject", withdraw=True)
            ctx.reply(ctx.t("review.reject_cancelled"))
            return
        finish_rejection(ctx, review, ctx.text)
