"""Admin operations, shared by the DM commands and `accessbot admin ...` on a data folder."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot import forms, memory, report_workers
from bot.entitlements import actions
from bot.i18n import Translator
from bot.messenger import Delivery
from bot.models import Applicant, StepState, from_iso
from bot.reports import ExportRows, age
from bot.rules import Rules
from bot.settings import REPORT_WORKERS
from bot.store import ForgetReport, Store
from bot.workflow import current_step, done_count, is_applicant

_MENTION = re.compile(r"^<@!?([A-Za-z0-9]+)(\|[^>]*)?>$")


def resolve_user(text: str, platform: str) -> str:
    """`slack:U1`, `<@U1>` (a mention) or `alice` (on the admin's platform) -> a user key."""
    text = text.strip()
    match = _MENTION.match(text)
    if match:
        return f"{platform}:{match.group(1)}"
    if re.match(r"^[a-z]+:\S+$", text):
        return text
    return f"{platform}:{text.lstrip('@')}"


def _hours(since: str, now: datetime) -> float:
    return max(0.0, (now - from_iso(since)).total_seconds() / 3600)


def iter_applicants(store: Store, rules: Rules) -> Iterator[Applicant]:
    """Everyone with a record, less staff (reviewers, admins) who only talked to the bot; streamed
    one shard at a time (store.iter_all), in the order they came."""
    return (a for a in store.iter_all() if is_applicant(rules, a))


def applicants(store: Store, rules: Rules) -> list[Applicant]:
    """iter_applicants as a list (for callers that need them all at once)."""
    return list(iter_applicants(store, rules))


def pending(store: Store, rules: Rules, now: datetime) -> list[str]:
    lines = []
    for review in store.pending_reviews():  # keyed, oldest first
        if review.state != "pending":
            continue
        approvals = sum(1 for v in review.votes.values() if v == "approve")
        posted = "posted" if review.posts else "NOT POSTED (check the reviewers channel in rules.yaml)"
        lines.append(
            f"{review.applicant}: waiting {age(_hours(review.created, now))},"
            f" {approvals}/{rules.reviewers.approvals_required} approvals, {posted}"
        )
    return lines


def show(store: Store, rules: Rules, key: str) -> list[str] | None:
    applicant = store.get(key)
    if applicant is None:
        return None
    step = current_step(rules, applicant)
    lines = [
        f"{applicant.key} (language {applicant.lang}, since {applicant.created[:10]},"
        f" {done_count(rules, applicant)}/{len(rules.steps)} done,"
        f" current: {step.id if step else 'finished'})"
    ]
    for s in rules.steps:
        state = applicant.steps.get(s.id)
        if state is None:
            lines.append(f"  {s.id}: to do")
        else:
            note = f" ({state.note})" if state.note else ""
            lines.append(f"  {s.id}: {state.status} {state.at}{note}")
    for doc in applicant.documents:
        verdict = "accepted" if doc.accepted else "rejected: " + ",".join(doc.problems)
        lines.append(
            f"  document for {doc.step} at {doc.at}: {doc.kind}, {verdict}; sha256 {doc.sha256[:12]}…"
        )
    review = store.review(applicant.review_id) if applicant.review_id else None
    if review is not None:
        lines.append(f"  review {review.id}: {review.state}, votes {dict(review.votes)}")
    lines.extend(forms.admin_lines(rules, applicant))
    lines.extend(access_lines(applicant))
    return lines


def access_lines(applicant: Applicant) -> list[str]:
    """`show`: the access after approval, every grant and removal with its time (issue 15)."""
    access = applicant.access
    if access.state == "none" and not access.history and not access.blocked:
        return []
    until = f" until {access.until}" if access.until else ""
    lines = [f"  access: {access.state}{until}; granted: {', '.join(access.granted) or 'nothing'}"]
    if access.blocked:
        lines.append(f"  blocked: {access.blocked}")
    if access.closeout:
        by = f" by {access.closeout_by}" if access.closeout_by else ""
        again = f"; asked again on {access.closeout_next[:10]}" if access.closeout_next else ""
        asked = f"asked {access.closeout[:10]}{by}, {access.closeout_asks} time(s)"
        lines.append(f"  close-out: {asked}, no yes yet{again}")
    lines.extend(f"  failing: {name}: {error}" for name, error in access.failing.items())
    for event in access.history:
        what = " ".join(x for x in (event.action, event.entitlement) if x)
        extra = "; ".join(x for x in (f"by {event.by}" if event.by else "", event.reason) if x)
        lines.append(f"  {event.at} {what}" + (f" ({extra})" if extra else ""))
    return lines


OPEN_ROUND = ("pending", "returned")
"""A round still open: with the reviewers, or with the applicant for changes (bot/review/returns.py)."""


def reset(store: Store, rules: Rules, key: str, step_id: str, by: str) -> str:
    step = rules.step(step_id)
    if step is None:
        return f"no step {step_id!r}; steps: {', '.join(s.id for s in rules.steps)}"
    if store.get(key) is None:
        return f"no applicant {key}"
    now = store.now()
    withdrawn: list[str] = []

    def reopen(a: Applicant) -> None:
        a.steps[step.id] = StepState("reopened", now, {}, by=by, note="reset by an admin")
        a.step_started = now
        if a.review_id:
            withdrawn.append(a.review_id)
            a.review_id = ""

    store.update(key, reopen)
    for review_id in withdrawn:
        store.update_review(
            review_id, lambda r: setattr(r, "state", "withdrawn") if r.state in OPEN_ROUND else None
        )
    store.audit(by, "admin.reset", key, step=step.id)
    return f"{key}: step {step.id} reopened" + (" (pending review withdrawn)" if withdrawn else "")


class NotDone(Exception):
    """An admin command that changes data could not be carried out; `str()` says why."""


def forget(store: Store, key: str, by: str) -> ForgetReport:
    """Forget a person everywhere (Store.forget), audited. Raises NotDone when there is no such
    person, ForgetFailed (bot.store) when a write failed: never a success that did not happen."""
    report = store.forget(key)
    if not report:
        raise NotDone(f"no applicant {key} (use the full id, e.g. slack:U0123)")
    store.audit(by, "admin.forget", key)
    return report


def forget_text(report: ForgetReport) -> str:
    posts = f"; {len(report.review_posts)} review post(s) to mark withdrawn" if report.review_posts else ""
    return f"forgot {report.key}: {report.summary()}{posts}"


CHANGES = {"forget": 1, "reset": 2, "revoke": 2, "block": 2, "unblock": 1, "closeout": 1}
"""The admin commands that change data, with how many arguments each takes."""

_CHANGE_USAGE = {
    "reset": "reset USER STEP",
    "revoke": "revoke USER REASON",
    "block": "block USER REASON",
    "unblock": "unblock USER",
    "closeout": "closeout USER [REASON]",
}
_REFUSALS = {
    "not_active": "{user} has no access to revoke (access: {state})",
    "not_blocked": "{user} is not blocked",
    "already_blocked": "{user} is already blocked",
    "staff": "{user} is a reviewer or admin in rules.yaml: take them out of rules.yaml instead",
    "yourself": "nobody blocks themselves",
    "no_access": "{user} never had access: there is nothing to close out",
    "already_asked": "{user} was already asked on {when}; they are reminded until they answer",
}


Deliver = Callable[[Sequence[Delivery], str], None]
"""Messenger.deliver: hands what an operation left to send to the outbox, with its op id."""


def lifecycle_change(
    store: Store, rules: Rules, command: str, args: list[str], by: str, deliver: Deliver | None = None
) -> str:
    """revoke / block / unblock / closeout from the CLI (bot/entitlements/actions.py). What they
    leave to send is committed to the operation log: a live bot sends it at once (`deliver`, from
    bot/control.py), a stopped one at its next start. Raises NotDone."""
    key, reason = args[0], " ".join(args[1:])
    if command == "revoke":
        outcome = actions.revoke(store, rules, key, by, reason)
    elif command == "block":
        outcome = actions.block(store, rules, key, by, reason)
    elif command == "unblock":
        outcome = actions.unblock(store, rules, key, by)
    else:
        outcome = actions.ask_closeout(store, rules, key, by, reason)
    if outcome.status == "unknown":
        raise NotDone(f"no applicant {key} (use the full id, e.g. slack:U0123)")
    if not outcome.done:
        raise NotDone(_REFUSALS[outcome.status].format(user=key, state=outcome.state, when=outcome.when))
    if deliver is not None:
        deliver(outcome.deliveries, outcome.op_id)
    did = {"revoke": "revoked", "block": "blocked", "unblock": "unblocked", "closeout": "asked to close out"}
    return f"{key}: {did[command]}; {len(outcome.deliveries)} message(s) and removal(s) in the outbox"


def change(
    store: Store, rules: Rules, command: str, args: list[str], by: str = "cli", deliver: Deliver | None = None
) -> str:
    """Carry out `forget USER`, `reset USER STEP`, `revoke USER REASON`, `block USER REASON`,
    `unblock USER` or `closeout USER [REASON]`; the text for the admin. Raises NotDone."""
    needed = CHANGES.get(command)
    if needed is None:
        raise NotDone(f"unknown command {command!r}")
    if len(args) < needed:
        raise NotDone(f"usage: {_CHANGE_USAGE.get(command, command + ' USER')}")
    if command == "forget":
        return forget_text(forget(store, args[0], by))
    if command != "reset":
        return lifecycle_change(store, rules, command, args, by, deliver)
    if store.get(args[0]) is None:
        raise NotDone(f"no applicant {args[0]} (use the full id, e.g. slack:U0123)")
    return reset(store, rules, args[0], args[1], by)


def export_rows(store: Store, rules: Rules, lang: str = "") -> Iterator[list[str | int]]:
    """The header, then one row per applicant in the order they came (oldest first: shards fill in
    arrival order); no document contents, names or e-mails (bot/reports.py). Streamed: one shard of
    applicants in memory at a time, rows made one at a time."""
    rows = ExportRows(rules, lang, store.review_brief)
    yield rows.header()
    yield from rows.rows(store.iter_progress())


def write_csv(
    out: TextIO, store: Store, rules: Rules, lang: str = "", *, workers: int = REPORT_WORKERS
) -> int:
    """Stream the export as CSV to `out`; returns the number of applicants. Above
    report_workers.PARALLEL_FROM people the pieces are made in up to `workers` processes."""
    return report_workers.write_csv(out, store, rules, lang, workers=workers)


class XlsxUnavailable(NotDone):
    """openpyxl is not installed (pip install 'accessbot[xlsx]')."""


def write_xlsx(path: Path, store: Store, rules: Rules, lang: str = "") -> int:
    """The export as an .xlsx workbook (openpyxl's write-only mode: rows are not all kept in memory);
    returns the number of applicants. Raises XlsxUnavailable without openpyxl."""
    try:
        from openpyxl import Workbook
    except ImportError:
        raise XlsxUnavailable(
            "XLSX needs openpyxl: pip install 'accessbot[xlsx]' (CSV works without it)"
        ) from None
    book = Workbook(write_only=True)
    sheet = book.create_sheet("applicants")
    count = -1
    with memory.bulk_load():
        for row in export_rows(store, rules, lang):
            sheet.append(row)
            count += 1
    book.save(path)
    return count


def stats_plot(store: Store, rules: Rules, path: Path, lang: str = "") -> None:
    """The stats chart (bot/charts.py) as a PNG file."""
    from bot.charts import stats_png

    path.write_bytes(stats_png(rules, store, Translator(), lang or rules.language, store.clock()))


def stats(store: Store, rules: Rules, *, workers: int = REPORT_WORKERS) -> list[str]:
    """Counts per step and median times, streamed over the store (one shard in memory at a time;
    in up to `workers` processes above report_workers.PARALLEL_FROM people)."""
    return report_workers.tally(store, rules, workers=workers).lines(rules)
