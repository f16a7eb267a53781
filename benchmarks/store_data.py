"""Build a data folder of N realistic applicants through the Store API (the bench's set-up).

`python -m benchmarks.store_data FOLDER N` writes the folder and prints a JSON summary. Records are
about 2.5 KB each: half carry a CITI report's extracted fields; the half that went further have an
approval proof, a review round (approved, some after an earlier rejection) or a pending one; a few
reviews wait for a reviewer's reason. 5% of the applicants have been idle on a step for 13 days, so
the stale-step reminder (14 days, rules.yaml) falls due for them 1 day after `T0`.

The records are written with the store's own bulk path (`Store._bulk_load`, the one the migration
uses: one write per shard), then the reminder due-time index is computed by the bot's rule
(`reminders._install_due_rule`), as a start after a migration does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bot.models import Applicant, DocumentRecord, PostRef, Review, StepState, to_iso

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The moment the data describes ("now" when the folder was built)."""
DUE_SHARE = 20
"""One applicant in DUE_SHARE (5%) has a stale-step reminder due one day after T0."""
REVIEWER, REVIEWER2 = "console:reviewer", "console:reviewer2"
MODULES = [
    "Belmont Report and Its Principles",
    "History and Ethics of Human Subjects Research",
    "Basic Institutional Review Board (IRB) Regulations and Review Process",
    "Records-Based Research",
    "Genetic Research in Human Populations",
    "Populations in Research Requiring Additional Considerations and/or Protections",
    "Research and HIPAA Privacy Protections",
    "Conflicts of Interest in Human Subjects Research",
    "Data or Specimens Only Research",
]
STEPS = [
    "physionet_account",
    "citi_training",
    "citi_on_physionet",
    "credentialing",
    "mimic_cxr_dua",
    "approval_proof",
    "lab_form",
]


def key_of(i: int) -> str:
    return f"console:u{i:06d}"


def _iso(moment: datetime) -> str:
    return to_iso(moment)


def _citi_fields(i: int) -> dict[str, Any]:
    return {
        "name": f"Applicant Number {i}",
        "email": f"applicant{i}@example.edu",
        "institution": "Massachusetts Institute of Technology Affiliates",
        "course_learner_group": "Data or Specimens Only Research",
        "curriculum_group": "Human Research",
        "stage": "Stage 1 - Basic Course",
        "record_id": str(40_000_000 + i),
        "learner_id": str(9_000_000 + i),
        "completion_date": "2026-01-05",
        "expiration_date": "2029-01-04",
        "modules": MODULES,
        "verification_url": f"https://www.citiprogram.org/verify/?k0f1e2d3c-{40_000_000 + i}",
    }


