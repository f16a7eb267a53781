"""What the store keeps: plain dataclasses that round-trip through JSON.

Records are copied in and out of the store, so a handler holding one can never corrupt the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, Protocol

import orjson

StepStatus = Literal["done", "reopened"]
ReviewState = Literal["pending", "approved", "rejected", "withdrawn", "returned"]
"""`returned`: sent back for changes on one step (bot/review/returns.py); the same round, and its
post, come back to `pending` once the package is complete again."""
Vote = Literal["approve", "reject"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def record_dict(record: object) -> dict[str, Any]:
    """A stored record's dict, exactly as its JSON file will hold it (orjson writes dataclasses
    field by field): a tenth of the time of dataclasses.asdict, which deep-copies every value."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(record))
    return out


@dataclass
class StepState:
    status: StepStatus
    at: str
    evidence: dict[str, Any] = field(default_factory=dict)
    by: str = ""
    note: str = ""


@dataclass
class DocumentRecord:
    """Extracted fields and a fingerprint; the file itself is kept only if rules.yaml says so."""

    sha256: str
    step: str
    at: str
    accepted: bool
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stored_file: str = ""
    identity: str = ""
    """The document's own id (a CITI record id), as its parser read it; unique to one person."""


@dataclass
class Pending:
    """A question the bot asked and waits for a yes or no to: "Did you finish X?" (kind "done") or
    "I'll note NAME for X. Right?" (kind "answer"). It holds for the step it was asked about only,
    and expires (bot/handlers/conversation.py)."""

    kind: Literal["done", "answer"]
    step: str
    at: str
    answer: str = ""


@dataclass
class FormDraft:
    """A `form` step being answered one question at a time (bot/forms.py): the answers so far and the
    question asked, kept on the record after every answer so a restart resumes where it was. The
    conversation expires (bot.forms.CONVERSATION_MINUTES after `at`); the answers do not."""

    step: str
    answers: dict[str, str] = field(default_factory=dict)
    asking: str = ""
    """The question id asked now, bot.forms.SUMMARY for "are these right?", "" when paused."""
    at: str = ""
    editing: bool = False
    """The step was done already: saving replaces its answers."""
    returning: bool = False
    """A question asked again from the summary: once answered, back to the summary."""


AccessState = Literal["none", "active", "suspended", "revoked", "closed"]
"""`closed`: the member confirmed in the close-out that they deleted the data, and access ended."""
AccessAction = Literal[
    "granted",
    "removed",
    "failed",
    "suspended",
    "restored",
    "revoked",
    "blocked",
    "unblocked",
    "closeout_asked",
    "closeout_not_yet",
    "closeout_reminded",
    "closed",
]


@dataclass
class AccessEvent:
    """One grant, removal or change of a member's access, with when it happened (shown by `show`)."""

    at: str
    action: AccessAction
    entitlement: str = ""
    by: str = ""
    reason: str = ""


@dataclass
class Access:
    """A member's access after approval: what is granted now, until when, and its history."""

    state: AccessState = "none"
    since: str = ""
    until: str = ""
    """The day access ends (YYYY-MM-DD), "" when it does not (bot/entitlements/lifecycle.py)."""
    granted: list[str] = field(default_factory=list)
    """The entitlements granted and not removed since."""
    failing: dict[str, str] = field(default_factory=dict)
    """Entitlement -> the error of a grant or removal that failed and is being retried."""
    reminded_for: str = ""
    """The `until` the member was last reminded of (each end is announced once)."""
    blocked: str = ""
    """Why the person may not apply ("" when they may)."""
    closeout: str = ""
    """When the close-out question ("did you delete the files?") was asked; "" when none waits."""
    closeout_by: str = ""
    """Who asked for the close-out (an admin's stable id, or the member's own)."""
    closeout_reason: str = ""
    closeout_next: str = ""
    """When to ask again if no "yes" has come (ISO; "" never): fed to the due-time index."""
    closeout_asks: int = 0
    """How many times the question was sent (the first ask included)."""
    history: list[AccessEvent] = field(default_factory=list)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Access:
        data = dict(raw)
        data["granted"] = list(data.get("granted", []))
        data["failing"] = dict(data.get("failing", {}))
        data["history"] = [AccessEvent(**e) for e in data.get("history", [])]
        return Access(**data)


