"""Admin commands in DM. Permission is by stable user id from rules.yaml; refusals are audited."""

from __future__ import annotations

from bot import admin
from bot.core import Context
from bot.events import DirectMessage
from bot.models import Review

COMMANDS = ("pending", "show", "reset", "approve", "reject", "reload", "export", "forget", "stats", "admin")
_NEEDS_ARGS = {"show": 1, "reset": 2, "approve": 1, "reject": 3, "forget": 1}


def _command(text: str) -> tuple[str, list[str]] | None:
    words = text.strip().lstrip("/!").split()
    if not words or words[0].lower() not in COMMANDS:
        return None
    name = words[0].lower()
    args = words[1:]
    if name not in _NEEDS_ARGS and len(args) > 0 and name not in ("admin",):
        return None  # "pending what?" is conversation, not a command
    if name in ("approve", "reject", "show", "forget", "reset") and not args:
        return None
    return name, args


class AdminCommandHandler:
    def accepts(self, ctx: Context) -> bool:
        return (
            isinstance(ctx.event, DirectMessage)
            and not ctx.event.attachments
            and _command(ctx.text) is not None
        )

    def handle(self, ctx: Context) -> None:
        parsed = _command(ctx.text)
        assert parsed is not None
        name, args = parsed
        if not ctx.rules.is_admin(ctx.user.key):
            ctx.bot.store.audit(ctx.user.key, "admin.refused", command=name)
            ctx.reply(ctx.t("admin.refused"))
            return
        if len(args) < _NEEDS_ARGS.get(name, 0):
            ctx.reply(ctx.t("admin.usage"))
            return
        getattr(self, f"_{name}")(ctx, args)

    def _user(self, ctx: Context, text: str) -> str:
        return admin.resolve_user(text, ctx.user.platform)

    def _admin(self, ctx: Context, args: list[str]) -> None:
        ctx.reply(ctx.t("admin.usage"))

    def _pending(self, ctx: Context, args: list[str]) -> None:
        lines = admin.pending(ctx.bot.store, ctx.rules, ctx.bot.clock())
        ctx.reply("\n".join(lines) if lines else ctx.t("admin.nothing_pending"))

    def _show(self, ctx: Context, args: list[str]) -> None:
        key = self._user(ctx, args[0])
        lines = admin.show(ctx.bot.store, ctx.rules, key)
        ctx.reply("\n".join(lines) if lines else ctx.t("admin.no_such_user", user=key))

    def _reset(self, ctx: Context, args: list[str]) -> None:
        key = self._user(ctx, args[0])
        ctx.reply(admin.reset(ctx.bot.store, ctx.rules, key, args[1], ctx.user.key))
        step = ctx.rules.step(args[1])
        if step is not None and ctx.bot.store.get(key) is not None:
            ctx.bot.send_dm(key, "admin.step_reset_dm", step=step.title.get(ctx.rules.language))

    def _override_review(self, ctx: Context, key: str) -> Review | None:
        applicant = ctx.bot.store.get(key)
        if applicant is None:
            ctx.reply(ctx.t("admin.no_such_user", user=key))
            return None
        return ctx.bot.reviews.pending_review(applicant) or ctx.bot.reviews.start_round(key)

    def _approve(self, ctx: Context, args: list[str]) -> None:
        key = self._user(ctx, args[0])
        review = self._override_review(ctx, key)
        if review is not None:
            ctx.bot.reviews.approve(review, [ctx.user.key], override=True)
            ctx.reply(ctx.t("admin.done"))

    def _reject(self, ctx: Context, args: list[str]) -> None:
        key = self._user(ctx, args[0])
        step = ctx.rules.step(args[1])
        if step is None or step.complete_by == "review":
            ctx.reply(ctx.t("review.reason_needs_step", steps=ctx.bot.reviews.step_menu()))
            return
        review = self._override_review(ctx, key)
        if review is not None:
            ctx.bot.reviews.reject(review, ctx.user.key, " ".join(args[2:]), step, override=True)
            ctx.reply(ctx.t("admin.done"))

    def _reload(self, ctx: Context, args: list[str]) -> None:
        error = ctx.bot.rules_holder.reload()
        ctx.bot.store.audit(ctx.user.key, "admin.reload", ok=error is None)
        ctx.reply(
            ctx.t("admin.rules_reloaded") if error is None else ctx.t("admin.rules_broken", errors=str(error))
        )

    def _export(self, ctx: Context, args: list[str]) -> None:
        ctx.bot.store.audit(ctx.user.key, "admin.export")
        ctx.reply(admin.export_csv(ctx.bot.store, ctx.rules))

    def _forget(self, ctx: Context, args: list[str]) -> None:
        key = self._user(ctx, args[0])
        if ctx.bot.store.forget(key):
            ctx.bot.store.audit(ctx.user.key, "admin.forget", key)
            ctx.reply(ctx.t("admin.forgotten", user=key))
        else:
            ctx.reply(ctx.t("admin.no_such_user", user=key))

    def _stats(self, ctx: Context, args: list[str]) -> None:
        ctx.reply("\n".join(admin.stats(ctx.bot.store, ctx.rules)))
