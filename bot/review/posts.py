"""Review posts on the platforms: posting a package, notes under it, closing it, shared files.

These carry out the deliveries the desk returns, after its lock is released. Posting has its own
lock, so a package is never posted twice at once (a tick re-posting a failed post while the
submission posts it); a round that already has a post is not posted again.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.events import Destination, MessageRef, Outgoing, OutgoingFile, UserRef
from bot.messenger import Mention, Messenger, Sent, outcome_of
from bot.models import Applicant, PostRef, Review
from bot.platform import Adapter, DeliveryError
from bot.review import render, stages
from bot.review.deliveries import (
    ClosePost,
    DropSharedFiles,
    PostReview,
    RefreshPost,
    ReturnedPost,
    ReviewNote,
    ShareAgain,
    WithdrawPost,
)
from bot.rules import Rules, Step
from bot.store import Store

log = logging.getLogger(__name__)


class ReviewPosts:
    def __init__(self, store: Store, messenger: Messenger, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.messenger = messenger
        self.clock = clock
        self._posting = threading.Lock()
        self._told_no_channel: set[str] = set()
        self._unreachable: set[tuple[str, str]] = set()
        """(review id, reviewer) whose stage DM failed for good in this run (they closed their DMs):
        the admins were told once; the stage waits for its other reviewers."""
        messenger.handle(PostReview, self._post)
        messenger.handle(ReviewNote, self._note)
        messenger.handle(ClosePost, self._close)
        messenger.handle(RefreshPost, self._refresh)
        messenger.handle(DropSharedFiles, self._drop_files)
        messenger.handle(WithdrawPost, self._withdraw)
        messenger.handle(ReturnedPost, self._returned)
        messenger.handle(ShareAgain, self._share_again)
        messenger.handle(stages.StagePosts, self._stage_posts)

    @property
    def rules(self) -> Rules:
        return self.messenger.rules

    def render(self, applicant: Applicant, review: Review, adapter: Adapter, lang: str = "") -> Outgoing:
        """The review post in the channel's language (the program's default: reviewers share it)."""
        return render.summary(
            applicant,
            review,
            self.rules,
            self.messenger.translator.bound(lang or self.rules.language),
            mention=self.messenger.mention,
            now=self.clock(),
            capabilities=adapter.capabilities,
        )

    # -- posting -----------------------------------------------------------------------------

    def _post(self, delivery: PostReview) -> Sent:
        review = self.post(delivery.review_id)
        waiting = review is not None and review.state == "pending" and not self._posted(review)
        return Sent.RETRY if waiting else Sent.DONE

    def post(self, review_id: str) -> Review | None:
        """Post (or re-post after a failure) the summary in the reviewers channel, once."""
        with self._posting:
            review = self.store.review(review_id)
            if review is None or review.state != "pending" or self._posted(review):
                return review
            if stages.current(self.rules, review).where == "dm":
                return self._post_dms(review)
            adapter = self.messenger.adapter_for(review.platform)
            if adapter is None:
                return review  # its platform is not connected in this run
            channel = self.messenger.reviewers_channel(review.platform)
            if not channel:
                log.error(
                    "no reviewers channel set for %s in rules.yaml: review %s waits",
                    review.platform,
                    review.id,
                )
                if review.platform not in self._told_no_channel:
                    self._told_no_channel.add(review.platform)
                    self.messenger.notify_admins("admin.no_reviewers_channel", platform=review.platform)
                return review
            applicant = self.store.get(review.applicant)
            if applicant is None:
                return review
            key = self.messenger.delivery_key
            ref = self._already_sent(adapter, channel, key)
            if ref is None:
                message = dataclasses.replace(self.render(applicant, review, adapter), key=key)
                ref = self.messenger.send(adapter, Destination.to_channel(channel), message)
            if ref is None:
                return review  # logged by send; kept in the outbox and tried again later
            post = PostRef(ref.platform, ref.channel, ref.message_id, stage=review.stage)
            now = self.store.now()

            def remember(r: Review) -> None:
                r.posts.append(post)
                r.last_ping = now

            review = self.store.update_review(review.id, remember)
            self.store.audit("", "review.posted", review.applicant, review=review.id)
        self._share_files(applicant, adapter, ref)
        return review

    def _already_sent(self, adapter: Adapter, channel: str, key: str) -> MessageRef | None:
        """After a crash between sending a post and recording it: the platform may know the post."""
        op_id, _, n = key.rpartition(":")
        if not key or not n.isdigit() or not self.messenger.oplog.was_sending(op_id, int(n)):
            return None
        finder = getattr(adapter, "find_sent", None)
        if not callable(finder):
            return None
        try:
            found = finder(channel, key)
        except DeliveryError as exc:
            log.warning("could not look for an earlier post (%s): posting again", exc)
            return None
        return found if isinstance(found, MessageRef) else None

    def _shared_steps(self) -> list[Step]:
        """Document steps whose profile asks for the file to reach the reviewers."""
        documents = self.rules.documents
        return [
            s
            for s in self.rules.steps
            if s.document and s.document in documents and documents[s.document].share_with_reviewers
        ]

    def _share_files(self, applicant: Applicant, adapter: Adapter, post: MessageRef, only: str = "") -> None:
        """Attach shared documents under the post: only in the private reviewers channel."""
        t = self.messenger.translator.bound(self.rules.language)
        for step in self._shared_steps():
            if only and step.id != only:
                continue
            state = applicant.steps.get(step.id)
            sha = state.evidence.get("sha256") if state is not None else None
            doc = next((d for d in applicant.documents if d.sha256 == sha and d.stored_file), None)
            if doc is None:
                continue
            where = Destination.to_channel(post.channel, post if adapter.capabilities.threads else None)
            if not adapter.capabilities.files:
                self.messenger.send(adapter, where, t("review.file_not_shareable", step=step.title))
                continue
            try:
                data = (self.store.files_dir / doc.stored_file).read_bytes()
            except OSError as exc:
                log.error("the shared file for step %s is missing (%s)", step.id, exc.strerror)
                continue
            suffix = doc.stored_file.rsplit(".", 1)[-1] if "." in doc.stored_file else "bin"
            attachment = OutgoingFile(f"{step.id}.{suffix}", data)  # no personal name in the file name
            self.messenger.send(
                adapter, where, Outgoing(t("review.shared_file", step=step.title), files=(attachment,))
            )

    # -- stages of approval (bot/review/stages.py) ---------------------------------------------

    def _posted(self, review: Review) -> bool:
        """The round's current stage has its post(s): without stages, the one channel post. A DM
        stage's reviewers who cannot be reached are not waited for (the admins were told)."""
        applicant = self.store.get(review.applicant)
        if stages.posted(self.rules, review, applicant):
            return True
        if stages.current(self.rules, review).where != "dm":
            return False
        return all(
            (review.id, k) in self._unreachable for k in stages.unposted(self.rules, review, applicant)
        )

    def _post_dms(self, review: Review) -> Review:
        """A DM stage: the package to each of the stage's reviewers who has not had it yet, each DM
        recorded as soon as it is sent (a retry sends only the missing ones). Called holding
        `_posting`. Shared files stay in the private reviewers channel."""
        applicant = self.store.get(review.applicant)
        if applicant is None:
            return review
        missing = stages.unposted(self.rules, review, applicant)
        if not missing and not stages.stage_posts(review, review.stage):
            log.error("review %s is at stage %r, which has nobody to review it", review.id, review.stage)
            if review.id not in self._told_no_channel:
                self._told_no_channel.add(review.id)
                self.messenger.notify_admins("stages.nobody_to_review", stage=review.stage, review=review.id)
            return review
        for reviewer in [k for k in missing if (review.id, k) not in self._unreachable]:
            user = UserRef.from_key(reviewer)
            adapter = self.messenger.adapter_for(user.platform)
            if adapter is None:
                continue  # their platform is not connected in this run: kept for later
            lang = self.messenger.language_of(reviewer)
            message = self.render(applicant, review, adapter, lang)
            ref = self.messenger.try_send(adapter, Destination.dm(user), message)
            if isinstance(ref, DeliveryError):
                if ref.permanent:  # logged and told to the admins by try_send, once in this run
                    self._unreachable.add((review.id, reviewer))
                continue  # a transient failure: the delivery stays in the outbox
            post = PostRef(ref.platform, ref.channel, ref.message_id, stage=review.stage, to=reviewer)
            now = self.store.now()

            def remember(r: Review, post: PostRef = post, now: str = now) -> None:
                r.posts.append(post)
                r.last_ping = now

            review = self.store.update_review(review.id, remember)
            self.store.audit("", "review.posted_dm", review.applicant, review=review.id, stage=review.stage)
        return review

    def _stage_posts(self, delivery: stages.StagePosts) -> Sent:
        """Every post of one stage redrawn, or closed with `delivery.key` in place of how to decide."""
        review = self.store.review(delivery.review_id)
        applicant = self.store.get(review.applicant) if review is not None else None
        if review is None or applicant is None:
            return Sent.DONE
        if not delivery.key and (review.state != "pending" or review.stage != delivery.stage):
            return Sent.DONE  # decided or moved on: the closing edit has the last word
        outcome = Sent.DONE
        for post in stages.stage_posts(review, delivery.stage):
            adapter = self.messenger.adapter_for(post.platform)
            if adapter is None:
                outcome = Sent.RETRY
                continue
            lang = self.messenger.language_of(post.to) if post.to else self.rules.language
            message = self.render(applicant, review, adapter, lang)
            if delivery.key:
                decided = self.messenger.text(lang, delivery.key, **delivery.params)
                label = self.messenger.text(lang, "review.post_decision_label")
                message = render.closed(message, decided, label)
            try:
                adapter.edit(MessageRef(post.platform, post.channel, post.message_id), message)
            except DeliveryError as exc:  # what was decided stands; only the post's look is stale
                log.warning("could not update a stage post of %s: %s", review.id, exc)
                if not exc.permanent:
                    outcome = Sent.RETRY
        return outcome

    # -- after a decision --------------------------------------------------------------------

    def _latest_post(self, review_id: str) -> tuple[Review, Adapter, MessageRef] | None:
        review = self.store.review(review_id)
        if review is None or not review.posts:
            return None
        adapter = self.messenger.adapter_for(review.platform)
        if adapter is None:
            return None
        post = review.posts[-1]
        return review, adapter, MessageRef(post.platform, post.channel, post.message_id)

    def _note(self, delivery: ReviewNote) -> Sent:
        return self.note(delivery.review_id, delivery.key, **delivery.params)

    def note(self, review_id: str, key: str, **params: object) -> Sent:
        """A line under the post: in its thread where the platform has threads, else in the channel."""
        found = self._latest_post(review_id)
        if found is None:
            return self._missing_post(review_id)
        _review, adapter, post = found
        thread = post if adapter.capabilities.threads else None
        text = self.messenger.text(self.rules.language, key, **params)
        return outcome_of(
            self.messenger.try_send(adapter, Destination.to_channel(post.channel, thread), text)
        )

    def _missing_post(self, review_id: str) -> Sent:
        """No post to note under or edit: wait for the platform, or for good if there never was one."""
        review = self.store.review(review_id)
        if review is None or not review.posts:
            return Sent.DONE
        return Sent.RETRY  # the platform is not connected in this run

    def _close(self, delivery: ClosePost) -> Sent:
        """The post now says what was decided and offers no more buttons (votes after it change nothing)."""
        found = self._latest_post(delivery.review_id)
        if found is None:
            return self._missing_post(delivery.review_id)
        review, adapter, post = found
        applicant = self.store.get(review.applicant)
        if applicant is None:
            return Sent.DONE
        lang = self.rules.language
        decided = self.messenger.text(lang, delivery.key, **delivery.params)
        label = self.messenger.text(lang, "review.post_decision_label")
        try:
            adapter.edit(post, render.closed(self.render(applicant, review, adapter), decided, label))
        except DeliveryError as exc:  # the decision stands; only the post's look is stale
            log.warning("could not update the review post of %s: %s", review.id, exc)
            return Sent.GIVE_UP if exc.permanent else Sent.RETRY
        return Sent.DONE

    def _refresh(self, delivery: RefreshPost) -> Sent:
        """A pending post redrawn (who claimed it); once decided, ClosePost has the last word."""
        found = self._latest_post(delivery.review_id)
        if found is None:
            return self._missing_post(delivery.review_id)
        review, adapter, post = found
        applicant = self.store.get(review.applicant)
        if applicant is None or review.state != "pending":
            return Sent.DONE
        try:
            adapter.edit(post, self.render(applicant, review, adapter))
        except DeliveryError as exc:  # the claim stands; only the post's look is stale
            log.warning("could not redraw the review post of %s: %s", review.id, exc)
            return Sent.GIVE_UP if exc.permanent else Sent.RETRY
        return Sent.DONE

    def _returned(self, delivery: ReturnedPost) -> Sent:
        """The post of a round returned for changes: what is asked, and no buttons until it is back."""
        found = self._latest_post(delivery.review_id)
        if found is None:
            return self._missing_post(delivery.review_id)
        review, adapter, post = found
        applicant = self.store.get(review.applicant)
        info = review.returned
        if applicant is None or info is None or review.state != "returned":
            return Sent.DONE  # it came back meanwhile: RefreshPost has the last word
        step = self.rules.step(info.step)
        lang = self.rules.language
        said = self.messenger.text(
            lang,
            "returns.post_returned",
            step=step.title if step is not None else info.step,
            by=Mention(info.by),
            reason=info.reason,
        )
        label = self.messenger.text(lang, "returns.post_returned_label")
        try:
            adapter.edit(post, render.closed(self.render(applicant, review, adapter), said, label))
        except DeliveryError as exc:  # the return stands; only the post's look is stale
            log.warning("could not update the returned review post of %s: %s", review.id, exc)
            return Sent.GIVE_UP if exc.permanent else Sent.RETRY
        return Sent.DONE

    def _share_again(self, delivery: ShareAgain) -> Sent:
        found = self._latest_post(delivery.review_id)
        if found is None:
            return self._missing_post(delivery.review_id)
        review, adapter, post = found
        applicant = self.store.get(review.applicant)
        if applicant is not None and review.state == "pending":
            self._share_files(applicant, adapter, post, only=delivery.step)
        return Sent.DONE

    def _withdraw(self, delivery: WithdrawPost) -> Sent:
        adapter = self.messenger.adapter_for(delivery.platform)
        if adapter is None:
            return Sent.RETRY
        text = self.messenger.text(self.rules.language, "review.post_withdrawn")
        try:
            adapter.edit(MessageRef(delivery.platform, delivery.channel, delivery.message_id), Outgoing(text))
        except DeliveryError as exc:
            log.warning("could not mark a removed review post withdrawn: %s", exc)
            return Sent.GIVE_UP if exc.permanent else Sent.RETRY
        return Sent.DONE

    def _drop_files(self, delivery: DropSharedFiles) -> Sent:
        review = self.store.review(delivery.review_id)
        if review is None or self.rules.retention.keep_files:
            return Sent.DONE
        steps = {s.id for s in self._shared_steps()}
        removed = self.store.drop_files(review.applicant, lambda d: d.step in steps)
        if removed:
            self.store.audit("", "review.files_deleted", review.applicant, count=removed)
        return Sent.DONE
