"""Access with an end (issue 15, item 2): reminded before it ends, suspended when it lapses, restored
by a renewed CITI report; and the close-out asked again (item 3, bot/entitlements/actions.py).

`due(bot, key)` runs with the reminders (bot/reminders.py) for the people the store's due-time index
names (`access_due` gives the index its times through `next_due`): a tick costs what is due, not
how many members there are. From the stored dates alone: restart-safe, each reminder and suspension
once; each change is read, made and committed with its deliveries as one operation."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.context import Services
from bot.entitlements import actions
from bot.entitlements.access import access_end, close_access, open_access
from bot.messenger import Delivery, Mention, Tell, TellAdmins, encode
from bot.models import Applicant, Review, to_iso
from bot.rules import Rules
from bot.store import UnknownApplicant


def access_due(rules: Rules, applicant: Applicant) -> list[str]:
    """When this person's access needs the tick (ISO moments): the reminder before it ends, and
    its end. Feeds the store's due-time index (bot/reminders.py next_due), so the tick visits only
    the people something is due for."""
    access = applicant.access
    times: list[str] = []
    if rules.access.ends and access.state == "active" and access.until:
        until = date.fromisoformat(access.until)
        before = rules.access.remind_days_before
        if before > 0 and access.reminded_for != access.until:
            times.append(_midnight(until - timedelta(days=before)))
        times.append(_midnight(until))
    if access.closeout and access.closeout_next:
        times.append(access.closeout_next)
    return times


def _midnight(day: date) -> str:
    return to_iso(datetime.combine(day, time(), UTC))


def due(bot: Services, key: str) -> int:
    """What is due for one person the due-time index named: the reminder before their access ends,
    its suspension, a close-out asked again. Returns how many messages it sent (0: nothing due)."""
    rules = bot.rules
    today = bot.clock().date()
    sent = 0
    applicant = bot.store.get(key)
    if applicant is None:
        return 0
    access = applicant.access
    if rules.access.ends and access.state == "active" and access.until:
        until = date.fromisoformat(access.until)
        if today >= until:
            sent += suspend(bot, key)
        elif (
            rules.access.remind_days_before > 0
            and (until - today).days <= rules.access.remind_days_before
            and access.reminded_for != access.until
        ):
            sent += _remind(bot, key)
    if access.closeout and access.closeout_next:
        outcome = actions.remind_closeout(bot.store, rules, key)
        if outcome.done:
            bot.messenger.deliver(outcome.deliveries, outcome.op_id)
            sent += 1
    return sent


def _remind(bot: Services, key: str) -> int:
    rules = bot.rules
    op_id = secrets.token_hex(8)
    out: list[Delivery] = []

    def change(a: Applicant) -> tuple[list[Review], list[dict[str, Any]]] | None:
        access = a.access
        if access.state != "active" or not access.until or access.reminded_for == access.until:
            return None  # changed meanwhile
        access.reminded_for = access.until
        out.append(Tell(a.key, "access.ending_soon", {"program": rules.program.name, "date": access.until}))
        return [], [encode(d) for d in out]

    written = bot.store.commit_change(op_id, key, change)
    if written is None:
        return 0
    bot.store.audit("", "access.reminded", key, until=written.access.until)
    bot.messenger.deliver(out, op_id)
    return 1


def suspend(bot: Services, key: str) -> int:
    """Access has lapsed: the entitlements are removed and the member and the admins are told."""
    rules = bot.rules
    op_id = secrets.token_hex(8)
    out: list[Delivery] = []
    now = bot.store.now()

    def change(a: Applicant) -> tuple[list[Review], list[dict[str, Any]]] | None:
        if a.access.state != "active":
            return None
        until = a.access.until
        reason = bot.translator.t(a.lang, "access.reason_expired")
        removals = close_access(rules, a, now, "suspended", "expired")
        out.extend(
            [
                *removals,
                Tell(
                    a.key,
                    "access.suspended_dm",
                    {"program": rules.program.name, "date": until, "reason": reason},
                ),
                TellAdmins("access.suspended_admins", {"user": Mention(a.key), "reason": "expired"}),
            ]
        )
        return [], [encode(d) for d in out]

    written = bot.store.commit_change(op_id, key, change)
    if written is None:
        return 0
    bot.store.audit("", "access.suspended", key, until=written.access.until)
    bot.messenger.deliver(out, op_id)
    return 1


def renewed(bot: Services, key: str, evidence: dict[str, Any], previous: dict[str, Any]) -> str:
    """A renewed report that passed (bot/handlers/upload.py): active access lasts longer; suspended
    access is restored when the renewal is clean and rules.yaml allows it, else the admins look.
    Returns what the member is told (a key of bot/locales), or "". The record is read, changed and
    written under the store's lock (Store.commit_change), so no other thread's update is lost."""
    rules = bot.rules
    why = _not_clean(evidence, previous)
    out: list[Delivery] = []
    answer = [""]

    def change(a: Applicant) -> tuple[list[Review], list[dict[str, Any]]] | None:
        out.clear()
        answer[0] = ""
        access = a.access
        if access.blocked:
            return None
        if access.state == "active":
            end = access_end(rules, a, date.fromisoformat(access.since[:10]))
            new = end.isoformat() if end else ""
            if new == access.until:
                return None
            access.until = new
            access.reminded_for = ""
            out.append(Tell(key, "access.extended_dm", {"date": new or "-"}))
            return [], [encode(d) for d in out]
        if access.state != "suspended":
            return None
        if why or not rules.access.restore_clean_renewal:
            answer[0] = "access.renewal_checking"
            return None  # nothing written: the admins are told below
        out.extend(open_access(rules, a, bot.store.now(), action="restored"))
        until = a.access.until or "-"
        out.append(Tell(key, "access.restored_dm", {"program": rules.program.name, "date": until}))
        out.append(TellAdmins("access.restored_admins", {"user": Mention(key), "date": until}))
        return [], [encode(d) for d in out]

    op_id = secrets.token_hex(8)
    try:
        written = bot.store.commit_change(op_id, key, change)
    except UnknownApplicant:
        return ""
    if written is not None:
        bot.messenger.deliver(out, op_id)
        if written.access.state == "active" and any(isinstance(d, TellAdmins) for d in out):
            bot.store.audit("", "access.restored", key)
        return ""
    if answer[0]:
        who = key.split(":", 1)[1]
        bot.messenger.deliver(
            [
                TellAdmins(
                    "access.renewal_to_check", {"user": Mention(key), "who": who, "why": why or "rules.yaml"}
                )
            ]
        )
    return answer[0]


def _not_clean(evidence: dict[str, Any], previous: dict[str, Any]) -> str:
    """Why a renewal is not clean: warnings, or a different name or course than before ("" if clean)."""
    if evidence.get("warnings"):
        return "warnings: " + ", ".join(str(w) for w in evidence["warnings"])
    new, old = evidence.get("fields") or {}, previous.get("fields") or {}
    for field in ("name", "course"):
        if old.get(field) and new.get(field) and str(old[field]).casefold() != str(new[field]).casefold():
            return f"a different {field}"
    return ""
