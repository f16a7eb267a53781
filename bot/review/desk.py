"""The review desk decides: complete packages open a round; votes become one decision.

Every decision goes through `vote`, `approve` and `reject`, whatever brought it (reaction, button,
form, text command, admin override), so the rules (listed reviewers, distinct votes, no
self-approval, nothing after a decision) live in one place and run one at a time, under one lock.
Deciding writes the store and returns what is left to send (`Delivery` values); nothing is sent
while the lock is held: the caller hands the deliveries to the outbox (Messenger.deliver).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.emoji import matches
from bot.entitlements.access import open_access
from bot.events import ButtonPress, Choice, Form, FormField
from bot.i18n import Bound
from bot.messenger import Delivery, Mention, Tell, encode
from bot.models import Applicant, Review, StepState, Vote, from_iso
from bot.review import claims, reasons, returns, stages
from bot.review.deliveries import ClosePost, DropSharedFiles, PostReview, RefreshPost, ReviewNote
from bot.review.reasons import Chosen
from bot.review.render import REJECT
from bot.rules import Rules, Step
from bot.step_kinds import kind_of
from bot.store import Store
from bot.workflow import package_complete, review_step

REJECT_FORM = "reject_reason"
REASON_WAIT_MINUTES = 30
"""How long a reviewer's next message is taken as the reason for their rejection. After that the
vote stays, and `reject ID STEP REASON` still finishes it."""

VoteStatus = str
"""counted, withdrawn, decided, ask_reason, ignored, ignored_not_reviewer, ignored_self, already_decided;
stages (bot/review/stages.py): stage_passed, ignored_wrong_stage;
claims: claimed, released, already_claimed, claim_taken"""


@dataclass(frozen=True)
class Decision:
    """What a call to the desk did, and what is left to send once the lock is released."""

    status: VoteStatus
    review: Review | None = None
    deliveries: tuple[Delivery, ...] = ()
    op_id: str = ""
    """The committed operation the deliveries belong to (kept in the operation log until sent)."""


class ReviewDesk:
    def __init__(self, store: Store, rules: Callable[[], Rules]) -> None:
        self.store = store
        self._rules = rules
        self._lock = threading.RLock()

    @property
    def rules(self) -> Rules:
        return self._rules()

    # -- rounds ------------------------------------------------------------------------------

    def pending_review(self, applicant: Applicant) -> Review | None:
        review = self.store.review(applicant.review_id) if applicant.review_id else None
        return review if review is not None and review.state == "pending" else None

    def _new_round(self, applicant: Applicant) -> Review:
        review = Review(
            id=secrets.token_hex(6),
            applicant=applicant.key,
            state="pending",
            created=self.store.now(),
            platform=applicant.key.split(":", 1)[0],
            stage=stages.first(self.rules).id,
        )
        applicant.review_id = review.id
        return review

    def _commit(
        self,
        status: VoteStatus,
        review: Review,
        applicant: Applicant | None,
        deliveries: tuple[Delivery, ...],
    ) -> Decision:
        """Record the review and the applicant as one operation, with what it leaves to send."""
        op_id = secrets.token_hex(8)
        self.store.commit(
            op_id,
            applicants=[applicant] if applicant is not None else [],
            reviews=[review],
            deliveries=[encode(d) for d in deliveries],
        )
        return Decision(status, review, deliveries, op_id)

    def open_round(self, applicant_key: str) -> Review | None:
        """The pending round of an applicant, opened if there is none (admin overrides)."""
        with self._lock, self.store.exclusive():
            applicant = self.store.get(applicant_key)
            if applicant is None:
                return None
            existing = self.pending_review(applicant)
            if existing is not None:
                return existing
            review = self._new_round(applicant)
            self._commit("opened", review, applicant, ())
            return review

    def submit_if_complete(self, applicant_key: str) -> Decision:
        """Open a review round once every step before the review is done; post it once."""
        with self._lock, self.store.exclusive():
            rules = self.rules
            applicant = self.store.get(applicant_key)
            final = review_step(rules)
            if applicant is None or final is None or applicant.is_done(final.id):
                return Decision("ignored")
            if not package_complete(rules, applicant):
                return Decision("ignored")
            back = self._come_back(applicant)
            if back is not None:
                return back
            existing = self.pending_review(applicant)
            if existing is not None:
                return Decision("counted", existing)
            review = self._new_round(applicant)
            decision = self._commit(
                "opened", review, applicant, (Tell(applicant_key, "review.submitted"), PostReview(review.id))
            )
            self.store.audit(applicant_key, "review.opened", applicant_key, review=review.id)
            return decision

    # -- returns for changes (bot/review/returns.py) -------------------------------------------

    def is_return_emoji(self, emoji: str) -> bool:
        return matches(emoji, self.rules.reviewers.return_for_changes)

    def return_for_changes(self, review: Review, by: str, step: Step, chosen: Chosen) -> Decision:
        """`by` asks for changes on `step`: the round is `returned` (not rejected), only that step
        reopens, the applicant is told why in their language and the post says so."""
        with self._lock, self.store.exclusive():
            rules = self.rules
            current = self.store.review(review.id) or review
            stopped = self._may_act(current, by, "review.vote_refused")
            if stopped is not None:
                return stopped
            applicant = self.store.get(current.applicant)
            done = returns.give_back(current, applicant, by, step, chosen, self.store.now(), rules.language)
            decision = self._commit("returned", done.review, done.applicant, done.deliveries)
            self.store.audit(by, "review.returned", current.applicant, step=step.id, reason=chosen.id)
            return decision

    def _come_back(self, applicant: Applicant) -> Decision | None:
        """A package returned for changes, complete again: the same round and post, pending again."""
        review = self.store.review(applicant.review_id) if applicant.review_id else None
        if review is None or not returns.returned_round(review):
            return None
        done = returns.come_back(self.rules, review, applicant, self.store.now())
        decision = self._commit("opened", done.review, None, done.deliveries)
        self.store.audit(applicant.key, "review.came_back", applicant.key, review=review.id)
        return decision

    # -- claims ("I'll take this", bot/review/claims.py) ---------------------------------------

    def is_claim_emoji(self, emoji: str) -> bool:
        return matches(emoji, self.rules.reviewers.claim)

    def claim(self, review: Review, reviewer: str, *, release: bool = False) -> Decision:
        """`reviewer` takes the package (or lets it go, `release`): a note in the post's thread and
        the post redrawn with who took it. Another reviewer's live claim refuses (`claim_taken`)."""
        with self._lock, self.store.exclusive():
            rules = self.rules
            current = self.store.review(review.id) or review
            refused = self._refusal(current, reviewer)
            if refused:
                self.store.audit(reviewer, "review.claim_refused", current.applicant, reason=refused)
                return Decision(f"ignored_{refused}", current)
            if reviewer == current.applicant:
                return Decision("ignored_self", current)
            if current.state != "pending":
                return Decision("already_decided", current)
            try:
                if release:
                    changed = claims.release(current, reviewer)
                else:
                    now = from_iso(self.store.now())
                    changed = claims.claim(current, reviewer, now, rules.claims.stale_after_hours)
            except claims.ClaimRefused:
                return Decision("claim_taken", current)
            if changed == current:
                return Decision("ignored" if release else "already_claimed", current)
            key = "claim.released" if release else "claim.claimed"
            deliveries = (
                ReviewNote(current.id, key, {"reviewer": Mention(reviewer)}),
                RefreshPost(current.id),
                *stages.redraw_deliveries(rules, changed),
            )
            decision = self._commit("released" if release else "claimed", changed, None, deliveries)
            self.store.audit(reviewer, key, current.applicant, review=current.id)
            return decision

    def release_stale_claims(self) -> list[Decision]:
        """Claims left undecided past `claims.stale_after_hours`, released, each with a note."""
        with self._lock, self.store.exclusive():
            now = from_iso(self.store.now())
            hours = self.rules.claims.stale_after_hours
            out = []
            if hours <= 0:
                return []
            old_enough = self.store.reviews_claimed_by_then(now - timedelta(hours=hours))
            for released, who, held in claims.release_stale(old_enough, now, hours):
                note = ReviewNote(
                    released.id, "claim.released_stale", {"reviewer": Mention(who), "hours": held}
                )
                out.append(self._commit("released", released, None, (note, RefreshPost(released.id))))
                self.store.audit("", "claim.released_stale", released.applicant, review=released.id)
            return out

    # -- votes and decisions -----------------------------------------------------------------

    def vote_for_emoji(self, emoji: str) -> Vote | None:
        reviewers = self.rules.reviewers
        if matches(emoji, reviewers.approve):
            return "approve"
        if matches(emoji, reviewers.reject):
            return "reject"
        return None

    def vote(self, review: Review, voter: str, vote: Vote, *, withdraw: bool = False) -> Decision:
        with self._lock, self.store.exclusive():
            rules = self.rules
            review = self.store.review(review.id) or review  # the caller's copy may be stale
            stopped = self._may_act(review, voter, "review.vote_refused")
            if stopped is not None:
                return stopped
            if withdraw:
                if review.votes.get(voter) != vote:
                    return Decision("ignored", review)

                def drop(r: Review) -> None:
                    r.votes.pop(voter, None)
                    if voter in r.awaiting_reason_from:
                        r.awaiting_reason_from.remove(voter)

                review = self.store.update_review(review.id, drop)
                self.store.audit(voter, "review.vote_withdrawn", review.applicant, vote=vote)
                return Decision("withdrawn", review)

            asked = self.store.now()

            def record(r: Review) -> None:
                r.votes[voter] = vote
                if vote == "reject":
                    if voter not in r.awaiting_reason_from:
                        r.awaiting_reason_from.append(voter)
                    r.reason_asked_at[voter] = asked
                if vote == "approve" and voter in r.awaiting_reason_from:
                    r.awaiting_reason_from.remove(voter)
                    r.reason_asked_at.pop(voter, None)

            review = self.store.update_review(review.id, record)
            self.store.audit(voter, "review.vote", review.applicant, vote=vote)
            if vote == "reject":
                return Decision("ask_reason", review)
            applicant = self.store.get(review.applicant)
            approvals = stages.approvals(rules, review, applicant)
            if stages.passed(rules, review, applicant):
                if stages.following(rules, stages.current(rules, review)) is not None:
                    return self._pass_stage(review, approvals)
                return self.approve(review, approvals)
            return Decision("counted", review, stages.redraw_deliveries(rules, review))

    def approve(self, review: Review, by: list[str], *, override: bool = False) -> Decision:
        with self._lock, self.store.exclusive():
            current = self.store.review(review.id)
            if current is None or current.state != "pending":
                return Decision("already_decided", current)  # decided meanwhile: decide once only
            if current.applicant in by:
                self.store.audit(current.applicant, "review.vote_refused", current.applicant, reason="self")
                return Decision("ignored_self", current)  # nobody approves their own package
            applicant = self.store.get(current.applicant)
            step = review_step(self.rules)
            now = self.store.now()
            current.state = "approved"
            current.decided_at = now
            current.decided_by = list(by)
            current.claimed_by = current.claimed_at = ""  # a decision releases the claim
            grants: list[Delivery] = []
            if applicant is not None:
                if step is not None:
                    applicant.steps[step.id] = StepState("done", now, {"review": current.id}, by=",".join(by))
                applicant.approved_at = now
                grants.extend(open_access(self.rules, applicant, now))  # committed with the decision
            deciders = tuple(Mention(k) for k in by)
            decision = self._commit(
                "decided",
                current,
                applicant,
                (
                    Tell(current.applicant, "review.approved_dm", {"closing": self.rules.program.approved}),
                    ReviewNote(current.id, "review.channel_approved", {"by": deciders}),
                    ClosePost(current.id, "review.channel_approved", {"by": deciders}),
                    *stages.closing_deliveries(self.rules, current, "review.channel_approved", by=deciders),
                    DropSharedFiles(current.id),
                    *grants,
                ),
            )
            self.store.audit(by[0] if by else "", "review.approved", current.applicant, override=override)
            return decision

    def reject(
        self, review: Review, by: str, reason: str | Chosen, reopen: Step, *, override: bool = False
    ) -> Decision:
        """`reason`: the reviewer's words, or a Chosen reason (bot/review/reasons.py), which the
        applicant reads in their own language."""
        chosen = reason if isinstance(reason, Chosen) else Chosen(None, reason)
        with self._lock, self.store.exclusive():
            current = self.store.review(review.id)
            if current is None or current.state != "pending":
                return Decision("already_decided", current)
            applicant = self.store.get(current.applicant)
            now = self.store.now()
            current.state = "rejected"
            current.decided_at = now
            current.decided_by = [by]
            current.claimed_by = current.claimed_at = ""  # a decision releases the claim
            current.reason = chosen.text_in(self.rules.language)
            current.reopen_step = reopen.id
            current.awaiting_reason_from = []
            current.reason_asked_at = {}
            if applicant is not None:
                said = chosen.text_in(applicant.lang)  # the checklist shows it in their language
                applicant.steps[reopen.id] = StepState("reopened", now, {}, by=by, note=said)
                applicant.review_id = ""
                applicant.step_started = now
                applicant.reminders_sent = [
                    r for r in applicant.reminders_sent if not r.startswith(("stale:", "expiry:"))
                ]
            note = {"by": Mention(by), "step": reopen.id}
            decision = self._commit(
                "decided",
                current,
                applicant,
                (
                    Tell(
                        current.applicant,
                        "review.rejected_dm",
                        {"reason": chosen.for_applicant(), "step": reopen.title},
                    ),
                    ReviewNote(current.id, "review.channel_rejected", note),
                    ClosePost(current.id, "review.channel_rejected", note),
                    *stages.closing_deliveries(self.rules, current, "review.channel_rejected", **note),
                    DropSharedFiles(current.id),
                ),
            )
            self.store.audit(by, "review.rejected", current.applicant, step=reopen.id, override=override)
            return decision

    # -- stages of approval (bot/review/stages.py) ---------------------------------------------

    def _may_act(self, review: Review, who: str, refused_action: str) -> Decision | None:
        """None when `who` may vote on (or return) the round now; else the Decision that says why
        not: not a reviewer of its stage, their own package (both audited), or already decided."""
        refused = self._refusal(review, who)
        if refused:
            self.store.audit(who, refused_action, review.applicant, reason=refused)
            return Decision(f"ignored_{refused}", review)
        if who == review.applicant:
            self.store.audit(who, refused_action, review.applicant, reason="self")
            return Decision("ignored_self", review)
        if review.state != "pending":
            return Decision("already_decided", review)
        return None

    def _refusal(self, review: Review, voter: str) -> stages.Refusal:
        """Why `voter` may not vote or claim at the round's stage ("" when they may)."""
        return stages.refusal(self.rules, review, self.store.get(review.applicant), voter)

    def _pass_stage(self, review: Review, by: list[str]) -> Decision:
        """The round's stage has its approvals: on to the next stage, recorded as one operation
        with what it leaves to send (the applicant told, the stage's DMs closed, the next post)."""
        with self._lock, self.store.exclusive():
            rules = self.rules
            current = self.store.review(review.id)
            if current is None or current.state != "pending":
                return Decision("already_decided", current)
            stage = stages.current(rules, current)
            following = stages.following(rules, stage)
            if following is None or not stages.passed(rules, current, self.store.get(current.applicant)):
                return Decision("counted", current)  # moved on meanwhile: move once only
            moved = stages.advance(current, stage, following, by, self.store.now())
            deliveries = tuple(stages.passed_deliveries(current, stage, following, by))
            decision = self._commit("stage_passed", moved, None, deliveries)
            self.store.audit(by[0] if by else "", "review.stage_passed", current.applicant, stage=stage.id)
            return decision

    # -- reasons -----------------------------------------------------------------------------

    def awaiting_reasons(self, reviewer: str, now: datetime) -> list[Review]:
        """The pending rounds whose rejection by `reviewer` still waits for its reason, newest last."""
        cutoff = now - timedelta(minutes=REASON_WAIT_MINUTES)
        waiting = [  # a keyed lookup: a reviewer's DM never scans every review round
            r
            for r in self.store.reviews_awaiting_reason(reviewer)
            if r.state == "pending" and from_iso(r.reason_asked_at.get(reviewer) or r.created) >= cutoff
        ]
        return sorted(waiting, key=lambda r: r.reason_asked_at.get(reviewer, ""))

    def reopenable(self) -> list[Step]:
        """The steps a rejection can send an applicant back to (every step but the lab's review)."""
        return [s for s in self.rules.steps if not kind_of(s).decided_by_reviewers]

    def find_step(self, name: str) -> Step | None:
        """A reopenable step by its number as users see it (from 1) or by its id."""
        rules = self.rules
        name = name.strip().rstrip(".:)").lower()
        step = rules.steps[int(name) - 1] if name.isdigit() and 1 <= int(name) <= len(rules.steps) else None
        step = step or rules.step(name)
        return step if step is not None and not kind_of(step).decided_by_reviewers else None

    def parse_reason(self, text: str) -> tuple[Step | None, str]:
        """'3 expired report', 'citi_training: expired report' -> (step, reason)."""
        match = re.match(r"^\s*([\w-]{1,40})\s*[:.)\-]?\s*(.*)$", text[:4000], re.DOTALL)
        if match:
            step = self.find_step(match.group(1))
            rest = match.group(2).strip()
            if step is not None and rest:
                return step, rest
        return None, text.strip()

    def step_menu(self, t: Bound) -> str:
        return "\n".join(
            f"{n}. {s.id} ({s.title.get(t.lang)})"
            for n, s in enumerate(self.rules.steps, start=1)
            if not kind_of(s).decided_by_reviewers
        )

    def form_for(self, press: ButtonPress, t: Bound) -> Form | None:
        """The reject form: which step to reopen, and why (the applicant reads the reason); the
        return form (bot/review/returns.py) for the Return for changes button."""
        if press.action == returns.RETURN:
            return returns.form(self.rules, press, t)
        if press.action != REJECT:
            return None
        choices = tuple(
            Choice(s.id, f"{n}. {s.title.get(t.lang)}")
            for n, s in enumerate(self.rules.steps, start=1)
            if not kind_of(s).decided_by_reviewers
        )
        return Form(
            id=REJECT_FORM,
            title=t("review.form_title"),
            submit=t("review.form_submit"),
            cancel=t("review.form_cancel"),
            fields=(
                FormField("reopen_step", t("review.form_step"), "choice", choices, max_length=60),
                *reasons.form_fields(self.rules, "reject", t),
            ),
            context=press.value,
        )