@dataclass
class Applicant:
    key: str
    lang: str
    created: str
    updated: str
    display_name: str = ""
    steps: dict[str, StepState] = field(default_factory=dict)
    documents: list[DocumentRecord] = field(default_factory=list)
    review_id: str = ""
    approved_at: str = ""
    reminders_sent: list[str] = field(default_factory=list)
    step_started: str = ""
    """When the applicant arrived on their current step: the clock for stale-step reminders."""
    lang_set: bool = True
    """`lang` was shown by a message or asked for (False: the default, until a message shows one)."""
    lang_other: str = ""
    """Another language the latest messages were written in, and how many in a row (`lang_streak`):
    after two the conversation follows (bot.language.detect.next_language)."""
    lang_streak: int = 0
    pending: Pending | None = None
    """The yes / no question waiting for an answer, if any."""
    applied: dict[str, str] = field(default_factory=dict)
    """Step id -> when the applicant said they applied (steps with `records_applied`)."""
    applying: bool = False
    """A reviewer or admin who started an application of their own."""
    access: Access = field(default_factory=Access)
    """Entitlements granted and removed, when access ends, and whether the person is blocked."""
    form: FormDraft | None = None
    """A form step half answered in the conversation (personal data: removed with the record)."""

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Applicant:
        data = dict(raw)
        data["steps"] = {k: StepState(**v) for k, v in data.get("steps", {}).items()}
        data["documents"] = [DocumentRecord(**d) for d in data.get("documents", [])]
        data["reminders_sent"] = list(data.get("reminders_sent", []))
        pending = data.get("pending")
        data["pending"] = Pending(**pending) if isinstance(pending, dict) else None
        data["applied"] = dict(data.get("applied") or {})
        data["access"] = (
            Access.from_dict(data["access"]) if isinstance(data.get("access"), dict) else Access()
        )
        draft = data.get("form")
        data["form"] = (
            FormDraft(**{**draft, "answers": dict(draft.get("answers") or {})})
            if isinstance(draft, dict)
            else None
        )
        return Applicant(**data)

    def is_done(self, step_id: str) -> bool:
        state = self.steps.get(step_id)
        return state is not None and state.status == "done"

    def done_time(self, step_id: str) -> str:
        state = self.steps.get(step_id)
        return state.at if state is not None and state.status == "done" else ""

    @property
    def has_steps(self) -> bool:
        return bool(self.steps)

    @property
    def has_documents(self) -> bool:
        return bool(self.documents)


class StepProgress(Protocol):
    """What the workflow's questions (where is this person, what is done) read of a record: an
    Applicant, or the lighter Progress that reports read."""

    @property
    def key(self) -> str: ...
    @property
    def applying(self) -> bool: ...
    @property
    def has_steps(self) -> bool: ...
    @property
    def has_documents(self) -> bool: ...
    @property
    def created(self) -> str: ...
    def is_done(self, step_id: str) -> bool: ...
    def done_time(self, step_id: str) -> str:
        """When the step was done ("" when it is not)."""
        ...


class Progress(NamedTuple):
    """A stored record as the reports (`admin export`, `stats`) read it: who, since when, and where
    on the steps; the documents, evidence, access history and form are left unread. At 100,000
    people an Applicant built for each record was most of a report's time (a named tuple: made
    100,000 times in a row, a frozen dataclass's checks cost as much again)."""

    key: str
    lang: str
    created: str
    done_at: Mapping[str, str]
    """Step id -> when it was done, for the steps done."""
    reopened: frozenset[str]
    review_id: str
    approved_at: str
    applying: bool
    has_steps: bool
    has_documents: bool

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Progress:
        steps: dict[str, dict[str, Any]] = raw.get("steps") or {}
        done_at: dict[str, str] = {}
        reopened: list[str] = []
        for step_id, state in steps.items():
            status = state["status"]
            if status == "done":
                done_at[step_id] = state["at"]
            elif status == "reopened":
                reopened.append(step_id)
        return Progress(
            raw["key"],
            raw["lang"],
            raw["created"],
            done_at,
            frozenset(reopened),
            raw.get("review_id", ""),
            raw.get("approved_at", ""),
            bool(raw.get("applying", False)),
            bool(steps),
            bool(raw.get("documents")),
        )

    def is_done(self, step_id: str) -> bool:
        return step_id in self.done_at

    def done_time(self, step_id: str) -> str:
        return self.done_at.get(step_id, "")


