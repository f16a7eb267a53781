"""Admin commands in DM (and reviewers' `pending`). Permission is by stable user id from rules.yaml;
refusals are audited.

A command word alone (`approve`, `reset`) is still a command: an admin gets its usage, a reviewer
the reviewers' usage; from anyone else it is conversation. Steps are named by number (from 1, as
users see them) or id. `approve USER` refuses a package that is not complete unless forced
(`approve USER force`), and nobody approves their own package.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from bot import admin
from bot.context import Context
from bot.entitlements import actions
from bot.events import DirectMessage, Outgoing, OutgoingFile
from bot.handlers.roles import may
from bot.messenger import Mention, Tell
from bot.models import Review, from_iso
from bot.review.deliveries import withdrawals
from bot.rules import Step
from bot.store import ForgetFailed
from bot.workflow import missing_for_review

COMMANDS = (
    "pending",
    "show",
    "reset",
    "approve",
    "reject",
    "reload",
    "export",
    "forget",
    "stats",
    "admin",
    "revoke",
    "block",
    "unblock",
    "closeout",
)
_NEEDS_ARGS = {
    "show": 1,
    "reset": 2,
    "approve": 1,
    "reject": 3,
    "forget": 1,
    "revoke": 2,
    "block": 2,
    "unblock": 1,
    "closeout": 1,
}
_USAGE_KEYS = {
    "revoke": "access.usage_revoke",
    "block": "access.usage_block",
    "unblock": "access.usage_unblock",
    "closeout": "lifecycle.usage_closeout",
}
_NEEDS_REASON = ("revoke", "block")
_REVIEWER_COMMANDS = ("pending",)
_REVIEWER_USAGE = ("approve", "reject")
FORCE_WORDS = frozenset({"force", "forced", "anyway", "강제"})


@dataclass(frozen=True)
class AdminCommand:
    name: str
    args: list[str]

    @property
    def complete(self) -> bool:
        return len(self.args) >= _NEEDS_ARGS.get(self.name, 0)


def parse_command(text: str) -> AdminCommand | None:
    """`approve alice`, `reset alice 2`, `pending`; a command word alone too (`approve`: its usage).
    "pending what?" is conversation, not a command."""
    words = text.strip().lstrip("/!").split()
    if not words or words[0].lower() not in COMMANDS:
        return None
    name = words[0].lower()
    args = words[1:]
    if name not in _NEEDS_ARGS and len(args) > 0 and name not in ("admin",):
        return None
    return AdminCommand(name, args)


class AdminCommandHandler:
    def match(self, ctx: Context) -> AdminCommand | None:
        event = ctx.event
        if not isinstance(event, DirectMessage) or event.attachments:
            return None
        command = parse_command(ctx.text)
        if command is None:
            return None
        if not command.complete and not ctx.is_staff:
            return None  # "show", "forget" alone from an applicant: words, not commands
        return command

    def handle(self, ctx: Context, found: AdminCommand) -> None:
        if not may(ctx.rules, ctx.user.key, found.name):
            if ctx.rules.is_reviewer(ctx.user.key) and found.name in _REVIEWER_COMMANDS:
                _reviewer_pending(ctx)
                return
            if ctx.rules.is_reviewer(ctx.user.key) and found.name in _REVIEWER_USAGE:
                ctx.reply(ctx.t("review.usage"))
                return
            ctx.store.audit(ctx.user.key, "admin.refused", command=found.name)
            ctx.reply(ctx.t("admin.refused"))
            return
        if not found.complete:
            ctx.reply(_usage_of(ctx, found))
            return
        commands: dict[str, Callable[[Context, list[str]], None]] = {
            "admin": _usage,
            "pending": _pending,
            "show": _show,
            "reset": _reset,
            "approve": _approve,
            "reject": _reject,
            "reload": _reload,
            "export": _export,
            "forget": _forget,
            "stats": _stats,
            "revoke": _revoke,
            "block": _block,
            "unblock": _unblock,
            "closeout": _closeout,
        }
        commands[found.name](ctx, found.args)


def _user(ctx: Context, text: str) -> str:
    return admin.resolve_user(text, ctx.user.platform)


def _usage(ctx: Context, args: list[str]) -> None:
    ctx.reply(ctx.t("admin.usage") + "\n" + ctx.t("lifecycle.usage_more"))


def _usage_of(ctx: Context, found: AdminCommand) -> str:
    """A command without what it needs: which argument is missing, or its usage."""
    if found.name in _NEEDS_REASON and len(found.args) == 1:
        return ctx.t("lifecycle.reason_needed", command=found.name, user=found.args[0])
    return ctx.t(_USAGE_KEYS.get(found.name, f"admin.usage_{found.name}"))


def _pending(ctx: Context, args: list[str]) -> None:
    lines = admin.pending(ctx.store, ctx.rules, ctx.services.clock())
    ctx.reply("\n".join(lines) if lines else ctx.t("admin.nothing_pending"))


def _reviewer_pending(ctx: Context) -> None:
    """What waits for a decision, for a reviewer: read only, with the ids to decide by text."""
    now = ctx.services.clock()
    waiting = sorted((r for r in ctx.store.reviews() if r.state == "pending"), key=lambda r: r.created)
    if not waiting:
        ctx.reply(ctx.t("admin.nothing_pending"))
        return
    lines = [ctx.t("review.pending_header")]
    for review in waiting:
        hours = max(0.0, (now - from_iso(review.created)).total_seconds() / 3600)
        age = f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.0f} h"
        vote = review.votes.get(ctx.user.key)
        lines.append(
            ctx.t(
                "review.pending_line",
                applicant=Mention(review.applicant),
                age=age,
                have=sum(1 for v in review.votes.values() if v == "approve"),
                needed=ctx.rules.reviewers.approvals_required,
                voted=ctx.t("review.you_voted", vote=vote) if vote else "",
                review=review.id,
            )
        )
    ctx.reply("\n".join(lines))


def _show(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    lines = admin.show(ctx.store, ctx.rules, key)
    ctx.reply("\n".join(lines) if lines else ctx.t("admin.no_such_user", user=key))


def _step(ctx: Context, name: str) -> Step | None:
    """A step by its number (from 1) or id; None after telling the admin which steps there are."""
    step = ctx.desk.find_step(name)
    if step is None:
        ctx.reply(ctx.t("admin.no_such_step", step=name, steps=ctx.desk.step_menu(ctx.tr)))
    return step


def _known_user_and_step(ctx: Context, args: list[str]) -> tuple[str, Step] | None:
    """USER STEP of `reset` and `reject`: a known person and a step by number or id (else the
    admin is told which was not found)."""
    key = _user(ctx, args[0])
    if ctx.store.get(key) is None:
        ctx.reply(ctx.t("admin.no_such_user", user=key))
        return None
    step = _step(ctx, args[1])
    return (key, step) if step is not None else None


def _reset(ctx: Context, args: list[str]) -> None:
    found = _known_user_and_step(ctx, args)
    if found is None:
        return
    key, step = found
    ctx.reply(admin.reset(ctx.store, ctx.rules, key, step.id, ctx.user.key))
    # The title is resolved in the applicant's language when the DM is rendered.
    ctx.deliver([Tell(key, "admin.step_reset_dm", {"step": step.title})])


def _override_review(ctx: Context, key: str) -> Review | None:
    if ctx.store.get(key) is None:
        ctx.reply(ctx.t("admin.no_such_user", user=key))
        return None
    return ctx.desk.open_round(key)


def _approve(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    if key == ctx.user.key:
        ctx.store.audit(ctx.user.key, "review.vote_refused", key, reason="self")
        ctx.reply(ctx.t("admin.not_yourself"))
        return
    applicant = ctx.store.get(key)
    if applicant is None:
        ctx.reply(ctx.t("admin.no_such_user", user=key))
        return
    if applicant.access.blocked:
        ctx.reply(ctx.t("lifecycle.approve_blocked", user=args[0]))
        return
    forced = any(a.lower() in FORCE_WORDS for a in args[1:])
    missing = missing_for_review(ctx.rules, applicant)
    if missing and not forced:
        listed = ", ".join(f"{ctx.rules.step_index(s.id) + 1}. {s.title.get(ctx.lang)}" for s in missing)
        ctx.reply(ctx.t("admin.incomplete", user=args[0], missing=listed))
        return
    review = _override_review(ctx, key)
    if review is not None:
        decision = ctx.carry_out(ctx.desk.approve(review, [ctx.user.key], override=True))
        ctx.reply(ctx.t("admin.not_yourself") if decision.status == "ignored_self" else ctx.t("admin.done"))


def _reject(ctx: Context, args: list[str]) -> None:
    found = _known_user_and_step(ctx, args)
    if found is None:
        return
    key, step = found
    review = _override_review(ctx, key)
    if review is not None:
        ctx.carry_out(ctx.desk.reject(review, ctx.user.key, " ".join(args[2:]), step, override=True))
        ctx.reply(ctx.t("admin.done"))


def _reload(ctx: Context, args: list[str]) -> None:
    error = ctx.services.rules_holder.reload()
    ctx.store.audit(ctx.user.key, "admin.reload", ok=error is None)
    ctx.reply(
        ctx.t("admin.rules_reloaded") if error is None else ctx.t("admin.rules_broken", errors=str(error))
    )


EXPORT_INLINE_ROWS = 100
"""Above this many people the export is a CSV file, not the text of a message (100,000 rows are a
10 MB message no platform shows, and the console prints line by line)."""


def _export(ctx: Context, args: list[str]) -> None:
    ctx.store.audit(ctx.user.key, "admin.export")
    out = io.StringIO()
    count = admin.write_csv(out, ctx.store, ctx.rules, workers=ctx.services.report_workers)
    text = out.getvalue()
    if count <= EXPORT_INLINE_ROWS:
        ctx.reply(text)
        return
    if not ctx.adapter.capabilities.files:
        ctx.reply(ctx.t("admin.export_too_long", count=count))
        return
    name = f"accessbot-export-{ctx.store.now()[:10]}.csv"
    data = OutgoingFile(name, text.encode("utf-8"))
    ctx.reply(Outgoing(ctx.t("admin.export_attached", count=count, name=name), files=(data,)))


def _forget(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    try:
        report = admin.forget(ctx.store, key, ctx.user.key)
    except admin.NotDone:
        ctx.reply(ctx.t("admin.no_such_user", user=key))
        return
    except ForgetFailed as exc:  # never a success that did not happen
        ctx.reply(ctx.t("admin.forget_failed", user=key, done=exc.report.summary()))
        return
    ctx.deliver(withdrawals(report.review_posts))
    ctx.reply(ctx.t("admin.forgotten", user=key))


def _stats(ctx: Context, args: list[str]) -> None:
    ctx.reply("\n".join(admin.stats(ctx.store, ctx.rules, workers=ctx.services.report_workers)))


# -- access after approval: revoke, block, unblock, close-out (bot/entitlements/actions.py) ---------

_ANSWERS = {
    "unknown": "admin.no_such_user",
    "not_active": "access.not_active",
    "not_blocked": "access.not_blocked",
    "already_blocked": "lifecycle.already_blocked",
    "staff": "lifecycle.block_staff",
    "yourself": "lifecycle.block_yourself",
    "no_access": "lifecycle.closeout_no_access",
    "already_asked": "lifecycle.closeout_already",
}


def _answer(ctx: Context, outcome: actions.Outcome, key: str, done: str) -> None:
    """Send what the operation left to send, then tell the admin what came of it."""
    ctx.deliver(outcome.deliveries, outcome.op_id)
    text_key = done if outcome.done else _ANSWERS.get(outcome.status, "admin.done")
    user: object = Mention(key) if outcome.done else key
    ctx.reply(ctx.t(text_key, user=user, state=outcome.state, date=outcome.when))


def _revoke(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    outcome = actions.revoke(ctx.store, ctx.rules, key, ctx.user.key, " ".join(args[1:]))
    _answer(ctx, outcome, key, "access.revoked")


def _block(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    outcome = actions.block(ctx.store, ctx.rules, key, ctx.user.key, " ".join(args[1:]))
    _answer(ctx, outcome, key, "access.blocked")


def _unblock(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    _answer(ctx, actions.unblock(ctx.store, ctx.rules, key, ctx.user.key), key, "access.unblocked")


def _closeout(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    outcome = actions.ask_closeout(ctx.store, ctx.rules, key, ctx.user.key, " ".join(args[1:]))
    _answer(ctx, outcome, key, "lifecycle.closeout_asked")
