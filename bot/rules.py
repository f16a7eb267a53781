"""rules.yaml as typed data: the program an admin steers (steps, texts, links, document checks,
reviewers, reminders), in frozen dataclasses. Loading and checking it is bot/rules_loader.py.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.language.faq import FaqEntry
from bot.schema import LocalText, doc

log = logging.getLogger(__name__)

Severity = Literal["off", "warn", "reject"]
DocumentKind = Literal["report", "certificate", "legacy_report"]
FileType = Literal["pdf", "png", "jpeg"]


@dataclass(frozen=True)
class Link:
    label: LocalText = doc("What the link is called in messages.")
    url: str = doc("The address (https://...).")


QuestionType = Literal["text", "choice", "yes_no"]


@dataclass(frozen=True)
class FormOption:
    value: str = doc("What is recorded when it is picked (lower case, digits, _), e.g. `lab_server`.")
    label: LocalText = doc("What the applicant sees, per language.")


@dataclass(frozen=True)
class FormQuestion:
    """One question of a `form` step (bot/forms.py): asked in a Slack or Discord modal, or one at a
    time in a DM and in the console."""

    id: str = doc("Stable identifier (lower case, digits, _), unique in the form. Answers are kept by it.")
    label: LocalText = doc("The question, in every language of `languages`.")
    type: QuestionType = doc(
        '`text` (typed), `choice` (one of `options`) or `yes_no` (yes or no; "not yet" counts as no).',
        default="text",
    )
    help: LocalText | None = doc("A line under the question (an example, where to find it).", default=None)
    required: bool = doc('The applicant must answer it (optional ones may be skipped: "skip").', default=True)
    options: tuple[FormOption, ...] = doc("The choices of a `choice` question, in order.", default=())
    pattern: str | None = doc(
        "Text questions: a regular expression the whole answer must match (checked for slow patterns"
        " and matched with a time limit), e.g. `\\d{4}-\\d{2}-\\d{2}`.",
        default=None,
    )
    pattern_hint: LocalText | None = doc(
        'Shown when an answer does not match `pattern`, e.g. "a date such as 2027-06-30".', default=None
    )
    long: bool = doc("Text questions: several lines (a paragraph box in modals).", default=False)
    max_length: int = doc("Text questions: the longest answer accepted, in characters.", default=300)
    line: int = field(default=0, metadata={"internal": True}, compare=False)


@dataclass(frozen=True)
class Step:
    id: str = doc("Stable identifier (lower case, digits, _). Stored per applicant: do not rename casually.")
    title: LocalText = doc("Short name shown in the checklist.")
    help: LocalText = doc("What to do, shown when this is the applicant's current step.")
    complete_by: str = doc(
        "How the step is completed: `confirm` (the applicant says done), `answer` (the applicant answers"
        " `ask`), `document` (the applicant uploads `document`), `form` (the applicant answers"
        " `questions`), `review` (the lab's reviewers decide).",
        choices="step_kinds",
    )
    links: tuple[Link, ...] = doc("Links shown with the help text.", default=())
    ask: LocalText | None = doc("The question for `answer` steps.", default=None)
    answer_pattern: str | None = doc(
        "A regular expression the answer must match (answer steps).", default=None
    )
    answer_hint: LocalText | None = doc("Shown when an answer does not match `answer_pattern`.", default=None)
    answer_name: LocalText | None = doc(
        'What the answer is called in messages, e.g. "your PhysioNet username" (answer steps):'
        " \"I'll note **kim_j** as your PhysioNet username. Right?\". Default: the step's title.",
        default=None,
    )
    review_link: str | None = doc(
        "A link for reviewers beside the answer, `{answer}` replaced by it (e.g. the PhysioNet profile).",
        default=None,
    )
    document: str | None = doc("The name of a `documents` profile (document steps).", default=None)
    questions: tuple[FormQuestion, ...] = doc(
        'The questions of `form` steps, in order (see "Forms" above).', default=()
    )
    remind_after_days: tuple[int, ...] = doc(
        "Days on this step after which to send the applicant a gentle reminder (each sent once)."
        " Empty: use `reminders.stale_step_days`.",
        default=(),
    )
    reminder: LocalText | None = doc(
        "The reminder text for this step (default: a generic nudge).", default=None
    )
    records_applied: bool = doc(
        'Saying "I applied" on this step records *applied on DATE*: shown in the checklist and to the'
        " reviewers, reminders counted from it. The step stays open until the applicant says it is done"
        " (e.g. credentialing: applying is not being credentialed).",
        default=False,
    )
    answer_check: str | None = doc(
        "Answer steps: an address whose page should exist for a right answer, `{answer}` replaced by it"
        " (e.g. https://physionet.org/users/{answer}/). The applicant is told when it is not found (404);"
        " the answer is never refused because of the check. Off when not set.",
        default=None,
    )
    answer_check_timeout_seconds: float = doc(
        "How long the `answer_check` may take before it is skipped.", default=3.0
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
    parser: str = doc(
        "`citi` reads CITI reports; `generic` checks phrases (the registered document parsers).",
        default="generic",
        choices="document_parsers",
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
    return_for_changes: tuple[str, ...] = doc(
        "Emoji that return a package for changes: one step reopens, nothing is rejected, and the"
        " package comes back to the same post once it is complete again.",
        default=("leftwards_arrow_with_hook", "↩️"),
    )
    claim: tuple[str, ...] = doc(
        'Emoji that claim a package ("I\'ll take this"); removing it releases the claim.',
        default=("eyes", "👀"),
    )
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


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class Digest:
    """A weekly picture of the program (bot/charts.py) posted in the reviewers channel."""

    weekly: bool = doc("Post the weekly digest (the stats chart) in the reviewers channel.", default=False)
    weekday: Weekday = doc("The day it is posted: mon, tue, wed, thu, fri, sat or sun.", default="mon")
    hour: int = doc("The hour (0-23, in `timezone`) from which it is posted that day.", default=9)
    timezone: str = doc(
        "The time zone of `weekday` and `hour` (an IANA name, e.g. Asia/Seoul).", default="UTC"
    )


@dataclass(frozen=True)
class Estimates:
    """How the checklist's wait estimates are computed (bot/estimates.py), from the store's timestamps."""

    sample: int = doc("Use the last this many applicants who finished a step.", default=30)
    min_sample: int = doc(
        'Say "not enough data yet" until at least this many have finished the step.', default=5
    )


@dataclass(frozen=True)
class Claims:
    """Reviewers claiming a package ("I'll take this", bot/review/claims.py)."""

    stale_after_hours: int = doc(
        "Release a claim on a package still undecided after this many hours, with a note (0: never).",
        default=24,
    )


@dataclass(frozen=True)
class Program:
    name: LocalText = doc("The program's name, e.g. MIMIC-CXR access.")
    contact: str = doc("Who applicants can ask (an e-mail or a channel).", default="")
    approved: LocalText = doc(
        "Sent to the applicant on approval: what to do next.", default_factory=lambda: LocalText.of("")
    )


@dataclass(frozen=True)
class FaqItem:
    id: str = doc("Stable identifier (lower case, digits, _).")
    questions: Mapping[str, tuple[str, ...]] = doc(
        "Phrases people use to ask it, per language, e.g. {en: [how long does it take], ko: [얼마나 걸려요]}."
        " A message matches by its words (typos of endings and particles are tolerated); each phrase"
        " needs at least one word about the topic, not only everyday words."
    )
    answer: LocalText = doc("The answer, per language.")
    line: int = field(default=0, metadata={"internal": True}, compare=False)

    def entry(self) -> FaqEntry:
        return FaqEntry(self.id, dict(self.questions), dict(self.answer.texts))


ReasonUse = Literal["reject", "return"]


@dataclass(frozen=True)
class Reason:
    """A reason reviewers pick instead of typing (bot/review/reasons.py): the applicant reads it in
    their own language, with the reviewer's own words beside it when they add some."""

    id: str = doc("Stable identifier (lower case, digits, _), e.g. `expired`.")
    text: LocalText = doc("What the applicant is told, in every language of `languages`.")
    offered_for: tuple[ReasonUse, ...] = doc(
        "Where it is offered: `reject`, `return` (return for changes), or both.",
        default=("reject", "return"),
    )
    needs_text: bool = doc(
        "The reviewer must add their own words with it (an `other` reason).", default=False
    )
    line: int = field(default=0, metadata={"internal": True}, compare=False)


