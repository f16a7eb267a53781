"""A reviewer claims a package ("I'll take this"): pure functions over Review values.

A claim names one reviewer (`Review.claimed_by`, since `claimed_at`). Others are not pinged about a
claimed package (`ping_targets`); the claimer can release it; a claim still undecided after
`claims.stale_after_hours` (rules.yaml) is stale and released with a note (`release_stale`). These
functions only compute: the caller writes the returned Review (Store.update_review) and sends the
notes (`claim.*` texts in bot/locales/core.*.yaml).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.models import Review, from_iso, to_iso


class ClaimRefused(Exception):
    """The claim or release cannot be made; `key` is the text to show (`claim.taken`), `by` who holds it."""

    def __init__(self, message: str, key: str = "", by: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.by = by


def is_stale(review: Review, now: datetime, stale_after_hours: int) -> bool:
    """A claim held longer than `stale_after_hours` on a package still pending (0: never stale)."""
    if not review.claimed_by or review.state != "pending" or stale_after_hours <= 0:
        return False
    return now - from_iso(review.claimed_at) >= timedelta(hours=stale_after_hours)


def claim(review: Review, reviewer: str, now: datetime, stale_after_hours: int = 0) -> Review:
    """The review claimed by `reviewer`. Claiming one's own claim again is a no-op; another
    reviewer's live claim refuses (ClaimRefused), a stale one is taken over."""
    if review.state != "pending":
        raise ClaimRefused(f"review {review.id} is {review.state}: nothing to claim")
    if review.claimed_by == reviewer:
        return review
    if review.claimed_by and not is_stale(review, now, stale_after_hours):
        raise ClaimRefused(
            f"{review.claimed_by} already took review {review.id}", "claim.taken", review.claimed_by
        )
    return replace(review, claimed_by=reviewer, claimed_at=to_iso(now))


def release(review: Review, reviewer: str, *, force: bool = False) -> Review:
    """The review with nobody's claim. Only the claimer releases it, unless `force` (an admin, or
    the decision itself); releasing an unclaimed review is a no-op."""
    if not review.claimed_by:
        return review
    if review.claimed_by != reviewer and not force:
        raise ClaimRefused(f"{review.claimed_by} holds review {review.id}", "claim.taken", review.claimed_by)
    return replace(review, claimed_by="", claimed_at="")


def stale_claims(reviews: Iterable[Review], now: datetime, stale_after_hours: int) -> list[Review]:
    """The pending reviews whose claim went stale, oldest claim first."""
    found = [r for r in reviews if is_stale(r, now, stale_after_hours)]
    return sorted(found, key=lambda r: r.claimed_at)


def release_stale(
    reviews: Iterable[Review], now: datetime, stale_after_hours: int
) -> list[tuple[Review, str, int]]:
    """(the released review, who had claimed it, after how many hours) for each stale claim: write
    each review and post the `claim.released_stale` note (reviewer=..., hours=...) in its thread."""
    out = []
    for review in stale_claims(reviews, now, stale_after_hours):
        hours = int((now - from_iso(review.claimed_at)).total_seconds() // 3600)
        out.append((release(review, review.claimed_by, force=True), review.claimed_by, hours))
    return out


def ping_targets(review: Review, reviewers: Sequence[str]) -> tuple[str, ...]:
    """Who to ping about a waiting package: the claimer alone once claimed, else every reviewer."""
    if review.claimed_by and review.state == "pending":
        return (review.claimed_by,)
    return tuple(reviewers)
