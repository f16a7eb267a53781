"""Access with an end (issue 15, item 2): reminded before it ends, suspended when it lapses, restored
by a renewed CITI report. `tick` runs with the reminders (bot/reminders.py), from the stored dates
alone: restart-safe, each reminder and suspension once."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from bot.context import Services
from bot.entitlements.access import access_end, close_access, open_access
from bot.messenger import Delivery, Mention, Tell, TellAdmins, encode
from bot.models import Applicant


def _commit(bot: Services, applicant: Applicant, deliveries: list[Delivery]) -> None:
    """The applicant and what it leaves to send, as one operation (a crash loses no removal)."""
    op_id = secrets.token_hex(8)
    bot.store.commit(op_id, applicants=[applicant], deliveries=[encode(d) for d in deliveries])
    bot.messenger.deliver(deliveries, op_id)


def tick(bot: Services) -> int:
    """Remind members whose access ends soon and suspend those whose access has ended."""
    rules = bot.rules
    if not rules.access.ends:
        return 0
    today = bot.clock().date()
    done = 0
    for applicant in bot.store.iter_all():
        access = applicant.access
        if access.state != "active" or not access.until:
            continue
        until = date.fromisoformat(access.until)
        if today >= until:
            suspend(bot, applicant, rules.program.name, access.until)
            done += 1
        elif (
            rules.access.remind_days_before > 0
            and (until - today).days <= rules.access.remind_days_before
            and access.reminded_for != access.until
        ):
            applicant.access.reminded_for = access.until
            _commit(
                bot,
                applicant,
                [
                    Tell(
                        applicant.key,
                        "access.ending_soon",
                        {"program": rules.program.name, "date": access.until},
                    )
                ],
            )
            bot.store.audit("", "access.reminded", applicant.key, until=access.until)
            done += 1
    return done


def suspend(bot: Services, applicant: Applicant, program: Any, until: str) -> None:
    reason_key = "access.reason_expired"
    reason = bot.translator.t(applicant.lang, reason_key)
    removals = close_access(bot.rules, applicant, bot.store.now(), "suspended", "expired")
    _commit(
        bot,
        applicant,
        [
            *removals,
            Tell(applicant.key, "access.suspended_dm", {"program": program, "date": until, "reason": reason}),
            TellAdmins("access.suspended_admins", {"user": Mention(applicant.key), "reason": "expired"}),
        ],
    )
    bot.store.audit("", "access.suspended", applicant.key, until=until)


def renewed(bot: Services, key: str, evidence: dict[str, Any], previous: dict[str, Any]) -> str:
    """A renewed report that passed (bot/handlers/upload.py): active access lasts longer; suspended
    access is restored when the renewal is clean and rules.yaml allows it, else the admins look.
    Returns what the member is told (a key of bot/locales), or ""."""
    applicant = bot.store.get(key)
    rules = bot.rules
    if applicant is None or applicant.access.blocked:
        return ""
    access = applicant.access
    if access.state == "active":
        end = access_end(rules, applicant, date.fromisoformat(access.since[:10]))
        new = end.isoformat() if end else ""
        if new != access.until:
            access.until = new
            access.reminded_for = ""
            _commit(bot, applicant, [Tell(key, "access.extended_dm", {"date": new or "-"})])
        return ""
    if access.state != "suspended":
        return ""
    why = _not_clean(evidence, previous)
    if why or not rules.access.restore_clean_renewal:
        who = key.split(":", 1)[1]
        bot.messenger.deliver(
            [
                TellAdmins(
                    "access.renewal_to_check", {"user": Mention(key), "who": who, "why": why or "rules.yaml"}
                )
            ]
        )
        return "access.renewal_checking"
    grants = open_access(rules, applicant, bot.store.now(), action="restored")
    until = applicant.access.until or "-"
    _commit(
        bot,
        applicant,
        [
            *grants,
            Tell(key, "access.restored_dm", {"program": rules.program.name, "date": until}),
            TellAdmins("access.restored_admins", {"user": Mention(key), "date": until}),
        ],
    )
    bot.store.audit("", "access.restored", key)
    return ""


def _not_clean(evidence: dict[str, Any], previous: dict[str, Any]) -> str:
    """Why a renewal is not clean: warnings, or a different name or course than before ("" if clean)."""
    if evidence.get("warnings"):
        return "warnings: " + ", ".join(str(w) for w in evidence["warnings"])
    new, old = evidence.get("fields") or {}, previous.get("fields") or {}
    for field in ("name", "course"):
        if old.get(field) and new.get(field) and str(old[field]).casefold() != str(new[field]).casefold():
            return f"a different {field}"
    return ""
