"""Pure rules of access: which entitlements apply to a person, and when their access ends."""

from __future__ import annotations

from datetime import date, timedelta

from bot.entitlements.deliveries import Grant, Revoke
from bot.models import AccessAction, AccessEvent, AccessState, Applicant, from_iso
from bot.rules import ENTITLEMENT_PLATFORM, Entitlement, Rules
from bot.workflow import training_expiry


def applicable(rules: Rules, user_key: str) -> tuple[Entitlement, ...]:
    """The entitlements for a person: those of their platform, and the webhooks (any platform)."""
    platform = user_key.split(":", 1)[0]
    return tuple(e for e in rules.entitlements if ENTITLEMENT_PLATFORM.get(e.kind, platform) == platform)


def access_end(rules: Rules, applicant: Applicant, start: date) -> date | None:
    """When access granted on `start` ends: the training's expiry, a number of days, whichever first."""
    ends = []
    if rules.access.days > 0:
        ends.append(start + timedelta(days=rules.access.days))
    if rules.access.until_training_expires:
        expires = training_expiry(rules, applicant)
        if expires is not None:
            ends.append(expires)
    return min(ends) if ends else None


def open_access(
    rules: Rules, applicant: Applicant, now: str, *, by: str = "", action: str = ""
) -> list[Grant]:
    """Mark access active from `now` (its end worked out) and return the grants to deliver.

    Called inside the decision that approves (or restores), so the grants are committed with it.
    A blocked person is granted nothing (`unblock` first)."""
    access = applicant.access
    if access.blocked:
        return []
    access.state = "active"
    access.since = now
    end = access_end(rules, applicant, from_iso(now).date())
    access.until = end.isoformat() if end else ""
    access.reminded_for = ""
    if action == "restored":
        access.history.append(AccessEvent(now, "restored", by=by))
    return [Grant(applicant.key, e.id) for e in applicable(rules, applicant.key)]


def close_access(
    rules: Rules, applicant: Applicant, now: str, state: str, reason: str, *, by: str = ""
) -> list[Revoke]:
    """Mark access suspended or revoked and return the removals: what was granted, and whatever of
    the rules' entitlements might be (a removal of something never granted is harmless)."""
    access = applicant.access
    ids = list(dict.fromkeys([*access.granted, *(e.id for e in applicable(rules, applicant.key))]))
    access.state = "suspended" if state == "suspended" else "revoked"
    access.history.append(
        AccessEvent(now, "suspended" if state == "suspended" else "revoked", by=by, reason=reason)
    )
    return [Revoke(applicant.key, entitlement, reason) for entitlement in ids]


def remove_access(
    rules: Rules,
    applicant: Applicant,
    now: str,
    state: AccessState,
    action: AccessAction,
    reason: str,
    *,
    by: str = "",
) -> list[Revoke]:
    """Revocation, blocking and close-out: mark access `state`, record `action` in the history, and
    return the removals of what active access holds (what was granted, and whatever of the rules'
    entitlements might be). Access already suspended or ended returns none: its removals are in the
    outbox already (retried until done), so nothing is taken twice."""
    access = applicant.access
    ids: list[str] = []
    if access.state == "active":
        ids = list(dict.fromkeys([*access.granted, *(e.id for e in applicable(rules, applicant.key))]))
    if access.state != "none":
        access.state = state
    access.history.append(AccessEvent(now, action, by=by, reason=reason))
    return [Revoke(applicant.key, entitlement, reason) for entitlement in ids]