EntitlementKind = Literal["slack_channel", "discord_role", "console", "webhook"]

ENTITLEMENT_PLATFORM: Mapping[str, str] = {
    "slack_channel": "slack",
    "discord_role": "discord",
    "console": "console",
}
"""The platform a kind of entitlement is granted on (a webhook is for members of any platform)."""


@dataclass(frozen=True)
class Entitlement:
    """Something approval grants and suspension, revocation or blocking take away (bot/entitlements/)."""

    id: str = doc("Stable identifier (lower case, digits, _), recorded on every member it was granted to.")
    kind: EntitlementKind = doc(
        "`slack_channel` (membership of a private channel: conversations.invite / conversations.kick),"
        " `discord_role` (a role, below the bot's own), `console` (a printed line), `webhook` (a signed"
        " JSON POST to the lab's own scripts, for members of any platform)."
    )
    target: str = doc(
        "The Slack channel id (C0123...), the Discord role id (`GUILD_ID/ROLE_ID`, or the role id when"
        " DISCORD_GUILD_ID is set), or the console's line. Not used by webhooks.",
        default="",
    )
    url: str = doc(
        "Webhooks: where to POST (https://; http:// only to 127.0.0.1 or localhost). The body is JSON"
        " (`action` grant or revoke, `entitlement`, `user`, `reason`, `id`, `at`); the headers"
        " `X-Accessbot-Timestamp` and `X-Accessbot-Signature: sha256=HMAC-SHA256(secret, TIMESTAMP.BODY)`.",
        default="",
    )
    secret_env: str = doc(
        "Webhooks: the environment variable holding the signing secret (never the secret itself).",
        default="",
    )
    timeout_seconds: float = doc("Webhooks: how long one POST may take.", default=10.0)
    line: int = field(default=0, metadata={"internal": True}, compare=False)


