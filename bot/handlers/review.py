"""Reviewers decide: emoji on the review post, buttons, the reject form, text commands, and the
reason for a rejection. Each decision's deliveries go out after the desk's lock is released."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.context import Context
from bot.emoji import canonical
from bot.events import (
    ButtonPress,
    ChannelMessage,
    DirectMessage,
    FormSubmitted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.handlers.admin import parse_command
from bot.intents import Intent
from bot.models import Review, Vote
from bot.review import reasons, stages
from bot.review.desk import REASON_WAIT_MINUTES, REJECT_FORM, Decision
from bot.review.reasons import Chosen
from bot.review.render import APPROVE, CLAIM, REJECT
from bot.rules import ReasonUse

_TEXT_VOTE = re.compile(r"^\s*/?(approve|reject)\s+([0-9a-f]{12})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _what_they_did(ctx: Context) -> str:
    """The word for how the person voted, so the answer names what they actually did."""
    if isinstance(ctx.event, ReactionAdded | ReactionRemoved):
        return ctx.t("review.via_reaction")
    if isinstance(ctx.event, ButtonPress | FormSubmitted):
        return ctx.t("review.via_button")
    return ctx.t("review.via_text")


def tell_voter(ctx: Context, decision: Decision) -> None:
    """Deliver what the decision left to send, then tell the voter what their vote did."""
    ctx.carry_out(decision)
    review = decision.review
    what = _what_they_did(ctx)
    if stage_reply(ctx, decision, what):
        return
    if decision.status == "ignored_not_reviewer":
        ctx.reply(ctx.t("review.not_reviewer", what=what))
    elif decision.status == "ignored_self":
        ctx.reply(ctx.t("review.not_yourself", what=what))
    elif decision.status == "already_decided" and review is not None:
        ctx.reply(ctx.t("review.already_decided", state=ctx.t(f"review.state_{review.state}"), what=what))
    elif decision.status == "ask_reason" and review is not None:
        ctx.reply(
            ctx.t(
                "review.ask_reason",
                applicant=ctx.messenger.mention(review.applicant),
                steps=ctx.desk.step_menu(ctx.tr),
                minutes=REASON_WAIT_MINUTES,
                review=review.id,
            )
            + reason_menu(ctx, "reject")
        )
    elif decision.status == "counted" and review is not None:
        have, needed = stages.tally(ctx.rules, review, ctx.store.get(review.applicant))
        ctx.reply(ctx.t("review.counted", have=have, needed=needed))


def stage_reply(ctx: Context, decision: Decision, what: str) -> bool:
    """The answers only stages of approval give (bot/review/stages.py); False for any other status."""
    review = decision.review
    if review is None or decision.status not in ("ignored_wrong_stage", "stage_passed"):
        return False
    rules = ctx.rules
    if decision.status == "ignored_wrong_stage":
        stage = stages.current(rules, review)
        ctx.reply(ctx.t("stages.not_your_stage", what=what, stage=stage.title))
        return True
    done = next((s for s in stages.effective(rules) if s.id == review.stages_passed[-1].stage), None)
    now = stages.current(rules, review)
    ctx.reply(ctx.t("stages.passed_ack", stage=done.title if done else "", next=now.title))
    return True


def reason_menu(ctx: Context, use: ReasonUse, review_id: str = "") -> str:
    """The numbered reasons rules.yaml offers, as a paragraph to add to a question ("" when none).
    With `review_id`, the example is the whole `return ID STEP REASON` command (a return is never
    taken from a bare reply, unlike a rejection's reason)."""
    listed = reasons.menu(ctx.rules, use, ctx.tr)
    if not listed:
        return ""
    if review_id:
        return "\n" + ctx.t("returns.reasons_menu_command", reasons=listed, review=review_id)
    return "\n" + ctx.t("returns.reasons_menu", reasons=listed)


def finish_rejection(ctx: Context, review: Review, text: str, chosen: Chosen | None = None) -> None:
    step, reason = ctx.desk.parse_reason(text)
    chosen = chosen or (reasons.from_text(ctx.rules, "reject", reason) if step is not None else None)
    if step is None or chosen is None:
        needs = ctx.t("review.reason_needs_step", steps=ctx.desk.step_menu(ctx.tr))
        ctx.reply(needs + reason_menu(ctx, "reject"))
        return
    decision = ctx.desk.reject(review, ctx.user.key, chosen, step)
    ctx.carry_out(decision)
    ctx.reply(ctx.t("review.rejected_ack", step=step.id))


@dataclass(frozen=True)
class ReactionVote:
    review: Review
    vote: Vote
    withdraw: bool


class ReactionVoteHandler:
    """Reviewers' emoji on review posts (the core already dropped reactions on anything else)."""

    def match(self, ctx: Context) -> ReactionVote | None:
        event = ctx.event
        if not isinstance(event, ReactionAdded | ReactionRemoved):
            return None
        ref = event.message
        review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id)
        vote = ctx.desk.vote_for_emoji(event.emoji)
        if review is None or vote is None:
            return None
        return ReactionVote(review, vote, isinstance(event, ReactionRemoved))

    def handle(self, ctx: Context, found: ReactionVote) -> None:
        decision = ctx.desk.vote(found.review, ctx.user.key, found.vote, withdraw=found.withdraw)
        if found.withdraw and decision.status in ("withdrawn", "ignored", "already_decided"):
            ctx.carry_out(decision)
            return  # removing a reaction needs no answer
        tell_voter(ctx, decision)


