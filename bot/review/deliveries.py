"""What a review decision leaves to be sent once it is recorded (carried out by ReviewPosts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.messenger import Delivery


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
class ClosePost(Delivery):
    """Edit the review post: it shows the decision and loses its buttons."""

    review_id: str
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DropSharedFiles(Delivery):
    """A decided package's shared files go, unless rules.yaml keeps uploads anyway."""

    review_id: str
