"""The index read in bulk at start-up (Index.from_raw) is the index built one entry at a time."""

from __future__ import annotations

import copy
import gc
from typing import Any

from bot import memory
from bot.index import Index


def _entries() -> dict[str, Any]:
    applicants = {
        f"console:u{i}": {
            "s": i // 4,
            "d": f"2026-03-{1 + i % 9:02d}T09:00:00+00:00" if i % 3 else "",
            "h": [f"{i % 7:064x}", f"{i:064x}"],  # some files shared: the first owner keeps them
            "i": [f"id-{i % 5}"] if i % 2 else [],
            "f": "",
        }
        for i in range(40)
    }
    states = ["pending", "approved", "rejected"]
    reviews = {
        f"r{i}": {
            "s": i // 3,
            "a": f"console:u{i % 25}",
            "st": states[i % 3],
            "p": [f"console|reviews|{i}"] + ([f"slack|C1|{i}.1"] if i % 4 == 0 else []),
            "w": {"console:reviewer": "2026-03-01T09:00:00+00:00"} if i % 5 == 0 else {},
            "c": f"2026-02-{1 + i % 20:02d}T09:00:00+00:00",
            "lp": "",
            "ca": "",
        }
        for i in range(30)
    }
    return {"applicants": applicants, "reviews": reviews, "due_version": "v"}


def test_bulk_load_equals_one_by_one() -> None:
    raw = _entries()
    one = Index()
    for key, entry in copy.deepcopy(raw["applicants"]).items():
        one.put_applicant(key, entry)
    for rid, entry in copy.deepcopy(raw["reviews"]).items():
        one.put_review(rid, entry)
    bulk = Index.from_raw(copy.deepcopy(raw))
    for table in (
        "applicants",
        "reviews",
        "shard_counts",
        "review_shard_counts",
        "record_owner",
        "sha_owner",
        "by_post",
        "reviews_of",
        "awaiting",
        "pending",
    ):
        assert getattr(bulk, table) == getattr(one, table), table
    now = "2026-03-05T09:00:00+00:00"
    assert bulk.due(now) == one.due(now) and bulk.due(now)  # the due heap answers the same
    assert bulk.queue() == one.queue() and bulk.post_keys("slack") == one.post_keys("slack")


def test_bulk_load_pauses_the_collector_and_gives_it_back() -> None:
    assert gc.isenabled()
    with memory.bulk_load():
        assert not gc.isenabled()
        with memory.bulk_load():  # nested: still paused after the inner block
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with memory.bulk_load():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