@dataclass(frozen=True)
class ButtonVote:
    review: Review | None
    vote: Vote


class ButtonVoteHandler:
    """Approve / Reject buttons on the review post."""

    def match(self, ctx: Context) -> ButtonVote | None:
        event = ctx.event
        if not isinstance(event, ButtonPress) or event.action not in (APPROVE, REJECT):
            return None
        ref = event.message
        review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id) or (
            ctx.store.review(event.value) if event.value else None
        )
        return ButtonVote(review, "approve" if event.action == APPROVE else "reject")

    def handle(self, ctx: Context, found: ButtonVote) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        tell_voter(ctx, ctx.desk.vote(found.review, ctx.user.key, found.vote))


@dataclass(frozen=True)
class ClaimRequest:
    review: Review | None
    release: bool


class ClaimHandler:
    """ "I'll take this": the Claim button, or the claim emoji (👀) on a review post; removing the
    emoji releases one's own claim."""

    def match(self, ctx: Context) -> ClaimRequest | None:
        event = ctx.event
        if isinstance(event, ButtonPress) and event.action == CLAIM:
            ref = event.message
            review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id) or (
                ctx.store.review(event.value) if event.value else None
            )
            return ClaimRequest(review, release=False)
        if isinstance(event, ReactionAdded | ReactionRemoved) and ctx.desk.is_claim_emoji(event.emoji):
            ref = event.message
            review = ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id)
            return ClaimRequest(review, isinstance(event, ReactionRemoved)) if review is not None else None
        return None

    def handle(self, ctx: Context, found: ClaimRequest) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        decision = ctx.desk.claim(found.review, ctx.user.key, release=found.release)
        ctx.carry_out(decision)
        review = decision.review or found.review
        if found.release:
            if decision.status == "released":
                ctx.reply(ctx.t("review.release_ack"))
            return  # removing a reaction needs no other answer
        if decision.status == "claimed":
            ctx.reply(ctx.t("review.claim_ack"))
        elif decision.status == "already_claimed":
            ctx.reply(ctx.t("review.claim_mine", emoji=_claim_emoji(ctx)))
        elif decision.status == "claim_taken":
            ctx.reply(ctx.t("claim.taken", reviewer=ctx.messenger.mention(review.claimed_by)))
        else:
            tell_voter(ctx, decision)  # not a reviewer, their own package, already decided


def _claim_emoji(ctx: Context) -> str:
    claim = ctx.rules.reviewers.claim
    return canonical(claim[0]) if claim else "👀"


@dataclass(frozen=True)
class FilledRejectForm:
    review: Review | None
    text: str
    chosen: Chosen | None = None


