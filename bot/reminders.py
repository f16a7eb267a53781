"""Reminders, derived from the store's timestamps: restart-safe by construction, each sent once.

Nothing is scheduled in memory: every tick recomputes what is due from (now, rules, store) and records
what it sent in the applicant or review record, so a restart neither loses nor repeats a reminder.
"""

from __future__ import annotations

import hashlib
import logging
import time as _time
from datetime import UTC, datetime, time, timedelta

from bot.context import Services
from bot.digest import send_weekly_digest
from bot.entitlements import lifecycle
from bot.messenger import Mention, Tell, decode, encode
from bot.models import Applicant, Review, from_iso, to_iso
from bot.review.claims import ping_targets
from bot.rules import Rules, Step
from bot.step_kinds import kind_of
from bot.workflow import current_step, is_applicant, training_expiry

log = logging.getLogger(__name__)


SEND_RATE: dict[str, float] = {"slack": 20.0, "discord": 20.0}
"""Reminders sent per second at most, per platform (Slack allows about one message per second per
channel, and every reminder goes to a different person's DM; Discord about 50 requests per second
for a bot). Platforms not listed (the console, tests) are not paced."""


class _Pacer:
    def __init__(self) -> None:
        self._next: dict[str, float] = {}

    def wait(self, key: str) -> None:
        platform = key.partition(":")[0]
        rate = SEND_RATE.get(platform)
        if not rate:
            return
        now = _time.monotonic()
        at = max(now, self._next.get(platform, now))
        if at > now:
            _time.sleep(at - now)
        self._next[platform] = at + 1.0 / rate


DUE_RULE_REVISION = "2"
"""Changes when `next_due` itself changes (2: access ends and close-outs), so the times stored in
the index by an older version are worked out again, once, at the first tick."""


def _install_due_rule(bot: Services) -> None:
    """Give the store the rule that says when each person's next reminder is due (recomputed at
    every write of that person, and for everyone when the rules change)."""
    version = hashlib.sha256((DUE_RULE_REVISION + repr(bot.rules)).encode()).hexdigest()[:16]
    if bot.store.due_rule_version != version:
        bot.store.set_due_rule(lambda a: next_due(bot.rules, a), version)


def tick(bot: Services, changed: set[str] | None = None) -> int:
    """Send whatever is due now; returns how many reminders went out.

    Costs what is due: the store's due-time index names the people with a reminder due, and the
    pending review rounds are keyed. At most one reminder per person per tick, sends paced per
    platform (SEND_RATE); a tick that sends nothing writes nothing. `changed` collects whose home
    the tick may have changed (their access), and QUEUE_CHANGED when the reviewers' queue did."""
    now = bot.clock()
    _install_due_rule(bot)
    sent = 0
    pacer = _Pacer()
    touched: set[str] = set() if changed is None else changed
    sent += _remind_people(bot, now, pacer, touched)
    for decision in bot.desk.release_stale_claims():  # open to any reviewer again, with a note
        bot.messenger.deliver(decision.deliveries, decision.op_id)
        touched.add(QUEUE_CHANGED)
    hours = bot.rules.reminders.review_waiting_hours  # 0: no pings, only unposted rounds retried
    cutoff = now - timedelta(hours=hours) if hours > 0 else datetime(1970, 1, 1, tzinfo=UTC)
    for review in bot.store.reviews_to_ping(cutoff):
        sent += _waiting_review(bot, review, now)
    expire_kept_files(bot, now)
    send_weekly_digest(bot)  # when rules.yaml switches it on and it is due
    return sent


QUEUE_CHANGED = ""
"""In tick's `changed`: the reviewers' queue changed (a stale claim was released)."""


