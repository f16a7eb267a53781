"""rules.yaml: the program an admin steers (steps, texts, links, document checks, reviewers, reminders).

Loaded into frozen dataclasses; every error names the file, line and field. A running bot keeps the
last good rules when a reload fails (see RulesHolder).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.schema import LocalText, Problem, SchemaError, Walker, doc, parse_yaml

log = logging.getLogger(__name__)

CompleteBy = Literal["confirm", "answer", "document", "review"]
Severity = Literal["off", "warn", "reject"]
DocumentKind = Literal["report", "certificate", "legacy_report"]
FileType = Literal["pdf", "png", "jpeg"]

_STEP_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_USER_KEY = re.compile(r"^[a-z]+:[^\s:][^\s]*$")


@dataclass(frozen=True)
class Link:
    label: LocalText = doc("What the link is called in messages.")
    url: str = doc("The address (https://...).")


@dataclass(frozen=True)
class Step:
    id: str = doc("Stable identifier (lower case, digits, _). Stored per applicant: do not rename casually.")
    title: LocalText = doc("Short name shown in the checklist.")
    help: LocalText = doc("What to do, shown when this is the applicant's current step.")
    complete_by: CompleteBy = doc(
        "How the step is completed: `confirm` (the applicant says done), `answer` (the applicant answers"
        " `ask`), `document` (the applicant uploads `document`), `review` (the lab's reviewers decide)."
    )
    links: tuple[Link, ...] = doc("Links shown with the help text.", default=())
    ask: LocalText | None = doc("The question for `answer` steps.", default=None)
    answer_pattern: str | None = doc(
        "A regular expression the answer must match (answer steps).", default=None
    )
    answer_hint: LocalText | None = doc("Shown when an answer does not match `answer_pattern`.", default=None)
    review_link: str | None = doc(
        "A link for reviewers beside the answer, `{answer}` replaced by it (e.g. the PhysioNet profile).",
        default=None,
    )
    document: str | None = doc("The name of a `documents` profile (document steps).", default=None)
    remind_after_days: tuple[int, ...] = doc(
        "Days on this step after which to send the applicant a gentle reminder (each sent once)."
        " Empty: use `reminders.stale_step_days`.",
        default=(),
    )
    reminder: LocalText | None = doc(
        "The reminder text for this step (default: a generic nudge).", default=None
    )
    line: int = field(default=0, metadata={"internal": True}, compare=False)


@dataclass(frozen=True)
class ModuleRule:
    pattern: str = doc(
        'A regular expression matched (case-insensitively) against the module titles. `""`: only'
        " `titles` count."
    )
    label: str = doc("The module's name as told to the applicant when it is missing.")
    severity: Severity = doc(
        "`reject` refuses the document, `warn` flags it for reviewers.", default="reject"
    )
    titles: Mapping[str, tuple[str, ...]] = doc(
        "Exact module titles that also count (case and spacing ignored), by stage: a key is a word of"
        " the report's Stage (`basic`, `refresher`); `any` counts for every stage.",
        default_factory=dict,
    )

    def __str__(self) -> str:  # how docs/rules.md shows a default
        return f"{self.label} ({self.severity})"


# PhysioNet's CITI instructions: the Data or Specimens Only Research course with its HIPAA module, and
# the Conflicts of Interest module (answer "Yes" at question 5 of CITI's questionnaire).
DEFAULT_MODULE_RULES: tuple[ModuleRule, ...] = (
    ModuleRule(
        label="Research and HIPAA Privacy Protections",
        pattern="HIPAA",
        titles={
            "basic": ("Research and HIPAA Privacy Protections",),
            "refresher": ("HIPAA and Human Subjects Research", "Research and HIPAA Privacy Protections"),
        },
        severity="reject",
    ),
    ModuleRule(
        label="Conflicts of Interest in Human Subjects Research",
        pattern=r"conflicts? of interest",
        titles={"any": ("Conflicts of Interest in Human Subjects Research",)},
        severity="warn",
    ),
)


@dataclass(frozen=True)
class DocumentChecks:
    kind: tuple[DocumentKind, ...] = doc(
        "Accepted CITI document kinds: report, certificate, legacy_report.", default=("report",)
    )
    course_learner_group: tuple[str, ...] = doc(
        "Accepted CITI course learner groups (case and spacing ignored). Empty: any.", default=()
    )
    institution: tuple[str, ...] = doc(
        "Accepted institution affiliations (case and spacing ignored; a part of the document's is enough)."
        " Empty: any.",
        default=(),
    )
    wrong_institution: Severity = doc(
        "What to do when the affiliation is not one of `institution`.", default="warn"
    )
    valid_for_at_least_days: int = doc("Reject when the training expires within this many days.", default=0)
    expires_soon_warning_days: int = doc("Warn when the training expires within this many days.", default=0)
    name_matches_applicant: Severity = doc(
        "Compare the name on the document with the applicant's platform profile name.", default="warn"
    )
    unique_record_id: bool = doc("Refuse a record id already used by another applicant.", default=True)
    min_score: int | None = doc(
        "Lowest acceptable reported score (the report's own Minimum Passing is always checked too).",
        default=None,
    )
    modules: tuple[ModuleRule, ...] = doc(
        "Modules that must appear among the completed modules (default: HIPAA, rejecting, and Conflicts"
        " of Interest, warning). `[]` checks none.",
        default=DEFAULT_MODULE_RULES,
    )
    verification_link: Severity = doc(
        "What to do with a document that has no CITI verification link (a sign of an edited file).",
        default="warn",
    )
    refresher_stage: Severity = doc(
        "What to do with a Refresher stage instead of the basic course.", default="warn"
    )
    phrases: tuple[str, ...] = doc(
        "Phrases a PDF must contain (generic documents; case and spacing ignored).", default=()
    )


@dataclass(frozen=True)
class DocumentProfile:
    title: LocalText = doc("What the document is called in messages.")
    accept: tuple[FileType, ...] = doc("Accepted file types.", default=("pdf",))
    max_bytes: int = doc("Largest accepted file, in bytes; checked before downloading.", default=10_000_000)
    # The names must be those of bot.documents.registry (a test checks they agree).
    parser: Literal["citi", "generic"] = doc(
        "`citi` reads CITI reports; `generic` checks phrases.", default="generic"
    )
    require: DocumentChecks = doc("The checks to apply.", default_factory=DocumentChecks)
    share_with_reviewers: bool = doc(
        "Attach the accepted file to the review post, in the private reviewers channel. The file is kept"
        " (0600) until the package is decided, then deleted unless `retention.keep_files`.",
        default=False,
    )


@dataclass(frozen=True)
class Reviewers:
    channel: Mapping[str, str] = doc(
        "The private reviewers channel id per platform,"
        " e.g. {slack: C0123, discord: '1234', console: reviewers}."
    )
    users: tuple[str, ...] = doc("Reviewers, by stable id (`slack:U0123`, `discord:1234`, `console:bob`).")
    approvals_required: int = doc("Distinct reviewers who must approve.", default=1)
    approve: tuple[str, ...] = doc(
        "Emoji that approve (names or characters).",
        default=("white_check_mark", "✅", "heavy_check_mark", "✔️"),
    )
    reject: tuple[str, ...] = doc("Emoji that reject.", default=("x", "❌", "no_entry", "⛔"))
    show_email: bool = doc("Include the applicant's e-mail in review posts.", default=False)


@dataclass(frozen=True)
class Reminders:
    stale_step_days: int = doc("Nudge an applicant idle on a step this many days (0: never).", default=14)
    review_waiting_hours: int = doc(
        "Re-ping reviewers about a package waiting this long (0: never).", default=48
    )
    training_expiry_warning_days: int = doc(
        "Ask approved members for a new CITI report this many days before it expires (0: never).", default=60
    )
    check_every_minutes: int = doc("How often the bot looks for reminders to send.", default=60)


@dataclass(frozen=True)
class Retention:
    keep_files: bool = doc(
        "Keep uploaded files (0600, in the data folder). Default: only extracted fields and a SHA-256.",
        default=False,
    )
    keep_days: int = doc("Delete kept files after this many days (0: until `forget`).", default=0)


@dataclass(frozen=True)
class Program:
    name: LocalText = doc("The program's name, e.g. MIMIC-CXR access.")
    contact: str = doc("Who applicants can ask (an e-mail or a channel).", default="")
    approved: LocalText = doc(
        "Sent to the applicant on approval: what to do next.", default_factory=lambda: LocalText.of("")
    )


@dataclass(frozen=True)
class Rules:
    version: Literal[1] = doc("The rules format version.")
    program: Program = doc("The program's name, contact and closing instructions.")
    steps: tuple[Step, ...] = doc("The steps, in order.")
    reviewers: Reviewers = doc("Who decides, where, and how.")
    language: str = doc("Default language for new applicants.", default="en")
    languages: tuple[str, ...] = doc("Languages applicants may switch to.", default=("en", "ko"))
    admins: tuple[str, ...] = doc("Admins, by stable id (`slack:U0123`).", default=())
    documents: Mapping[str, DocumentProfile] = doc("Document profiles, by name.", default_factory=dict)
    reminders: Reminders = doc("When to nudge.", default_factory=Reminders)
    retention: Retention = doc("What happens to uploaded files.", default_factory=Retention)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def step_index(self, step_id: str) -> int:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), -1)

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admins

    def is_reviewer(self, user_key: str) -> bool:
        return user_key in self.reviewers.users


class RulesError(SchemaError):
    """rules.yaml could not be used; `str()` lists every problem as file:line: field message."""


def parse_rules(text: str, filename: str = "rules.yaml") -> Rules:
    try:
        node = parse_yaml(text, filename)
    except SchemaError as exc:
        raise RulesError(exc.filename, exc.problems) from None
    walker = Walker()
    rules: Rules = walker.build(Rules, node, "")
    if not walker.problems:
        _cross_check(rules, walker.problems)
    if walker.problems:
        raise RulesError(filename, walker.problems)
    return rules


def load_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(str(path), [Problem(0, "", f"cannot be read: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise RulesError(str(path), [Problem(0, "", "is not UTF-8 text")]) from exc
    try:
        return parse_rules(text, str(path))
    except SchemaError as exc:
        raise RulesError(exc.filename, exc.problems) from None


def _cross_check(rules: Rules, problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    for i, step in enumerate(rules.steps):
        path = f"steps[{i}]"

        def bad(suffix: str, message: str, line: int = step.line, path: str = path) -> None:
            problems.append(Problem(line, f"{path}.{suffix}", message))

        if not _STEP_ID.match(step.id):
            bad("id", f"must be lower-case letters, digits and _ (got {step.id!r})")
        if step.id in seen:
            bad("id", f"{step.id!r} is already used by steps[{seen[step.id]}]")
        seen.setdefault(step.id, i)
        if step.complete_by == "answer" and step.ask is None:
            bad("ask", "is required when complete_by is answer")
        if step.answer_pattern is not None:
            try:
                re.compile(step.answer_pattern)
            except re.error as exc:
                bad("answer_pattern", f"is not a valid regular expression ({exc})")
        if step.complete_by == "document":
            if step.document is None:
                bad("document", "is required when complete_by is document")
            elif step.document not in rules.documents:
                known = ", ".join(sorted(rules.documents)) or "none defined"
                bad("document", f"names an undefined document {step.document!r} (documents: {known})")
        if step.complete_by == "review" and i != len(rules.steps) - 1:
            bad("complete_by", "review must be the last step")
        for j, link in enumerate(step.links):
            if not link.url.startswith(("https://", "http://")):
                bad(f"links[{j}].url", f"must start with https:// (got {link.url!r})")
        if any(d <= 0 for d in step.remind_after_days):
            bad("remind_after_days", "must be positive numbers of days")
    if not rules.steps:
        problems.append(Problem(0, "steps", "needs at least one step"))
    for name, profile in rules.documents.items():
        for j, rule in enumerate(profile.require.modules):
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                problems.append(
                    Problem(
                        0, f"documents.{name}.require.modules[{j}].pattern", f"is not a valid regex ({exc})"
                    )
                )
        if profile.max_bytes <= 0:
            problems.append(Problem(0, f"documents.{name}.max_bytes", "must be positive"))
    for where, keys in (("admins", rules.admins), ("reviewers.users", rules.reviewers.users)):
        for j, key in enumerate(keys):
            if not _USER_KEY.match(key):
                problems.append(Problem(0, f"{where}[{j}]", f"must look like platform:id (got {key!r})"))
    if rules.reviewers.approvals_required < 1:
        problems.append(Problem(0, "reviewers.approvals_required", "must be at least 1"))
    if rules.language not in rules.languages:
        problems.append(Problem(0, "language", f"must be one of languages ({', '.join(rules.languages)})"))


def missing_translations(rules: Rules) -> list[str]:
    """Texts lacking a language in `languages`: worth a warning, not a refusal."""
    out: list[str] = []
    for step in rules.steps:
        for name in ("title", "help", "ask", "answer_hint", "reminder"):
            text = getattr(step, name)
            if isinstance(text, LocalText):
                out.extend(
                    f"steps.{step.id}.{name} has no {lang} text"
                    for lang in rules.languages
                    if lang not in text.texts
                )
    return out


class RulesHolder:
    """The rules in force. A reload that fails keeps the last good rules and reports why."""

    def __init__(self, path: Path, rules: Rules | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._rules = rules if rules is not None else load_rules(path)
        self._mtime = self._stat()

    @property
    def current(self) -> Rules:
        return self._rules

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def reload(self) -> RulesError | None:
        """Load the file again; on error keep the old rules and return the error."""
        with self._lock:
            self._mtime = self._stat()
            try:
                self._rules = load_rules(self.path)
            except RulesError as exc:
                log.error("rules reload failed; keeping the previous rules:\n%s", exc)
                return exc
            log.info("rules reloaded from %s", self.path)
            return None

    def changed_on_disk(self) -> bool:
        return self._stat() != self._mtime