def records(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Applicant i and its review rounds, as stored."""
    key = key_of(i)
    created = T0 - timedelta(days=40 + i % 60, hours=i % 24)
    at = created
    a = Applicant(key=key, lang="ko" if i % 3 else "en", created=_iso(created), updated=_iso(T0))
    a.display_name = f"Applicant {i}"
    reviews: list[Review] = []

    def done(step: str, evidence: dict[str, Any]) -> None:
        nonlocal at
        at += timedelta(days=1, hours=i % 7)
        a.steps[step] = StepState("done", _iso(at), evidence, by=key)
        a.step_started = _iso(at)

    said = f"my physionet username is user_{i}, I registered with applicant{i}@example.edu"
    done("physionet_account", {"answer": f"user_{i}", "said": said, "confirmed": _iso(created)})
    group = (i // 2) % 50  # the odd (CITI) half is spread over 50 groups
    if i % 2:
        fields = _citi_fields(i)
        sha = f"{i:064x}"
        a.documents.append(
            DocumentRecord(
                sha,
                "citi_training",
                _iso(at),
                True,
                "report",
                fields,
                warnings=["name_differs_from_display_name"],
                identity=f"Applicant Number {i} <applicant{i}@example.edu> learner {9_000_000 + i}",
            )
        )
        done("citi_training", {"sha256": sha, "kind": "report", "fields": fields})
        if group >= 10:  # went on: through credentialing to the lab's review
            done("citi_on_physionet", {})
            a.applied["credentialing"] = _iso(at)[:10]
            a.reminders_sent.append(f"stale:credentialing:14:{_iso(at)[:10]}T00:00:00+00:00")
            done("credentialing", {})
            done("mimic_cxr_dua", {})
            proof = f"{i + 10**9:064x}"
            a.documents.append(
                DocumentRecord(
                    proof, "approval_proof", _iso(at), True, "image", {"pages": 1}, warnings=["cropped"]
                )
            )
            done("approval_proof", {"sha256": proof, "kind": "image"})
            done("lab_form", {})
            if group >= 12 and i % 10 == 1:  # an earlier round was rejected, then sent again
                reviews.append(
                    Review(
                        id=f"r{i:06d}a",
                        applicant=key,
                        state="rejected",
                        created=_iso(at),
                        platform="console",
                        posts=[PostRef("console", "reviewers", str(2 * i))],
                        votes={REVIEWER: "reject"},
                        decided_at=_iso(at + timedelta(hours=5)),
                        decided_by=[REVIEWER],
                        reason="The approval proof is cropped: please send the whole page.",
                        reopen_step="approval_proof",
                    )
                )
                at += timedelta(days=2)
            pending = group in (10, 11)
            review = Review(
                id=f"r{i:06d}",
                applicant=key,
                state="pending" if pending else "approved",
                created=_iso(T0 - timedelta(hours=3) if pending else at),
                platform="console",
                posts=[PostRef("console", "reviewers", str(2 * i + 1))],
                votes={} if pending else {REVIEWER: "approve"},
                decided_at="" if pending else _iso(at + timedelta(hours=20)),
                decided_by=[] if pending else [REVIEWER],
                last_ping=_iso(T0 - timedelta(hours=1)) if pending else "",
            )
            if pending and i in (21, 23, 121, 123):  # a few rejections wait for their reason
                review.votes = {REVIEWER: "reject"}
                review.awaiting_reason_from = [REVIEWER]
                review.reason_asked_at = {REVIEWER: _iso(T0 - timedelta(minutes=5))}
            reviews.append(review)
            a.review_id = review.id
            if not pending:
                a.steps["lab_review"] = StepState(
                    "done", review.decided_at, {"review": review.id}, by=REVIEWER
                )
                a.approved_at = review.decided_at
                a.step_started = review.decided_at
    if not a.approved_at and not a.review_id:
        # idle on the current step: since yesterday, or (5%) for 13 days
        idle = timedelta(days=13) if i % DUE_SHARE == 0 else timedelta(hours=20)
        a.step_started = _iso(T0 - idle)
    return a.to_dict(), [r.to_dict() for r in reviews]


def build(folder: Path, n: int) -> dict[str, Any]:
    from bot import migrate, reminders
    from bot.app import assemble
    from bot.documents import Validator
    from bot.rules_loader import RulesHolder
    from bot.store import Store

    applicants: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    for i in range(n):
        a, r = records(i)
        applicants.append(a)
        reviews.extend(r)
    # Shards fill in arrival order: people in the order they came, review rounds in the order they
    # were opened (so the pending ones, opened lately, sit in the newest review shards).
    applicants.sort(key=lambda a: str(a["created"]))
    reviews.sort(key=lambda r: str(r["created"]))
    record_bytes = sum(len(orjson.dumps(a)) for a in applicants)
    with Store(folder, clock=lambda: T0) as store:
        store._bulk_load(migrate.Legacy(applicants=applicants, reviews=reviews))
        del applicants, reviews
        validator = Validator()
        try:
            app = assemble(
                rules=RulesHolder(ROOT / "rules.yaml"), store=store, validator=validator, clock=lambda: T0
            )
            reminders._install_due_rule(app.services)  # the due-time index, as the first tick makes it
            due_next_day = sum(1 for _ in store.due(T0 + timedelta(days=1, hours=12)))
            counts = {"applicants": store.count(), "due": due_next_day}
        finally:
            validator.close()
    files = list(folder.glob("applicants-*.json"))
    return {
        **counts,
        "record_bytes": record_bytes,
        "applicant_files": len(files),
        "applicant_bytes": sum(p.stat().st_size for p in files),
        "review_files": len(list(folder.glob("reviews-*.json"))),
        "review_bytes": sum(p.stat().st_size for p in folder.glob("reviews-*.json")),
        "pending_reviews": sum(1 for i in range(n) if i % 2 and (i // 2) % 50 in (10, 11)),
    }


if __name__ == "__main__":
    print(orjson.dumps(build(Path(sys.argv[1]), int(sys.argv[2]))).decode())
