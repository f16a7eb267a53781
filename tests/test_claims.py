"""Claiming a package: one reviewer at a time, released by its claimer or once stale; old records load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import Review
from bot.review.claims import ClaimRefused, claim, is_stale, ping_targets, release, release_stale
from bot.store import Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _review(**kw: str) -> Review:
    return Review("r1", "console:alice", "pending", "2026-03-01T09:00:00+00:00", "console", **kw)  # type: ignore[arg-type]


def test_claim_then_release() -> None:
    mine = claim(_review(), "console:bob", NOW)
    assert (mine.claimed_by, mine.claimed_at) == ("console:bob", "2026-03-02T09:00:00+00:00")
    assert claim(mine, "console:bob", NOW + timedelta(hours=1)) == mine  # again: unchanged
    with pytest.raises(ClaimRefused) as refused:
        claim(mine, "console:carol", NOW, stale_after_hours=24)
    assert refused.value.key == "claim.taken" and refused.value.by == "console:bob"
    with pytest.raises(ClaimRefused):
        release(mine, "console:carol")
    assert release(mine, "console:bob").claimed_by == "" and release(mine, "x", force=True).claimed_at == ""
    assert release(_review(), "console:bob") == _review()
    with pytest.raises(ClaimRefused):
        claim(
            Review("r2", "console:alice", "approved", "2026-03-01T09:00:00+00:00", "console"),
            "console:bob",
            NOW,
        )


def test_stale_claims_are_released_and_taken_over() -> None:
    mine = claim(_review(), "console:bob", NOW)
    later = NOW + timedelta(hours=25)
    assert not is_stale(mine, NOW + timedelta(hours=23), 24) and is_stale(mine, later, 24)
    assert not is_stale(mine, later, 0)  # 0: never stale
    assert claim(mine, "console:carol", later, stale_after_hours=24).claimed_by == "console:carol"
    [(released, who, hours)] = release_stale([mine, _review()], later, 24)
    assert (released.claimed_by, who, hours) == ("", "console:bob", 25)


def test_only_the_claimer_is_pinged() -> None:
    reviewers = ("console:bob", "console:carol")
    assert ping_targets(_review(), reviewers) == reviewers
    assert ping_targets(claim(_review(), "console:bob", NOW), reviewers) == ("console:bob",)


def test_claims_round_trip_and_old_records_load(tmp_path: Path) -> None:
    old = _review().to_dict()
    del old["claimed_by"], old["claimed_at"]  # a record written before claims existed
    assert Review.from_dict(old).claimed_by == ""
    with Store(tmp_path / "data") as store:
        store.create_review(_review())
        store.update_review("r1", lambda r: setattr(r, "claimed_by", "console:bob"))
        assert store.review("r1") is not None and store.review("r1").claimed_by == "console:bob"  # type: ignore[union-attr]