@dataclass(frozen=True)
class Access:
    """How long access lasts after approval (bot/entitlements/lifecycle.py)."""

    until_training_expires: bool = doc(
        "Access ends when the member's CITI training expires (the report's expiry date).", default=False
    )
    days: int = doc(
        "Access ends this many days after approval (0: no limit). With `until_training_expires`,"
        " whichever comes first.",
        default=0,
    )
    remind_days_before: int = doc(
        "Tell members this many days before their access ends, and how to renew (0: never).", default=30
    )
    restore_clean_renewal: bool = doc(
        "A renewed CITI report that passes the checks with no warnings, with the same name and course,"
        " restores suspended access by itself. Otherwise the admins are told to look at it.",
        default=True,
    )
    reviewers_may_revoke: bool = doc(
        "Reviewers (not only admins) may `revoke USER REASON`. `block`, `unblock` and `closeout` stay"
        " with the admins.",
        default=False,
    )
    closeout_where: LocalText = doc(
        'Where the close-out asks members to have deleted the data from: "please confirm you deleted'
        ' the MIMIC-CXR files from ...". Default: "every computer, server, external drive and cloud'
        ' folder you copied them to" (and the same in Korean).',
        default_factory=lambda: LocalText(
            {
                "en": "every computer, server, external drive and cloud folder you copied them to",
                "ko": "복사해 둔 모든 컴퓨터, 서버, 외장 드라이브와 클라우드 폴더",
            }
        ),
    )
    closeout_remind_days: int = doc(
        'A member who answers the close-out with "not yet", or does not answer, is asked again every'
        ' this many days until they say yes (0: never asked again). The admins are told of each "not'
        ' yet", and of every reminder from the second on.',
        default=7,
    )

    @property
    def ends(self) -> bool:
        return self.until_training_expires or self.days > 0