def _remind_people(bot: Services, now: datetime, pacer: _Pacer, touched: set[str]) -> int:
    """The stale-step and training-expiry reminders of everyone due, one shard at a time: each
    shard's reminders are one operation (bot/oplog.py: one fsynced intent holding the records with
    their "sent" tags and the messages, then one rewrite of the shard), so a crash neither loses nor
    repeats one, and the store lock is held for one shard's write, not for the whole tick."""
    groups: dict[int, list[str]] = {}
    for key in bot.store.due(now):  # soonest first; grouped by shard in that order
        shard = bot.store.shard_of(key)
        if shard is not None:
            groups.setdefault(shard, []).append(key)
    sent = 0
    batch_id = hashlib.sha256(f"{to_iso(now)}:{_time.time_ns()}".encode()).hexdigest()[:12]
    for shard, keys in bot.foreground.give_way(groups.items(), every=1):  # a message comes first
        audits: list[tuple[str, str, str, dict[str, str | int | bool]]] = []
        nothing: list[str] = []

        def change(
            applicant: Applicant,
            audits: list[tuple[str, str, str, dict[str, str | int | bool]]] = audits,
            nothing: list[str] = nothing,
        ) -> list[dict[str, object]]:
            found = _stale_reminder(bot, applicant, now)
            if found is None or found[0] in applicant.reminders_sent:  # that one went already
                found = _expiry_reminder(bot, applicant, now)
            if found is None or found[0] in applicant.reminders_sent:
                nothing.append(applicant.key)  # due by the rule, yet nothing to send
                return []
            tag, delivery, audit = found
            applicant.reminders_sent.append(tag)
            audits.append(audit)
            return [encode(delivery)]

        op_id = f"reminders:{batch_id}:{shard}"
        deliveries = bot.store.update_batch(op_id, keys, change)
        if deliveries:
            decoded = [decode(d) for d in deliveries]
            for delivery in decoded:  # the platform's pace: one send slot each
                pacer.wait(delivery.user if isinstance(delivery, Tell) else "")
            bot.messenger.deliver(decoded, op_id)
            bot.store.audit_many(audits)
            sent += len(deliveries)
        for key in keys:  # access ending, suspended, a close-out asked again: rare, one op each
            out = lifecycle.due(bot, key)
            sent += out
            if out:
                touched.add(key)  # their access changed: what their home shows may too
            if not out and key in nothing:  # due by the rule, yet nothing to send: not due again
                bot.store.set_due(key, "")  # until the person changes
    return sent


def next_due(rules: Rules, applicant: Applicant) -> str:
    """When the person's next reminder is due (ISO), "" when none is: the same rules as the tick."""
    times: list[datetime] = []
    step = current_step(rules, applicant)
    if (
        step is not None
        and not kind_of(step).decided_by_reviewers
        and applicant.step_started
        and is_applicant(rules, applicant)
    ):
        schedule = step.remind_after_days or (
            (rules.reminders.stale_step_days,) if rules.reminders.stale_step_days else ()
        )
        since = _stale_since(step, applicant)
        sent = [d for d in schedule if f"stale:{step.id}:{d}:{since}" in applicant.reminders_sent]
        later = [d for d in schedule if d > max(sent, default=-1)]
        if later:
            times.append(from_iso(since) + timedelta(days=min(later)))
    warning_days = rules.reminders.training_expiry_warning_days
    if applicant.approved_at and warning_days > 0:
        expiry = training_expiry(rules, applicant)
        if expiry is not None and f"expiry:{expiry.isoformat()}" not in applicant.reminders_sent:
            times.append(datetime.combine(expiry - timedelta(days=warning_days), time(), UTC))
    times.extend(from_iso(t) for t in lifecycle.access_due(rules, applicant))
    return to_iso(min(times)) if times else ""


def expire_kept_files(bot: Services, now: datetime, applicants: object = None) -> int:
    """Delete uploaded files kept past `retention.keep_days` (only when rules.yaml keeps files at all)."""
    keep_days = bot.rules.retention.keep_days
    if keep_days <= 0:
        return 0
    cutoff = now - timedelta(days=keep_days)
    removed = 0
    for key in bot.store.with_kept_files_before(cutoff):
        count = bot.store.drop_files(key, lambda d: from_iso(d.at) < cutoff)
        if count:
            bot.store.audit("", "retention.files_deleted", key, count=count)
            removed += count
    return removed


