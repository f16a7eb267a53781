"""A short run of the SIGKILL crash loop (the long one, 500+ kills, is `make bench`)."""

from __future__ import annotations

from pathlib import Path

from tests.crash_loop import run


def test_killing_the_bot_mid_journey_leaves_no_one_stuck_and_nothing_lost(tmp_path: Path) -> None:
    result = run(tmp_path, kills=6, users=3, seed=7)
    assert result.kills == 6
    assert not result.problems, "\n".join(result.problems)
