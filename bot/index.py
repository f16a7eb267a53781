"""The in-memory index of a data folder: where each record lives and every key a message needs.

Kept in the manifest (a snapshot in manifest.json, one line per write in manifest.log), so start-up
reads it instead of every record. Entries (short keys: 100,000 of them are read at each start):

  applicant  {"s": shard, "d": next due time (ISO, "" none), "h": [SHA-256 of accepted files],
              "i": [record ids], "f": the oldest kept file's time ("" none)}
  review     {"s": shard, "a": applicant, "st": state, "p": [post keys], "w": {reviewer: asked at},
              "c": created, "lp": last ping ("" none; absent in entries kept before it was added),
              "ca": claimed at ("" none; absent likewise)}
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from typing import Any

from bot.documents.summary import identity_of
from bot.models import Applicant, Review


def post_key(platform: str, channel: str, message_id: str) -> str:
    return f"{platform}|{channel}|{message_id}"


def applicant_entry(applicant: Applicant, shard: int, due: str) -> dict[str, Any]:
    shas: list[str] = []
    ids: list[str] = []
    for doc in applicant.documents:
        if not doc.accepted:
            continue
        shas.append(doc.sha256)
        record_id = doc.identity or identity_of(doc.fields)
        if record_id:
            ids.append(record_id)
    kept = [d.at for d in applicant.documents if d.stored_file]
    return {"s": shard, "d": due, "h": shas, "i": ids, "f": min(kept) if kept else ""}


def review_entry(review: Review, shard: int) -> dict[str, Any]:
    return {
        "s": shard,
        "a": review.applicant,
        "st": review.state,
        "p": [post_key(p.platform, p.channel, p.message_id) for p in review.posts],
        "w": {r: review.reason_asked_at.get(r, review.created) for r in review.awaiting_reason_from},
        "c": review.created,
        "lp": review.last_ping,
        "ca": review.claimed_at,
    }


class Index:
    def __init__(self) -> None:
        self.applicants: dict[str, dict[str, Any]] = {}
        self.reviews: dict[str, dict[str, Any]] = {}
        self.shard_counts: Counter[int] = Counter()
        self.review_shard_counts: Counter[int] = Counter()
        self.record_owner: dict[str, str] = {}
        self.sha_owner: dict[str, str] = {}
        self.by_post: dict[str, str] = {}
        self.reviews_of: dict[str, set[str]] = {}
        self.awaiting: dict[str, set[str]] = {}
        self.pending: set[str] = set()
        self._queue: list[str] | None = None
        """The pending rounds oldest first (created, id), worked out when asked after a change."""
        self._due: list[tuple[str, str]] = []
        """A heap of (due, key); stale pairs (the entry changed since) are skipped and dropped."""

    # -- applicants ------------------------------------------------------------------------------

    def put_applicant(self, key: str, entry: dict[str, Any] | None) -> None:
        old = self.applicants.pop(key, None)
        if old is not None:
            self.shard_counts[old["s"]] -= 1
            for table, values in ((self.sha_owner, old["h"]), (self.record_owner, old["i"])):
                for value in values:
                    if table.get(value) == key:
                        del table[value]
        if entry is None:
            return
        self.applicants[key] = entry
        self.shard_counts[entry["s"]] += 1
        self._own_files(key, entry)
        if entry["d"]:
            heapq.heappush(self._due, (entry["d"], key))

    def _own_files(self, key: str, entry: dict[str, Any]) -> None:
        """The applicant's files and record ids point to them (the first owner keeps a shared one)."""
        for value in entry["h"]:
            self.sha_owner.setdefault(value, key)
        for value in entry["i"]:
            self.record_owner.setdefault(value, key)

    def due(self, now: str) -> list[str]:
        """Keys whose next due time is `now` or earlier, soonest first (cost: what is due)."""
        found: list[str] = []
        seen: set[str] = set()
        keep: list[tuple[str, str]] = []
        while self._due and self._due[0][0] <= now:
            when, key = heapq.heappop(self._due)
            entry = self.applicants.get(key)
            if entry is None or entry["d"] != when or key in seen:
                continue  # stale
            seen.add(key)
            found.append(key)
            keep.append((when, key))
        for pair in keep:  # still due until a write moves it
            heapq.heappush(self._due, pair)
        return found

    def set_due(self, key: str, when: str) -> None:
        entry = self.applicants.get(key)
        if entry is not None and entry["d"] != when:
            entry["d"] = when
            if when:
                heapq.heappush(self._due, (when, key))

    def kept_files_before(self, cutoff: str) -> Iterator[str]:
        return (k for k, e in self.applicants.items() if e["f"] and e["f"] < cutoff)

    # -- reviews ---------------------------------------------------------------------------------

    def put_review(self, review_id: str, entry: dict[str, Any] | None) -> None:
        old = self.reviews.pop(review_id, None)
        if (old is not None and old["st"] == "pending") or (entry is not None and entry["st"] == "pending"):
            self._queue = None
        if old is not None:
            self.review_shard_counts[old["s"]] -= 1
            for post in old["p"]:
                if self.by_post.get(post) == review_id:
                    del self.by_post[post]
            self.reviews_of.get(old["a"], set()).discard(review_id)
            for reviewer in old["w"]:
                self.awaiting.get(reviewer, set()).discard(review_id)
            self.pending.discard(review_id)
        if entry is None:
            return
        self.reviews[review_id] = entry
        self.review_shard_counts[entry["s"]] += 1
        self._link_review(review_id, entry)

    def _link_review(self, review_id: str, entry: dict[str, Any]) -> None:
        """The round's posts, applicant, pending state and awaited reasons lead to it."""
        for post in entry["p"]:
            self.by_post[post] = review_id
        self.reviews_of.setdefault(entry["a"], set()).add(review_id)
        if entry["st"] == "pending":
            self.pending.add(review_id)
            for reviewer in entry["w"]:
                self.awaiting.setdefault(reviewer, set()).add(review_id)

    def to_ping(self, cutoff: str) -> list[str]:
        """Pending rounds not posted yet, or last pinged (or created) at `cutoff` or earlier, oldest
        first. An entry written before "lp" was kept counts from its creation (the caller checks)."""
        return [
            rid
            for rid in self.queue()
            if not self.reviews[rid]["p"] or (self.reviews[rid].get("lp") or self.reviews[rid]["c"]) <= cutoff
        ]

    def claimed_by_then(self, cutoff: str) -> list[str]:
        """Pending rounds claimed at `cutoff` or earlier (a stale claim, once the caller checks), oldest
        first. An entry written before "ca" was kept may hold a claim: it is listed too."""
        return [rid for rid in self.queue() if (ca := self.reviews[rid].get("ca", cutoff)) and ca <= cutoff]

    def queue(self) -> list[str]:
        """The pending rounds' ids, oldest first (sorted once per change, not per question)."""
        if self._queue is None:
            self._queue = sorted(self.pending, key=lambda rid: (self.reviews[rid]["c"], rid))
        return self._queue

    def queue_place(self, review_id: str) -> tuple[int, int] | None:
        if review_id not in self.pending:
            return None
        queue = self.queue()
        return queue.index(review_id) + 1, len(queue)

    def post_ids(self, platform: str) -> list[str]:
        """The message ids of every round's posts on `platform`, in no order (no sort, no split:
        the console numbers its messages after the highest)."""
        prefix = platform + "|"
        return [
            post.rpartition("|")[2]
            for entry in self.reviews.values()
            for post in entry["p"]
            if post.startswith(prefix)
        ]

    def post_keys(self, platform: str, *, pending_only: bool = False) -> list[tuple[str, str, str]]:
        """(platform, channel, message id) of the rounds' posts on `platform`, oldest round first."""
        ids = self.queue() if pending_only else sorted(self.reviews, key=lambda r: self.reviews[r]["c"])
        out: list[tuple[str, str, str]] = []
        for rid in ids:
            for post in self.reviews[rid]["p"]:
                where, channel, message_id = post.split("|", 2)
                if where == platform:
                    out.append((where, channel, message_id))
        return out

    # -- persistence -----------------------------------------------------------------------------

    def to_raw(self, due_version: str) -> dict[str, Any]:
        return {"applicants": self.applicants, "reviews": self.reviews, "due_version": due_version}

    @staticmethod
    def from_raw(raw: dict[str, Any]) -> Index:
        """The index as kept, in bulk: the parsed entries are used as they are, the counts and the
        due heap are built at once, and each entry is linked as put_applicant / put_review link it
        (the same index as putting them one by one, without removing old entries or a heap push
        each: tests/test_index_bulk.py)."""
        index = Index()
        index.applicants = raw.get("applicants") or {}
        index.shard_counts = Counter(entry["s"] for entry in index.applicants.values())
        for key, entry in index.applicants.items():
            index._own_files(key, entry)
        index._due = [(entry["d"], key) for key, entry in index.applicants.items() if entry["d"]]
        heapq.heapify(index._due)
        index.reviews = raw.get("reviews") or {}
        index.review_shard_counts = Counter(entry["s"] for entry in index.reviews.values())
        for review_id, entry in index.reviews.items():
            index._link_review(review_id, entry)
        return index
