"""Revoke, block, unblock and the close-out (issue 15, item 3): the operations themselves, on the
store alone, shared by the chat commands (bot/handlers/admin.py), the member's own answers
(bot/handlers/access.py), the reminder tick (bot/entitlements/lifecycle.py) and `accessbot admin`
(bot/admin.py; beside a live bot through bot/control.py).

Each one reads the member's record, changes it and writes it with what it leaves to send, as one
operation under the store's lock (Store.commit_change): a crash never loses a removal or a message,
and nothing else writes the record in between. The caller hands `Outcome.deliveries` to the outbox
with `Outcome.op_id` (Messenger.deliver); run offline (`accessbot admin` with the bot stopped), they
wait in the operation log and the bot's next start sends them.

What is recorded: every change in the member's access history (`show` lists it, with who and why);
the audit log gets who, what and when, and the reason with the member's own identifiers masked
(the audit outlives `forget`, and must not name them).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.entitlements.access import remove_access
from bot.messenger import Delivery, Mention, Tell, TellAdmins, encode
from bot.models import AccessEvent, Applicant, Review, from_iso, to_iso
from bot.review.deliveries import ClosePost, ReviewNote
from bot.rules import Rules
from bot.store import Store, UnknownApplicant

Status = Literal[
    "done",
    "unknown",
    "not_active",
    "already_blocked",
    "not_blocked",
    "staff",
    "yourself",
    "no_access",
    "already_asked",
    "not_asked",
    "not_due",
]

MAX_WORDS = 200
"""How much of a member's answer is kept in their access history."""

_IDENTIFYING = ("name", "email", "learner_id", "record_id", "username", "answer")


Audit = tuple[str, str, dict[str, str | int | bool]]


def _audit(actor: str, action: str, **details: str | int | bool) -> Audit:
    return (actor, action, details)


@dataclass(frozen=True)
class Outcome:
    """What an operation came to; on "done", what it left to send (committed under `op_id`)."""

    status: Status
    deliveries: tuple[Delivery, ...] = ()
    op_id: str = ""
    state: str = ""
    """The access state found ("not_active"), or the state left ("done")."""
    when: str = ""
    """A date that goes with the answer: when the close-out was asked ("already_asked"), when the
    member will be asked again ("done" after "not yet"; "" when never)."""
    audit: Audit | None = field(default=None, compare=False)
    """(actor, action, details) for the audit log, written once the operation is committed."""

    @property
    def done(self) -> bool:
        return self.status == "done"


Change = Callable[[Applicant], tuple[Outcome, Sequence[Review]]]


def _run(store: Store, key: str, change: Change) -> Outcome:
    """Apply `change` to the member's record and commit it with its deliveries, when it is "done"."""
    op_id = secrets.token_hex(8)
    found: list[Outcome] = []

    def commit(applicant: Applicant) -> tuple[Sequence[Review], Sequence[dict[str, object]]] | None:
        outcome, reviews = change(applicant)
        found.append(outcome)
        if not outcome.done:
            return None
        return reviews, [encode(d) for d in outcome.deliveries]

    try:
        store.commit_change(op_id, key, commit)
    except UnknownApplicant:
        return Outcome("unknown")
    outcome = found[0]
    if not outcome.done:
        return outcome
    if outcome.audit is not None:
        actor, action, details = outcome.audit
        store.audit(actor, action, key, **details)
    return replace(outcome, op_id=op_id)


def _with_contact(rules: Rules, key: str) -> str:
    """The sentence that names the program's contact, or the one that points at the admins."""
    return key if rules.program.contact else f"{key}_plain"


def _contact(rules: Rules) -> str:
    return rules.program.contact