class RejectFormHandler:
    """The reject form came back: the vote and its reason in one go."""

    def match(self, ctx: Context) -> FilledRejectForm | None:
        event = ctx.event
        if not isinstance(event, FormSubmitted) or event.form != REJECT_FORM:
            return None
        ref = event.message
        review = (ctx.store.review_for_post(ref.platform, ref.channel, ref.message_id) if ref else None) or (
            ctx.store.review(event.context) if event.context else None
        )
        chosen = reasons.from_form(
            ctx.rules, "reject", event.answer(reasons.REASON_CHOICE), event.answer(reasons.NOTE)
        )
        step = event.answer("reopen_step")
        text = f"{step} {chosen.text_in(ctx.rules.language) if chosen else ''}".strip()
        return FilledRejectForm(review, text, chosen)

    def handle(self, ctx: Context, found: FilledRejectForm) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        decision = ctx.desk.vote(found.review, ctx.user.key, "reject")
        if decision.status != "ask_reason":
            tell_voter(ctx, decision)
            return
        finish_rejection(ctx, decision.review or found.review, found.text, found.chosen)


@dataclass(frozen=True)
class TextVote:
    review: Review | None
    vote: Vote
    rest: str


class TextVoteHandler:
    """`approve ID` / `reject ID [step reason]`: how reviewers decide where posts have neither
    buttons nor reactions (the review post says so), and a way that works on every platform."""

    def match(self, ctx: Context) -> TextVote | None:
        if not ctx.is_dm_text or not ctx.rules.is_reviewer(ctx.user.key):
            return None
        command = _TEXT_VOTE.match(ctx.text)
        if command is None:
            return None
        vote: Vote = "approve" if command.group(1).lower() == APPROVE else "reject"
        return TextVote(ctx.store.review(command.group(2)), vote, command.group(3).strip())

    def handle(self, ctx: Context, found: TextVote) -> None:
        if found.review is None:
            ctx.reply(ctx.t("review.unknown_post"))
            return
        decision = ctx.desk.vote(found.review, ctx.user.key, found.vote)
        if decision.status == "ask_reason" and found.rest:
            finish_rejection(ctx, decision.review or found.review, found.rest)
            return
        tell_voter(ctx, decision)


@dataclass(frozen=True)
class ReasonReply:
    waiting: tuple[Review, ...]
    """The rounds this reason may be for: one, or several (then the reviewer is asked which)."""
    cancel: bool


_LET_THROUGH = (Intent.HELP, Intent.STATUS, Intent.NEXT, Intent.GREETING, Intent.THANKS, Intent.LANGUAGE)


class RejectReasonHandler:
    """After a rejection, the reviewer's next message is its reason; 'cancel' withdraws it.

    A reply in a review post's thread belongs to that post's round. In DM, a reviewer waiting on
    several rounds is asked which one (never guessed). Commands and questions go through to their
    handlers, and the prompt expires after REASON_WAIT_MINUTES."""

    def match(self, ctx: Context) -> ReasonReply | None:
        event = ctx.event
        if not isinstance(event, DirectMessage | ChannelMessage) or not ctx.text:
            return None
        if not ctx.rules.is_reviewer(ctx.user.key):
            return None
        waiting = ctx.desk.awaiting_reasons(ctx.user.key, ctx.services.clock())
        if isinstance(event, ChannelMessage):  # only a reply in a review post's own thread
            thread = event.thread
            waiting = [
                r
                for r in waiting
                if thread is not None
                and any((p.channel, p.message_id) == (thread.channel, thread.message_id) for p in r.posts)
            ]
        if not waiting:
            return None
        cancel = ctx.understood.intent is Intent.CANCEL
        step, _reason = ctx.desk.parse_reason(ctx.text)
        if not cancel and step is None and (ctx.understood.intent in _LET_THROUGH or parse_command(ctx.text)):
            return None  # "pending", "help", "status": not a reason
        return ReasonReply(tuple(waiting), cancel)

    def handle(self, ctx: Context, found: ReasonReply) -> None:
        if found.cancel:
            for review in found.waiting:
                ctx.carry_out(ctx.desk.vote(review, ctx.user.key, "reject", withdraw=True))
            ctx.reply(ctx.t("review.reject_cancelled"))
            return
        if len(found.waiting) > 1:
            choices = "\n".join(
                f"• {ctx.messenger.mention(r.applicant)}: `reject {r.id} STEP REASON`" for r in found.waiting
            )
            ctx.reply(ctx.t("review.which_package", choices=choices))
            return
        finish_rejection(ctx, found.waiting[0], ctx.text)
