"""The review desk: complete packages go to the reviewers channel; votes become one decision.

Every decision goes through `vote`, `approve` and `reject`, whatever brought it (reaction, button,
form, admin override), so the rules (listed reviewers, distinct votes, no self-approval, nothing
after a decision) live in one place, and run one at a time.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from bot.platform import Adapter, DeliveryError
from bot.emoji import canonical, matches
from bot.events import (
    Button,
    ButtonPress,
    ButtonStyle,
    Choice,
    Destination,
    Form,
    FormField,
    MessageRef,
    Outgoing,
    OutgoingFile,
)
from bot.models import Applicant, PostRef, Review, StepState, Vote, from_iso
from bot.rules import Rules, Step
from bot.workflow import package_complete, review_step

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

APPROVE = "approve"
REJECT = "reject"
REJECT_FORM = "reject_reason"


@dataclass(frozen=True)
class VoteOutcome:
    """What a vote did, for the handler to tell the voter."""

    status: str
    """counted, withdrawn, decided, ask_reason, ignored, ignored_not_reviewer, ignored_self,
    already_decided"""
    review: Review | None = None


P = ParamSpec("P")
R = TypeVar("R")


def _serialized(method: Callable[Concatenate[ReviewDesk, P], R]) -> Callable[Concatenate[ReviewDesk, P], R]:
    """Decisions are check-then-act (still pending? enough votes?): one at a time, across threads."""

    @functools.wraps(method)
    def locked(desk: ReviewDesk, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with desk._lock:
            return method(desk, *args, **kwargs)

    return locked


class ReviewDesk:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._lock = threading.RLock()

    @property
    def rules(self) -> Rules:
        return self.bot.rules

    # -- submission ------------------------------------------------------------------------

    def pending_review(self, applicant: Applicant) -> Review | None:
        review = self.bot.store.review(applicant.review_id) if applicant.review_id else None
        return review if review is not None and review.state == "pending" else None

    def start_round(self, applicant_key: str) -> Review:
        """A new pending review round, linked from the applicant's record."""
        review = Review(
            id=secrets.token_hex(6),
            applicant=applicant_key,
            state="pending",
            created=self.bot.store.now(),
            platform=applicant_key.split(":", 1)[0],
        )
        self.bot.store.create_review(review)
        self.bot.store.update(applicant_key, lambda a: setattr(a, "review_id", review.id))
        return review

    @_serialized
    def submit_if_complete(self, applicant_key: str) -> Review | None:
        """Open a review round once every step before the review is done; post it once."""
        rules = self.rules
        applicant = self.bot.store.get(applicant_key)
        final = review_step(rules)
        if applicant is None or final is None or applicant.is_done(final.id):
            return None
        if not package_complete(rules, applicant):
            return None
        existing = self.pending_review(applicant)
        if existing is not None:
            return existing
        review = self.start_round(applicant_key)
        self.bot.store.audit(applicant_key, "review.opened", applicant_key, review=review.id)
        self.bot.send_dm(applicant_key, "review.submitted")
        return self.post(review.id)

    @_serialized
    def post(self, review_id: str) -> Review | None:
        """Post (or re-post after a failure) the summary in the reviewers channel."""
        review = self.bot.store.review(review_id)
        if review is None or review.state != "pending":
            return review
        adapter = self.bot.adapters.get(review.platform)
        channel = self.bot.reviewers_channel(review.platform)
        if adapter is None or not channel:
            log.error(
                "no reviewers channel set for %s in rules.yaml: review %s waits", review.platform, review.id
            )
            self.bot.notify_admins("admin.no_reviewers_channel", platform=review.platform)
            return review
        applicant = self.bot.store.get(review.applicant)
        if applicant is None:
            return review
        ref = self.bot.send(adapter, Destination.to_channel(channel), self.summary(applicant, review))
        if ref is None:
            return review  # logged by send; the reminder tick posts it again later
        post = PostRef(ref.platform, ref.channel, ref.message_id)
        now = self.bot.store.now()

        def remember(r: Review) -> None:
            r.posts.append(post)
            r.last_ping = now

        review = self.bot.store.update_review(review.id, remember)
        self.bot.store.audit("", "review.posted", review.applicant, review=review.id)
        self._share_files(applicant, adapter, ref)
        return review

    def _shared_steps(self) -> dict[str, Step]:
        """Document steps whose profile asks for the file to reach the reviewers, by document name."""
        documents = self.rules.documents
        return {
            s.document: s
            for s in self.rules.steps
            if s.document and s.document in documents and documents[s.document].share_with_reviewers
        }

    def _share_files(self, applicant: Applicant, adapter: Adapter, post: MessageRef) -> None:
        """Attach shared documents under the post: only in the private reviewers channel."""
        lang = self.rules.language
        t = self.bot.translator.t
        for step in self._shared_steps().values():
            state = applicant.steps.get(step.id)
            sha = state.evidence.get("sha256") if state is not None else None
            doc = next((d for d in applicant.documents if d.sha256 == sha and d.stored_file), None)
            if doc is None:
                continue
            title = step.title.get(lang)
            thread = post if adapter.capabilities.threads else None
            where = Destination.to_channel(post.channel, thread)
            if not adapter.capabilities.files:
                self.bot.send(adapter, where, t(lang, "review.file_not_shareable", step=title))
                continue
            try:
                data = (self.bot.store.files_dir / doc.stored_file).read_bytes()
            except OSError as exc:
                log.error("the shared file for step %s is missing (%s)", step.id, exc.strerror)
                continue
            suffix = doc.stored_file.rsplit(".", 1)[-1] if "." in doc.stored_file else "bin"
            attachment = OutgoingFile(f"{step.id}.{suffix}", data)  # no personal name in the file name
            self.bot.send(
                adapter, where, Outgoing(t(lang, "review.shared_file", step=title), files=(attachment,))
            )

    def _drop_shared_files(self, review: Review) -> None:
        """Once decided, shared files go, unless rules.yaml keeps uploads anyway."""
        if self.rules.retention.keep_files:
            return
        steps = {s.id for s in self._shared_steps().values()}
        removed = self.bot.store.drop_files(review.applicant, lambda d: d.step in steps)
        if removed:
            self.bot.store.audit("", "review.files_deleted", review.applicant, count=removed)

    def summary(self, applicant: Applicant, review: Review) -> Outgoing:
        rules = self.rules
        lang = rules.language
        t = self.bot.translator.t
        mention = self.bot.mention(applicant.key)
        lines = [t(lang, "review.post_intro", applicant=mention, program=rules.program.name.get(lang))]
        fields: list[tuple[str, str]] = []
        for number, step in enumerate(rules.steps, start=1):
            if step.complete_by == "review":
                continue
            value = self._evidence_text(applicant, step, lang)
            fields.append((f"{number}. {step.title.get(lang)}", value))
            lines.append(f"{number}. {step.title.get(lang)}: {value}")
        days = max(0, (self.bot.clock() - from_iso(applicant.created)).days)
        lines.append(t(lang, "review.post_took", days=days))
        approve = rules.reviewers.approve[0] if rules.reviewers.approve else "✅"
        reject = rules.reviewers.reject[0] if rules.reviewers.reject else "❌"
        how = t(
            lang,
            "review.post_how",
            approve=canonical(approve),
            reject=canonical(reject),
            needed=rules.reviewers.approvals_required,
        )
        lines.append(how)
        buttons = (
            Button(APPROVE, t(lang, "review.button_approve"), review.id, ButtonStyle.PRIMARY),
            Button(REJECT, t(lang, "review.button_reject"), review.id, ButtonStyle.DANGER),
        )
        return Outgoing(
            text="\n".join(lines),
            title=t(lang, "review.post_title", applicant=mention),
            fields=(
                *fields,
                (t(lang, "review.post_took_label"), t(lang, "review.post_took_days", days=days)),
                (t(lang, "review.post_how_label"), how),
            ),
            buttons=buttons,
            reactions=(canonical(approve), canonical(reject)),
        )

    def _evidence_text(self, applicant: Applicant, step: Step, lang: str) -> str:
        t = self.bot.translator.t
        state = applicant.steps.get(step.id)
        if state is None or state.status != "done":
            return t(lang, "review.evidence_missing")
        evidence = state.evidence
        if step.complete_by == "answer":
            answer = str(evidence.get("answer", ""))
            if step.review_link:
                return f"{answer} ({step.review_link.replace('{answer}', urllib.parse.quote(answer))})"
            return answer
        if step.complete_by == "document":
            return self._document_text(evidence, lang)
        return t(lang, "review.evidence_confirmed", date=state.at[:10])

    def _document_text(self, evidence: dict[str, object], lang: str) -> str:
        t = self.bot.translator.t
        fields = evidence.get("fields") or {}
        assert isinstance(fields, dict)
        parts = []
        labels = (
            ("course_learner_group", "review.f_course"),
            ("completion_date", "review.f_completed"),
            ("expiration_date", "review.f_expires"),
            ("record_id", "review.f_record"),
            ("verification_url", "review.f_verify"),
        )
        for name, key in labels:
            if fields.get(name):
                parts.append(f"{t(lang, key)}: {fields[name]}")
        if self.rules.reviewers.show_email and fields.get("email"):
            parts.append(f"{t(lang, 'review.f_email')}: {fields['email']}")
        kind = str(evidence.get("kind", ""))
        if kind in ("image", "pdf") and not parts:
            parts.append(t(lang, "review.f_file_kind", kind=kind))
        warnings = evidence.get("warnings") or []
        assert isinstance(warnings, list)
        if evidence.get("needs_manual_check"):
            parts.append(t(lang, "review.f_manual"))
        if warnings:
            warned = [self._warning_label(str(w), lang) for w in warnings]
            parts.append(t(lang, "review.f_warnings", warnings=", ".join(warned)))
        return "; ".join(parts) if parts else t(lang, "review.evidence_confirmed", date="")

    def _warning_label(self, code: str, lang: str) -> str:
        """A short reviewer-facing label for a warning code (the code itself when none is written)."""
        key = f"review.warn_{code}"
        return self.bot.translator.t(lang, key) if self.bot.translator.has(key) else code

    # -- votes and decisions ---------------------------------------------------------------

    def vote_for_emoji(self, emoji: str) -> Vote | None:
        reviewers = self.rules.reviewers
        if matches(emoji, reviewers.approve):
            return "approve"
        if matches(emoji, reviewers.reject):
            return "reject"
        return None

    @_serialized
    def vote(self, review: Review, voter: str, vote: Vote, *, withdraw: bool = False) -> VoteOutcome:
        rules = self.rules
        review = self.bot.store.review(review.id) or review  # the caller's copy may be stale
        if not rules.is_reviewer(voter):
            self.bot.store.audit(voter, "review.vote_refused", review.applicant, reason="not_reviewer")
            return VoteOutcome("ignored_not_reviewer", review)
        if voter == review.applicant:
            self.bot.store.audit(voter, "review.vote_refused", review.applicant, reason="self")
            return VoteOutcome("ignored_self", review)
        if review.state != "pending":
            return VoteOutcome("already_decided", review)
        if withdraw:
            if review.votes.get(voter) != vote:
                return VoteOutcome("ignored", review)

            def drop(r: Review) -> None:
                r.votes.pop(voter, None)
                if voter in r.awaiting_reason_from:
                    r.awaiting_reason_from.remove(voter)

            review = self.bot.store.update_review(review.id, drop)
            self.bot.store.audit(voter, "review.vote_withdrawn", review.applicant, vote=vote)
            return VoteOutcome("withdrawn", review)

        def record(r: Review) -> None:
            r.votes[voter] = vote
            if vote == "reject" and voter not in r.awaiting_reason_from:
                r.awaiting_reason_from.append(voter)
            if vote == "approve" and voter in r.awaiting_reason_from:
                r.awaiting_reason_from.remove(voter)

        review = self.bot.store.update_review(review.id, record)
        self.bot.store.audit(voter, "review.vote", review.applicant, vote=vote)
        if vote == "reject":
            return VoteOutcome("ask_reason", review)
        approvals = [
            k
            for k, v in review.votes.items()
            if v == "approve" and rules.is_reviewer(k) and k != review.applicant
        ]
        if len(approvals) >= rules.reviewers.approvals_required:
            return VoteOutcome("decided", self.approve(review, approvals))
        return VoteOutcome("counted", review)

    @_serialized
    def approve(self, review: Review, by: list[str], *, override: bool = False) -> Review:
        current = self.bot.store.review(review.id)
        if current is not None and current.state != "pending":
            return current  # decided meanwhile (another thread, another admin): decide once only
        rules = self.rules
        step = review_step(rules)
        now = self.bot.store.now()

        def close(r: Review) -> None:
            r.state = "approved"
            r.decided_at = now
            r.decided_by = list(by)

        review = self.bot.store.update_review(review.id, close)

        def mark(a: Applicant) -> None:
            if step is not None:
                a.steps[step.id] = StepState("done", now, {"review": review.id}, by=",".join(by))
            a.approved_at = now

        self.bot.store.update(review.applicant, mark)
        self.bot.store.audit(by[0] if by else "", "review.approved", review.applicant, override=override)
        closing = rules.program.approved.get(self.bot.language_of(review.applicant))
        self.bot.send_dm(review.applicant, "review.approved_dm", closing=closing)
        decided_by = ", ".join(self.bot.mention(k) for k in by)
        self._announce(review, "review.channel_approved", by=decided_by)
        self._close_post(
            review, self.bot.translator.t(rules.language, "review.channel_approved", by=decided_by)
        )
        self._drop_shared_files(review)
        return review

    @_serialized
    def reject(self, review: Review, by: str, reason: str, reopen: Step, *, override: bool = False) -> Review:
        current = self.bot.store.review(review.id)
        if current is not None and current.state != "pending":
            return current
        now = self.bot.store.now()

        def close(r: Review) -> None:
            r.state = "rejected"
            r.decided_at = now
            r.decided_by = [by]
            r.reason = reason
            r.reopen_step = reopen.id
            r.awaiting_reason_from = []

        review = self.bot.store.update_review(review.id, close)

        def reopen_step(a: Applicant) -> None:
            a.steps[reopen.id] = StepState("reopened", now, {}, by=by, note=reason)
            a.review_id = ""
            a.step_started = now
            a.reminders_sent = [r for r in a.reminders_sent if not r.startswith(("stale:", "expiry:"))]

        applicant = self.bot.store.update(review.applicant, reopen_step)
        self.bot.store.audit(by, "review.rejected", review.applicant, step=reopen.id, override=override)
        self.bot.send_dm(
            review.applicant,
            "review.rejected_dm",
            reason=reason,
            step=reopen.title.get(applicant.lang),
        )
        self._announce(review, "review.channel_rejected", by=self.bot.mention(by), step=reopen.id)
        decided = self.bot.translator.t(
            self.rules.language, "review.channel_rejected", by=self.bot.mention(by), step=reopen.id
        )
        self._close_post(review, decided)
        self._drop_shared_files(review)
        return review

    def _close_post(self, review: Review, decided: str) -> None:
        """The post now says what was decided and offers no more buttons (votes after it change nothing)."""
        adapter = self.bot.adapters.get(review.platform)
        applicant = self.bot.store.get(review.applicant)
        if adapter is None or applicant is None or not review.posts:
            return
        summary = self.summary(applicant, review)
        label = self.bot.translator.t(self.rules.language, "review.post_decision_label")
        closed = dataclasses.replace(
            summary,
            # The last line and field said how to decide: the decision takes their place.
            text=summary.text.rsplit("\n", 1)[0] + "\n" + decided,
            fields=(*summary.fields[:-1], (label, decided)),
            buttons=(),
            reactions=(),
        )
        post = review.posts[-1]
        try:
            adapter.edit(MessageRef(post.platform, post.channel, post.message_id), closed)
        except DeliveryError as exc:  # the decision stands; only the post's look is stale
            log.warning("could not update the review post of %s: %s", review.id, exc)

    def _announce(self, review: Review, key: str, **params: object) -> None:
        adapter = self.bot.adapters.get(review.platform)
        if adapter is None or not review.posts:
            return
        post = review.posts[-1]
        thread = (
            MessageRef(post.platform, post.channel, post.message_id) if adapter.capabilities.threads else None
        )
        text = self.bot.translator.t(self.rules.language, key, **params)
        self.bot.send(adapter, Destination.to_channel(post.channel, thread), text)

    def reping(self, review: Review, hours: int) -> None:
        """Remind the channel of a package still waiting, in the thread of its post where possible."""
        self._announce(review, "review.reping", hours=hours)

    # -- reasons ---------------------------------------------------------------------------

    def awaiting_reason(self, reviewer: str) -> Review | None:
        for review in self.bot.store.reviews():
            if review.state == "pending" and reviewer in review.awaiting_reason_from:
                return review
        return None

    def parse_reason(self, text: str) -> tuple[Step | None, str]:
        """'3 expired report', 'citi_training: expired report' -> (step, reason)."""
        rules = self.rules
        match = re.match(r"^\s*([\w-]+)\s*[:.)\-]?\s*(.*)$", text, re.DOTALL)
        if match:
            head, rest = match.group(1), match.group(2).strip()
            step: Step | None = None
            if head.isdigit() and 1 <= int(head) <= len(rules.steps):
                step = rules.steps[int(head) - 1]
            else:
                step = rules.step(head.lower())
            if step is not None and step.complete_by != "review" and rest:
                return step, rest
        return None, text.strip()

    def form_for(self, press: ButtonPress, lang: str) -> Form | None:
        """The reject form: which step to reopen, and why (the applicant reads the reason)."""
        if press.action != REJECT:
            return None
        t = self.bot.translator.t
        choices = tuple(
            Choice(s.id, f"{n}. {s.title.get(lang)}")
            for n, s in enumerate(self.rules.steps, start=1)
            if s.complete_by != "review"
        )
        return Form(
            id=REJECT_FORM,
            title=t(lang, "review.form_title"),
            submit=t(lang, "review.form_submit"),
            cancel=t(lang, "review.form_cancel"),
            fields=(
                FormField("reopen_step", t(lang, "review.form_step"), "choice", choices, max_length=60),
                FormField("reason", t(lang, "review.form_reason"), "paragraph", max_length=1000),
            ),
            context=press.value,
        )

    def step_menu(self) -> str:
        return "\n".join(
            f"{n}. {s.id} ({s.title.get(self.rules.language)})"
            for n, s in enumerate(self.rules.steps, start=1)
            if s.complete_by != "review"
        )