def masked(text: str, applicant: Applicant) -> str:
    """`text` with the member's identifiers (id, display name, what their documents and answers
    said) replaced by [member]: what the audit may keep of a reason."""
    words = {applicant.key, applicant.key.partition(":")[2], applicant.display_name}
    sources = [d.fields for d in applicant.documents] + [s.evidence for s in applicant.steps.values()]
    for source in sources:
        for name in _IDENTIFYING:
            value = source.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                words.add(str(value))
    for word in sorted((w.strip() for w in words if len(w.strip()) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(word), "[member]", text, flags=re.IGNORECASE)
    return text


def _person(who: str) -> object:
    """Who did it, for a message: a mention of a person, or "cli" as it is."""
    return Mention(who) if ":" in who else who


def _day(moment: str) -> str:
    return moment[:10]


# -- revoke, block, unblock --------------------------------------------------------------------


def revoke(store: Store, rules: Rules, key: str, by: str, reason: str) -> Outcome:
    """Take a member's access away for `reason`: the entitlements are removed (Revoke deliveries),
    the member is told in their language, and a renewed report no longer restores it (only `approve`
    does). Admins other than the one who asked are told when a reviewer or the CLI did it."""
    now = store.now()

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if access.state not in ("active", "suspended"):
            return Outcome("not_active", state=access.state), ()
        removals = remove_access(rules, applicant, now, "revoked", "revoked", reason, by=by)
        deliveries: list[Delivery] = [
            *removals,
            Tell(
                key,
                _with_contact(rules, "lifecycle.revoked_dm"),
                {"program": rules.program.name, "reason": reason, "contact": _contact(rules)},
            ),
        ]
        if not rules.is_admin(by):
            deliveries.append(
                TellAdmins(
                    "lifecycle.revoked_admins",
                    {"user": Mention(key), "by": _person(by), "reason": reason},
                )
            )
        audit = _audit(by, "access.revoked", reason=masked(reason, applicant))
        return Outcome("done", tuple(deliveries), state="revoked", audit=audit), ()

    return _run(store, key, change)


def block(store: Store, rules: Rules, key: str, by: str, reason: str) -> Outcome:
    """Refuse a person's application from now on: whatever they send gets a clear refusal
    (bot/handlers/access.py), a pending review round is withdrawn (its post closed, saying so), and
    any access they have is revoked. Reviewers and admins of rules.yaml are not blocked here (take
    them out of rules.yaml), nor is the admin who asks."""
    if key == by:
        return Outcome("yourself")
    if rules.is_admin(key) or rules.is_reviewer(key):
        return Outcome("staff")
    now = store.now()

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if access.blocked:
            return Outcome("already_blocked"), ()
        access.blocked = reason
        removals = remove_access(rules, applicant, now, "revoked", "blocked", reason, by=by)
        applicant.pending = None
        reviews: list[Review] = []
        posts: list[Delivery] = []
        review = store.review(applicant.review_id) if applicant.review_id else None
        if review is not None and review.state == "pending":
            review.state = "withdrawn"
            review.decided_at = now
            review.reason = "blocked"
            reviews.append(review)
            said = {"by": _person(by)}
            posts += [
                ReviewNote(review.id, "lifecycle.review_withdrawn_blocked", said),
                ClosePost(review.id, "lifecycle.review_withdrawn_blocked", said),
            ]
            applicant.review_id = ""
        deliveries = (
            *removals,
            *posts,
            Tell(
                key,
                _with_contact(rules, "lifecycle.blocked_dm"),
                {"program": rules.program.name, "reason": reason, "contact": _contact(rules)},
            ),
        )
        audit = _audit(by, "access.blocked", reason=masked(reason, applicant), withdrawn=bool(reviews))
        return Outcome("done", deliveries, state=access.state, audit=audit), reviews

    return _run(store, key, change)


def unblock(store: Store, rules: Rules, key: str, by: str) -> Outcome:
    """Let a blocked person write and apply again. Access taken away by the block stays away until
    an admin approves them again (`approve USER`)."""
    now = store.now()

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if not access.blocked:
            return Outcome("not_blocked"), ()
        access.blocked = ""
        access.history.append(AccessEvent(now, "unblocked", by=by))
        tell = Tell(key, "access.unblocked_dm", {"program": rules.program.name})
        return Outcome("done", (tell,), state=access.state, audit=_audit(by, "access.unblocked")), ()

    return _run(store, key, change)


# -- the close-out -----------------------------------------------------------------------------


def _next_ask(rules: Rules, now: datetime) -> str:
    days = rules.access.closeout_remind_days
    return to_iso(now + timedelta(days=days)) if days > 0 else ""


def ask_closeout(store: Store, rules: Rules, key: str, by: str, reason: str = "") -> Outcome:
    """Ask a member who leaves (or whose project ends) to confirm they deleted the data from where
    rules.yaml says (`access.closeout_where`). Their access stays until they answer yes."""
    now = store.clock()
    stamp = to_iso(now)

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if access.state == "none":
            return Outcome("no_access"), ()
        if access.closeout:
            return Outcome("already_asked", when=_day(access.closeout)), ()
        access.closeout = stamp
        access.closeout_by = by
        access.closeout_reason = reason
        access.closeout_asks = 1
        access.closeout_next = _next_ask(rules, now)
        access.history.append(AccessEvent(stamp, "closeout_asked", by=by, reason=reason))
        params: dict[str, object] = {
            "program": rules.program.name,
            "where": rules.access.closeout_where,
            "reason": reason,
        }
        key_ = "lifecycle.closeout_ask_reason" if reason else "lifecycle.closeout_ask"
        audit = _audit(by, "access.closeout_asked", reason=masked(reason, applicant))
        return Outcome("done", (Tell(key, key_, params),), state=access.state, audit=audit), ()

    return _run(store, key, change)


def answer_closeout(store: Store, rules: Rules, key: str, deleted: bool, words: str) -> Outcome:
    """The member's answer. Yes: the answer and its date go in the audit log and the history, the
    entitlements are removed (access `closed`), the admins are told. Not yet: nothing is removed,
    the admins are told, and the member is asked again in `closeout_remind_days`."""
    now = store.clock()
    stamp = to_iso(now)
    said = words.strip()[:MAX_WORDS]

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if not access.closeout:
            return Outcome("not_asked"), ()
        where = rules.access.closeout_where
        if not deleted:
            access.closeout_next = _next_ask(rules, now)
            access.history.append(AccessEvent(stamp, "closeout_not_yet", by=key, reason=f'"{said}"'))
            again = access.closeout_next
            deliveries: tuple[Delivery, ...] = (
                Tell(
                    key,
                    "lifecycle.closeout_not_yet" if again else "lifecycle.closeout_not_yet_no_reminder",
                    {"date": _day(again), "where": where},
                ),
                TellAdmins(
                    "lifecycle.closeout_not_yet_admins"
                    if again
                    else "lifecycle.closeout_not_yet_admins_no_reminder",
                    {"user": Mention(key), "date": _day(again)},
                ),
            )
            audit = _audit(key, "access.closeout_answered", answer="not_yet", date=_day(stamp))
            return Outcome("done", deliveries, state=access.state, when=_day(again), audit=audit), ()
        reason = f'close-out: deleted, confirmed {_day(stamp)} ("{said}")'
        removals = remove_access(rules, applicant, stamp, "closed", "closed", reason, by=key)
        access.closeout = access.closeout_by = access.closeout_reason = access.closeout_next = ""
        access.closeout_asks = 0
        deliveries = (
            *removals,
            Tell(key, "lifecycle.closeout_thanks", {"program": rules.program.name, "date": _day(stamp)}),
            TellAdmins(
                "lifecycle.closeout_confirmed_admins",
                {"user": Mention(key), "date": _day(stamp), "where": where},
            ),
        )
        audit = _audit(key, "access.closeout_answered", answer="deleted", date=_day(stamp))
        return Outcome("done", deliveries, state=access.state, audit=audit), ()

    return _run(store, key, change)


UNANSWERED_ADMINS_AFTER = 3
"""Asks (the first included) after which each further reminder also tells the admins."""


def remind_closeout(store: Store, rules: Rules, key: str) -> Outcome:
    """The close-out asked again when its time has come (the reminder tick, through the store's
    due-time index); "not_due" when it has not."""
    now = store.clock()
    stamp = to_iso(now)

    def change(applicant: Applicant) -> tuple[Outcome, Sequence[Review]]:
        access = applicant.access
        if not access.closeout or not access.closeout_next or from_iso(access.closeout_next) > now:
            return Outcome("not_due"), ()
        access.closeout_asks += 1
        access.closeout_next = _next_ask(rules, now)
        access.history.append(AccessEvent(stamp, "closeout_reminded"))
        deliveries: list[Delivery] = [
            Tell(
                key,
                "lifecycle.closeout_reminder",
                {
                    "program": rules.program.name,
                    "where": rules.access.closeout_where,
                    "asked": _day(access.closeout),
                },
            )
        ]
        if access.closeout_asks >= UNANSWERED_ADMINS_AFTER:
            deliveries.append(
                TellAdmins(
                    "lifecycle.closeout_unanswered_admins",
                    {"user": Mention(key), "asked": _day(access.closeout), "times": access.closeout_asks},
                )
            )
        audit = _audit("", "access.closeout_reminded", times=access.closeout_asks)
        when = _day(access.closeout_next)
        return Outcome("done", tuple(deliveries), state=access.state, when=when, audit=audit), ()

    return _run(store, key, change)