@dataclass
class PostRef:
    platform: str
    channel: str
    message_id: str
    stage: str = ""
    """The stage of approval the post was made for ("" without `stages` in rules.yaml)."""
    to: str = ""
    """The reviewer a stage's DM went to, by stable id ("" for a channel post)."""


@dataclass
class StagePassed:
    """A stage of approval a round passed (bot/review/stages.py): who approved it, and when."""

    stage: str
    at: str
    by: list[str] = field(default_factory=list)
    votes: dict[str, Vote] = field(default_factory=dict)


@dataclass
class ReturnInfo:
    """A review round returned for changes on one step: who asked, why, and what changed since."""

    step: str
    by: str
    at: str
    reason: str
    """The reason as the reviewers' channel reads it (a chosen reason in the program's language)."""
    reason_id: str = ""
    """The canned reason chosen (rules.yaml `reasons`), "" for the reviewer's own words alone."""
    note: str = ""
    """The reviewer's own words, as typed."""
    before: dict[str, Any] = field(default_factory=dict)
    """The returned step's evidence when it was returned, to compare the new answer with."""
    voters: list[str] = field(default_factory=list)
    """Reviewers who had voted (and the one who returned it): pinged when the package comes back."""
    changes: list[dict[str, Any]] = field(default_factory=list)
    """What changed, once it came back: [{"key": locale key, "params": {...}}], plain values."""
    came_back: str = ""
    """When the package came back complete ("" while the applicant is still on it)."""
    times: int = 1
    """How many times this round was returned."""

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> ReturnInfo:
        data = dict(raw)
        data["before"] = dict(data.get("before") or {})
        data["voters"] = list(data.get("voters") or [])
        data["changes"] = [dict(c) for c in data.get("changes") or []]
        return ReturnInfo(**data)


@dataclass
class Review:
    """One round of review of one applicant's package; a rejection ends the round."""

    id: str
    applicant: str
    state: ReviewState
    created: str
    platform: str
    posts: list[PostRef] = field(default_factory=list)
    votes: dict[str, Vote] = field(default_factory=dict)
    decided_at: str = ""
    decided_by: list[str] = field(default_factory=list)
    reason: str = ""
    reopen_step: str = ""
    last_ping: str = ""
    awaiting_reason_from: list[str] = field(default_factory=list)
    reason_asked_at: dict[str, str] = field(default_factory=dict)
    """When each reviewer in `awaiting_reason_from` was asked for the reason (the prompt expires)."""
    claimed_by: str = ""
    """The reviewer who took the package ("I'll take this"), by stable id; "" when nobody has."""
    claimed_at: str = ""
    returned: ReturnInfo | None = None
    """The latest return for changes (bot/review/returns.py): kept after the package comes back, so
    the post shows what changed."""
    stage: str = ""
    """The stage of approval the round is at (rules.yaml `stages`); "" without stages."""
    stages_passed: list[StagePassed] = field(default_factory=list)
    """The stages already passed, with their votes (`votes` holds the current stage's)."""

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Review:
        data = dict(raw)
        data["posts"] = [PostRef(**p) for p in data.get("posts", [])]
        data["votes"] = dict(data.get("votes", {}))
        data["decided_by"] = list(data.get("decided_by", []))
        data["awaiting_reason_from"] = list(data.get("awaiting_reason_from", []))
        data["reason_asked_at"] = dict(data.get("reason_asked_at", {}))
        returned = data.get("returned")
        data["returned"] = ReturnInfo.from_dict(returned) if isinstance(returned, dict) else None
        data["stages_passed"] = [StagePassed(**p) for p in data.get("stages_passed", [])]
        return Review(**data)
