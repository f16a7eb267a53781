"""Review posts on the platforms: posting a package, notes under it, closing it, shared files.

These carry out the deliveries the desk returns, after its lock is released. Posting has its own
lock, so a package is never posted twice at once (a tick re-posting a failed post while the
submission posts it); a round that already has a post is not posted again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.events import Destination, MessageRef, Outgoing, OutgoingFile
from bot.messenger import Messenger
from bot.models import Applicant, PostRef, Review
from bot.platform import Adapter, DeliveryError
from bot.review import render
from bot.review.deliveries import ClosePost, DropSharedFiles, PostReview, ReviewNote
from bot.rules import Rules, Step
from bot.store import Store

log = logging.getLogger(__name__)


class ReviewPosts:
    def __init__(self, store: Store, messenger: Messenger, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.messenger = messenger
        self.clock = clock
        self._posting = threading.Lock()
        messenger.handle(PostReview, self._post)
        messenger.handle(ReviewNote, self._note)
        messenger.handle(ClosePost, self._close)
        messenger.handle(DropSharedFiles, self._drop_files)

    @property
    def rules(self) -> Rules:
        return self.messenger.rules

    def render(self, applicant: Applicant, review: Review, adapter: Adapter) -> Outgoing:
        """The review post in the channel's language (the program's default: reviewers share it)."""
        return render.summary(
            applicant,
            review,
            self.rules,
            self.messenger.translator.bound(self.rules.language),
            mention=self.messenger.mention,
            now=self.clock(),
            capabilities=adapter.capabilities,
        )

    # -- posting -----------------------------------------------------------------------------

    def _post(self, delivery: PostReview) -> None:
        self.post(delivery.review_id)

    def post(self, review_id: str) -> Review | None:
        """Post (or re-post after a failure) the summary in the reviewers channel."""
        with self._posting:
            review = self.store.review(review_id)
            if review is None or review.state != "pending" or review.posts:
                return review
            adapter = self.messenger.adapter_for(review.platform)
            channel = self.messenger.reviewers_channel(review.platform)
            if adapter is None or not channel:
                log.error(
                    "no reviewers channel set for %s in rules.yaml: review %s waits",
                    review.platform,
                    review.id,
                )
                self.messenger.notify_admins("admin.no_reviewers_channel", platform=review.platform)
                return review
            applicant = self.store.get(review.applicant)
            if applicant is None:
                return review
            ref = self.messenger.send(
                adapter, Destination.to_channel(channel), self.render(applicant, review, adapter)
            )
            if ref is None:
                return review  # logged by send; the reminder tick posts it again later
            post = PostRef(ref.platform, ref.channel, ref.message_id)
            now = self.store.now()

            def remember(r: Review) -> None:
                r.posts.append(post)
                r.last_ping = now

            review = self.store.update_review(review.id, remember)
            self.store.audit("", "review.posted", review.applicant, review=review.id)
        self._share_files(applicant, adapter, ref)
        return review

    def _shared_steps(self) -> list[Step]:
        """Document steps whose profile asks for the file to reach the reviewers."""
        documents = self.rules.documents
        return [
            s
            for s in self.rules.steps
            if s.document and s.document in documents and documents[s.document].share_with_reviewers
        ]

    def _share_files(self, applicant: Applicant, adapter: Adapter, post: MessageRef) -> None:
        """Attach shared documents under the post: only in the private reviewers channel."""
        t = self.messenger.translator.bound(self.rules.language)
        for step in self._shared_steps():
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

    def _note(self, delivery: ReviewNote) -> None:
        self.note(delivery.review_id, delivery.key, **delivery.params)

    def note(self, review_id: str, key: str, **params: object) -> None:
        """A line under the post: in its thread where the platform has threads, else in the channel."""
        found = self._latest_post(review_id)
        if found is None:
            return
        _review, adapter, post = found
        thread = post if adapter.capabilities.threads else None
        text = self.messenger.text(self.rules.language, key, **params)
        self.messenger.send(adapter, Destination.to_channel(post.channel, thread), text)

    def _close(self, delivery: ClosePost) -> None:
        """The post now says what was decided and offers no more buttons (votes after it change nothing)."""
        found = self._latest_post(delivery.review_id)
        if found is None:
            return
        review, adapter, post = found
        applicant = self.store.get(review.applicant)
        if applicant is None:
            return
        lang = self.rules.language
        decided = self.messenger.text(lang, delivery.key, **delivery.params)
        label = self.messenger.text(lang, "review.post_decision_label")
        try:
            adapter.edit(post, render.closed(self.render(applicant, review, adapter), decided, label))
        except DeliveryError as exc:  # the decision stands; only the post's look is stale
            log.warning("could not update the review post of %s: %s", review.id, exc)

    def _drop_files(self, delivery: DropSharedFiles) -> None:
        if self.rules.retention.keep_files:
            return
        review = self.store.review(delivery.review_id)
        if review is None:
            return
        steps = {s.id for s in self._shared_steps()}
        removed = self.store.drop_files(review.applicant, lambda d: d.step in steps)
        if removed:
            self.store.audit("", "review.files_deleted", review.applicant, count=removed)
