"""The weekly digest: the stats chart posted in the reviewers channel (rules.yaml `digest`).

Nothing is scheduled in memory: `digest_due` compares now with the last weekly slot (`weekday` at
`hour`, in `timezone`) and with when the last digest went out, which is read back from the audit
log (`digest.sent` entries), so a restart neither loses nor repeats one. A digest that could not be
posted anywhere is not recorded, and is tried again at the next tick.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import UTC, datetime, timedelta, tzinfo

from bot.charts import stats_png
from bot.context import Services
from bot.events import Destination, Outgoing, OutgoingFile
from bot.i18n import Translator
from bot.models import from_iso
from bot.rules import Digest, Rules
from bot.store import Store
from bot.workflow import is_applicant

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AUDIT_ACTION = "digest.sent"
FILENAME = "accessbot-stats.png"


def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def last_slot(now: datetime, settings: Digest) -> datetime:
    """The latest scheduled moment (`weekday` at `hour` in `timezone`) at or before `now`."""
    local = now.astimezone(_zone(settings.timezone))
    days_back = (local.weekday() - WEEKDAYS.index(settings.weekday)) % 7
    slot = (local - timedelta(days=days_back)).replace(hour=settings.hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=7)
    return slot


def digest_due(now: datetime, last_sent: datetime | None, settings: Digest) -> bool:
    """True when the weekly digest is switched on and none went out since the last slot."""
    if not settings.weekly:
        return False
    return last_sent is None or last_sent < last_slot(now, settings)


def last_sent(store: Store) -> datetime | None:
    """When the last digest went out (from the audit log), or None."""
    found: datetime | None = None
    for entry in store.audit_entries():
        if entry.get("action") == AUDIT_ACTION:
            found = from_iso(str(entry["at"]))
    return found


def digest_message(rules: Rules, store: Store, translator: Translator, now: datetime) -> Outgoing:
    """The digest as a neutral message: a sentence of figures and the chart as a PNG file."""
    lang = rules.language
    people = [a for a in store.all() if is_applicant(rules, a)]
    week_ago = now - timedelta(days=7)
    text = translator.t(
        lang,
        "digest.text",
        people=len(people),
        pending=sum(1 for r in store.reviews() if r.state == "pending"),
        approved_week=sum(1 for a in people if a.approved_at and from_iso(a.approved_at) >= week_ago),
    )
    png = stats_png(rules, store, translator, lang, now)
    return Outgoing(text, files=(OutgoingFile(FILENAME, png),))


def send_weekly_digest(bot: Services) -> bool:
    """Post the digest in the reviewers channel of every connected platform when it is due; True
    when it went out somewhere. Call it from the reminder loop (bot/reminders.py's tick)."""
    rules, now = bot.rules, bot.clock()
    if not rules.digest.weekly:  # off (the default): the audit log is not read on every tick
        return False
    if not digest_due(now, last_sent(bot.store), rules.digest):
        return False
    message = digest_message(rules, bot.store, bot.translator, now)
    sent = False
    for platform, adapter in bot.messenger.adapters.items():
        channel = rules.reviewers.channel.get(platform)
        if channel and bot.messenger.send(adapter, Destination(channel=channel), message) is not None:
            sent = True
    if sent:
        bot.store.audit("", AUDIT_ACTION)
    else:
        log.warning("the weekly digest could not be posted in any reviewers channel; trying again later")
    return sent