def _stale_since(step: Step, applicant: Applicant) -> str:
    """Idle time on a step counts from arriving on it, or from "I applied" on a step that records it."""
    applied = applicant.applied.get(step.id, "") if step.records_applied else ""
    return _applied_moment(applied) if applied else applicant.step_started


Reminder = tuple[str, Tell, tuple[str, str, str, dict[str, str | int | bool]]]
"""(the "sent" tag kept in the record, the message, the audit entry)."""


def _stale_reminder(bot: Services, applicant: Applicant, now: datetime) -> Reminder | None:
    rules = bot.rules
    step = current_step(rules, applicant)
    if step is None or kind_of(step).decided_by_reviewers or not applicant.step_started:
        return None
    if not is_applicant(rules, applicant):
        return None
    schedule = step.remind_after_days or (
        (rules.reminders.stale_step_days,) if rules.reminders.stale_step_days else ()
    )
    applied = applicant.applied.get(step.id, "") if step.records_applied else ""
    since = _stale_since(step, applicant)
    idle_days = (now - from_iso(since)).days  # after "I applied", counted from that day
    due = [d for d in schedule if idle_days >= d]
    if not due:
        return None
    days = max(due)
    tag = f"stale:{step.id}:{days}:{since}"
    key = applicant.key
    if applied and step.reminder is not None:
        tell = Tell(
            key, "reminder.since_applied", {"date": applied[:10], "days": idle_days, "text": step.reminder}
        )
    elif applied:
        tell = Tell(key, "reminder.applied_plain", {"date": applied[:10], "days": idle_days})
    elif step.reminder is not None:
        tell = Tell(key, "reminder.custom", {"text": step.reminder})
    else:
        number = rules.step_index(step.id) + 1
        tell = Tell(key, "reminder.stale", {"number": number, "title": step.title, "days": idle_days})
    return tag, tell, ("", "reminder.stale", key, {"step": step.id, "days": days})


def _applied_moment(applied: str) -> str:
    """The applied date as a moment (dates are kept as YYYY-MM-DD, counted from midnight UTC)."""
    return applied if "T" in applied else f"{applied}T00:00:00+00:00"


def _expiry_reminder(bot: Services, applicant: Applicant, now: datetime) -> Reminder | None:
    warning_days = bot.rules.reminders.training_expiry_warning_days
    if not applicant.approved_at or warning_days <= 0:
        return None
    expiry = training_expiry(bot.rules, applicant)
    if expiry is None or expiry - now.date() > timedelta(days=warning_days):
        return None
    tell = Tell(applicant.key, "reminder.training_expiring", {"date": expiry.isoformat()})
    return f"expiry:{expiry.isoformat()}", tell, ("", "reminder.training_expiry", applicant.key, {})


def _waiting_review(bot: Services, review: Review, now: datetime) -> int:
    if not review.posts:
        bot.posts.post(review.id)  # the first post failed: try again
        return 0
    hours = bot.rules.reminders.review_waiting_hours
    if hours <= 0:
        return 0
    last = from_iso(review.last_ping or review.created)
    if now - last < timedelta(hours=hours):
        return 0
    stamp = bot.store.now()
    bot.store.update_review(review.id, lambda r: setattr(r, "last_ping", stamp))
    waited = int((now - from_iso(review.created)).total_seconds() // 3600)
    if review.claimed_by:  # a claimed package pings its claimer alone, by name
        targets = tuple(Mention(k) for k in ping_targets(review, bot.rules.reviewers.users))
        bot.posts.note(review.id, "review.reping_claimed", reviewer=targets, hours=waited)
    else:
        bot.posts.note(review.id, "review.reping", hours=waited)
    bot.store.audit("", "reminder.review_waiting", review.applicant, hours=waited)
    return 1