StageWhere = Literal["dm", "channel"]
StageRole = Literal["reviewers", "admins"]


@dataclass(frozen=True)
class Stage:
    """One stage of approval (bot/review/stages.py), with its own reviewers, place and count."""

    id: str = doc("Stable identifier (lower case, digits, _), recorded on the review round.")
    title: LocalText = doc('What the stage is called, e.g. {en: "supervisor", ko: "지도교수"}.')
    where: StageWhere = doc(
        "`dm`: each of the stage's reviewers gets the package in a DM and votes there; `channel`: the"
        " package is posted in the reviewers channel (`reviewers.channel`).",
        default="channel",
    )
    users: tuple[str, ...] = doc(
        "The stage's reviewers, by stable id (`slack:U0123`). With `role` and `named_by`, all count.",
        default=(),
    )
    role: StageRole | None = doc(
        "Everyone in a list of this file counts as the stage's reviewers: `reviewers` (reviewers.users)"
        " or `admins`. A stage with no `users`, `role` nor `named_by` has `reviewers`.",
        default=None,
    )
    named_by: str | None = doc(
        "The id of an answer step whose answer names the applicant's supervisor; `names` maps the answer"
        " (case and spacing ignored) to their stable id. An answer not in `names` leaves the stage to"
        " its `users` and `role`.",
        default=None,
    )
    names: Mapping[str, str] = doc(
        "For `named_by`: answer -> stable id, e.g. {prof kim: 'slack:U0PI'}.", default_factory=dict
    )
    approvals_required: int = doc("Distinct reviewers of this stage who must approve.", default=1)
    line: int = field(default=0, metadata={"internal": True}, compare=False)

    def listed(self, rules: Rules) -> tuple[str, ...]:
        """Everyone who may ever review at this stage (whoever the applicant names)."""
        found = list(self.users) + list(self.names.values())
        if self.role == "reviewers" or (self.role is None and not found and self.named_by is None):
            found += rules.reviewers.users
        elif self.role == "admins":
            found += rules.admins
        return tuple(dict.fromkeys(found))


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
    faq: tuple[FaqItem, ...] = doc(
        "Questions applicants ask while they wait, answered from any step (admin-editable).", default=()
    )

    def faq_entries(self) -> tuple[FaqEntry, ...]:
        """The same tuple on every call (each message is matched against it: its phrases are
        compiled once per tuple, bot/language/faq.py)."""
        return self._faq_entries

    @functools.cached_property
    def _faq_entries(self) -> tuple[FaqEntry, ...]:
        return tuple(item.entry() for item in self.faq)

    digest: Digest = doc("The weekly digest to the reviewers channel.", default_factory=Digest)
    estimates: Estimates = doc("The checklist's wait estimates.", default_factory=Estimates)
    claims: Claims = doc("Reviewers claiming packages.", default_factory=Claims)
    reasons: tuple[Reason, ...] = doc(
        "Reasons offered to reviewers who reject or return a package (numbered in text, a menu in"
        " forms); the reviewer may always add or type their own words.",
        default=(),
    )

    def reasons_for(self, use: ReasonUse) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if use in r.offered_for)

    entitlements: tuple[Entitlement, ...] = doc(
        "What approval grants (a channel, a role, a webhook to the lab's scripts); removed when access"
        " ends or is revoked.",
        default=(),
    )
    access: Access = doc("How long access lasts, and renewing it.", default_factory=Access)
    stages: tuple[Stage, ...] = doc(
        "Stages of approval, in order (e.g. the supervisor by DM, then the data team in the reviewers"
        " channel). Empty: one stage, the reviewers channel with `reviewers.approvals_required`.",
        default=(),
    )

    def entitlement(self, entitlement_id: str) -> Entitlement | None:
        return next((e for e in self.entitlements if e.id == entitlement_id), None)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def step_index(self, step_id: str) -> int:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), -1)

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admins

    def is_reviewer(self, user_key: str) -> bool:
        """A reviewer at some stage (which stage may vote when: bot/review/stages.py)."""
        return user_key in self.reviewers.users or any(user_key in s.listed(self) for s in self.stages)
