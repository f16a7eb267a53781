"""Admin commands in DM. Permission is by stable user id from rules.yaml; refusals are audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import admin
from bot.context import Context
from bot.events import DirectMessage
from bot.messenger import Tell
from bot.models import Review
from bot.review.deliveries import withdrawals
from bot.step_kinds import kind_of
from bot.store import ForgetFailed

COMMANDS = ("pending", "show", "reset", "approve", "reject", "reload", "export", "forget", "stats", "admin")
_NEEDS_ARGS = {"show": 1, "reset": 2, "approve": 1, "reject": 3, "forget": 1}


@dataclass(frozen=True)
class AdminCommand:
    name: str
    args: list[str]


def parse_command(text: str) -> AdminCommand | None:
    words = text.strip().lstrip("/!").split()
    if not words or words[0].lower() not in COMMANDS:
        return None
    name = words[0].lower()
    args = words[1:]
    if name not in _NEEDS_ARGS and len(args) > 0 and name not in ("admin",):
        return None  # "pending what?" is conversation, not a command
    if name in ("approve", "reject", "show", "forget", "reset") and not args:
        return None
    return AdminCommand(name, args)


class AdminCommandHandler:
    def match(self, ctx: Context) -> AdminCommand | None:
        event = ctx.event
        if not isinstance(event, DirectMessage) or event.attachments:
            return None
        return parse_command(ctx.text)

    def handle(self, ctx: Context, found: AdminCommand) -> None:
        if not ctx.rules.is_admin(ctx.user.key):
            ctx.store.audit(ctx.user.key, "admin.refused", command=found.name)
            ctx.reply(ctx.t("admin.refused"))
            return
        if len(found.args) < _NEEDS_ARGS.get(found.name, 0):
            ctx.reply(ctx.t("admin.usage"))
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
        }
        commands[found.name](ctx, found.args)


def _user(ctx: Context, text: str) -> str:
    return admin.resolve_user(text, ctx.user.platform)


def _usage(ctx: Context, args: list[str]) -> None:
    ctx.reply(ctx.t("admin.usage"))


def _pending(ctx: Context, args: list[str]) -> None:
    lines = admin.pending(ctx.store, ctx.rules, ctx.services.clock())
    ctx.reply("\n".join(lines) if lines else ctx.t("admin.nothing_pending"))


def _show(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    lines = admin.show(ctx.store, ctx.rules, key)
    ctx.reply("\n".join(lines) if lines else ctx.t("admin.no_such_user", user=key))


def _reset(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    ctx.reply(admin.reset(ctx.store, ctx.rules, key, args[1], ctx.user.key))
    step = ctx.rules.step(args[1])
    if step is not None and ctx.store.get(key) is not None:
        # The title is resolved in the applicant's language when the DM is rendered.
        ctx.deliver([Tell(key, "admin.step_reset_dm", {"step": step.title})])


def _override_review(ctx: Context, key: str) -> Review | None:
    if ctx.store.get(key) is None:
        ctx.reply(ctx.t("admin.no_such_user", user=key))
        return None
    return ctx.desk.open_round(key)


def _approve(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    review = _override_review(ctx, key)
    if review is not None:
        decision = ctx.carry_out(ctx.desk.approve(review, [ctx.user.key], override=True))
        ctx.reply(ctx.t("review.not_yourself") if decision.status == "ignored_self" else ctx.t("admin.done"))


def _reject(ctx: Context, args: list[str]) -> None:
    key = _user(ctx, args[0])
    step = ctx.rules.step(args[1])
    if step is None or kind_of(step).decided_by_reviewers:
        ctx.reply(ctx.t("review.reason_needs_step", steps=ctx.desk.step_menu(ctx.tr)))
        return
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


def _export(ctx: Context, args: list[str]) -> None:
    ctx.store.audit(ctx.user.key, "admin.export")
    ctx.reply(admin.export_csv(ctx.store, ctx.rules))


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
    ctx.reply("\n".join(admin.stats(ctx.store, ctx.rules)))
