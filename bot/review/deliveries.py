"""What a review decision leaves to be sent once it is recorded (carried out by ReviewPosts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from bot.messenger import Delivery
from bot.models import PostRef


@dataclass(frozen=True)
class PostReview(Delivery):
    """Post the package in the reviewers channel, unless a post of this round already exists."""

    needs_reconciling: ClassVar[bool] = True
    review_id: str


@dataclass(frozen=True)
class ReviewNote(Delivery):
    """A note under the review post (in its thread where the platform has threads)."""

    review_id: str
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RefreshPost(Delivery):
    """Redraw a pending review post (it shows who claimed it); a decided post is left as closed."""

    review_id: str


@dataclass(frozen=True)
class ReturnedPost(Delivery):
    """Edit a post whose round was returned for changes: which step, by whom, why; no buttons. Left
    alone once the package came back (RefreshPost then draws it pending again)."""

    review_id: str


@dataclass(frozen=True)
class ShareAgain(Delivery):
    """A package back after a return: the returned step's new file under the post, if it is shared."""

    review_id: str
    step: str


@dataclass(frozen=True)
class ClosePost(Delivery):
    """Edit the review post: it shows the decision and loses its buttons."""

    review_id: str
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class WithdrawPost(Delivery):
    """A review post whose round was removed (`forget`): it now says only that it was withdrawn."""

    platform: str
    channel: str
    message_id: str


def withdrawals(posts: Sequence[PostRef]) -> list[Delivery]:
    """The edits that mark the posts of removed review rounds withdrawn."""
    return [WithdrawPost(p.platform, p.channel, p.message_id) for p in posts]


@dataclass(frozen=True)
class DropSharedFiles(Delivery):
    """A decided package's shared files go, unless rules.yaml keeps uploads anyway."""

    review_id: str
