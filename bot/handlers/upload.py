"""A file in DM: validate it against the current step's document profile and explain the verdict."""

from __future__ import annotations

import logging
from typing import Any

from bot.context import Context
from bot.documents import Finding, Verdict, render_problem
from bot.documents.summary import applicant_lines, expiry, identity, renewable
from bot.entitlements import lifecycle
from bot.events import Attachment, AttachmentTooLarge, AttachmentUnavailable, DirectMessage
from bot.handlers.steps import after_step, complete_step
from bot.models import Applicant, DocumentRecord
from bot.rules import DocumentProfile, Rules, Step
from bot.step_kinds import kind_of
from bot.storage import write_atomically
from bot.workflow import current_step

log = logging.getLogger(__name__)


class UploadHandler:
    def match(self, ctx: Context) -> DirectMessage | None:
        event = ctx.event
        return event if isinstance(event, DirectMessage) and event.attachments else None

    def handle(self, ctx: Context, found: DirectMessage) -> None:
        event = found
        step = current_step(ctx.rules, ctx.applicant())
        renewal = step is None and ctx.applicant().approved_at != ""
        if renewal:  # approved members send a new CITI report when theirs is about to expire
            step = renewal_step(ctx.rules)
        if step is None or not kind_of(step).takes_document or not step.document:
            self._not_expected(ctx, step)
            return
        profile = ctx.rules.documents[step.document]
        attachment = event.attachments[0]
        if len(event.attachments) > 1:
            ctx.reply(ctx.t("upload.one_at_a_time", filename=attachment.filename))
        result = self._validate(ctx, attachment, profile)
        if result is None:
            return
        verdict, data = result
        self._conclude(ctx, step, profile, verdict, attachment.filename, data, renewal=renewal)

    def _not_expected(self, ctx: Context, step: Step | None) -> None:
        if step is None:
            ctx.reply(ctx.t("upload.not_expected_done"))
            return
        number = ctx.rules.step_index(step.id) + 1
        ctx.reply(ctx.t("upload.not_expected", number=number, title=step.title))

    def _validate(
        self, ctx: Context, attachment: Attachment, profile: DocumentProfile
    ) -> tuple[Verdict, bytes] | None:
        try:
            data = attachment.read(profile.max_bytes)  # refuses a declared size over the limit unfetched
        except AttachmentTooLarge:
            finding = Finding("too_large", {"max_mb": f"{profile.max_bytes / 1_000_000:g}"})
            ctx.reply(
                ctx.t(
                    "upload.rejected",
                    problems="• " + render_problem(ctx.services.translator, ctx.lang, finding),
                )
            )
            return None
        except AttachmentUnavailable as exc:
            log.error("could not download an attachment on %s: %s", ctx.adapter.platform, exc)
            if exc.ours:
                ctx.messenger.notify_admins(
                    "admin.download_failed", platform=ctx.adapter.platform, reason=str(exc)
                )
            ctx.reply(ctx.t("upload.download_failed"))
            return None
        ctx.reply(ctx.t("upload.checking", filename=attachment.filename))
        names = list(dict.fromkeys(n for n in (ctx.user.display_name, *self._profile_names(ctx)) if n))
        verdict = ctx.services.validator.validate(
            data,
            filename=attachment.filename,
            content_type=attachment.content_type,
            profile=profile,
            applicant_names=names,
            today=ctx.services.clock().date(),
        )
        return verdict, data

    def _profile_names(self, ctx: Context) -> tuple[str, ...]:
        profile = ctx.messenger.profile(ctx.user)
        return (profile.real_name, profile.display_name)

    def _conclude(
        self,
        ctx: Context,
        step: Step,
        profile: DocumentProfile,
        verdict: Verdict,
        filename: str,
        data: bytes,
        *,
        renewal: bool = False,
    ) -> None:
        store = ctx.store
        key = ctx.user.key
        problems = list(verdict.problems)
        record_id = identity(profile.parser, verdict.fields)
        duplicate_of_own = False

        def record(a: Applicant) -> None:
            # Inside the store's lock: the uniqueness checks and the claim happen as one step.
            nonlocal duplicate_of_own
            file_owner = store.file_owner(verdict.sha256)
            if file_owner is not None and file_owner != key:
                problems.append(Finding("duplicate_file", {}))
            elif record_id and profile.require.unique_record_id:
                owner = store.record_id_owner(record_id)
                if owner is not None and owner != key:
                    problems.append(Finding("record_id_in_use", {}))
            duplicate_of_own = any(d.sha256 == verdict.sha256 and d.step == step.id for d in a.documents)
            accepted = verdict.accepted and not problems
            stored = ""
            if accepted and (ctx.rules.retention.keep_files or profile.share_with_reviewers):
                stored = self._keep_file(ctx, verdict)
            a.documents = [d for d in a.documents if d.sha256 != verdict.sha256]
            a.documents.append(
                DocumentRecord(
                    sha256=verdict.sha256,
                    step=step.id,
                    at=store.now(),
                    accepted=accepted,
                    kind=verdict.kind,
                    fields=dict(verdict.fields),
                    warnings=[w.code for w in verdict.warnings],
                    problems=[p.code for p in problems],
                    stored_file=stored,
                    identity=record_id,
                )
            )

        store.update(key, record)
        accepted = verdict.accepted and not problems
        codes = ",".join(p.code for p in problems)
        store.audit(key, "upload.accepted" if accepted else "upload.rejected", key, step=step.id, codes=codes)
        read = self._what_was_read(ctx, profile, verdict)
        if not accepted:
            listed = "\n".join("• " + render_problem(ctx.services.translator, ctx.lang, p) for p in problems)
            prefix = ctx.t("upload.same_file_again") + "\n" if duplicate_of_own else ""
            ctx.reply(prefix + (read + "\n\n" if read else "") + ctx.t("upload.rejected", problems=listed))
            return
        evidence: dict[str, Any] = {
            "sha256": verdict.sha256,
            "kind": verdict.kind,
            "fields": dict(verdict.fields),
            "warnings": [w.code for w in verdict.warnings],
            "needs_manual_check": verdict.needs_manual_check,
            "parser": profile.parser,
            "outcome": verdict.outcome,
            "unread_fields": list(verdict.unread_fields),
        }
        if renewal:
            self._renew(ctx, step, profile, evidence, read)
            return
        complete_step(ctx, step, evidence)
        notes = ""
        if verdict.warnings:
            notes = "\n" + "\n".join(
                "• " + render_problem(ctx.services.translator, ctx.lang, w) for w in verdict.warnings
            )
            notes = "\n" + ctx.t("upload.warnings") + notes
        # "Accepted" only when a real check passed; otherwise it was received for a reviewer to read.
        verdict_line = (
            ctx.t("upload.accepted", document=profile.title)
            if verdict.outcome == "accepted" and verdict.checked
            else ctx.t("upload.received", document=profile.title)
        )
        first = (read + "\n\n" if read else "") + verdict_line + notes
        after_step(ctx, first)

    def _renew(
        self, ctx: Context, step: Step, profile: DocumentProfile, evidence: dict[str, Any], read: str
    ) -> None:
        """A newer report for an approved member: the step keeps its status, its evidence is replaced."""
        before = ctx.applicant().steps.get(step.id)
        previous = dict(before.evidence) if before is not None else {}

        def replace(a: Applicant) -> None:
            state = a.steps.get(step.id)
            if state is not None:
                state.evidence = dict(evidence)

        ctx.store.update(ctx.user.key, replace)
        ctx.store.audit(ctx.user.key, "upload.renewed", ctx.user.key, step=step.id)
        until = expiry(profile.parser, evidence["fields"])
        expires = until.isoformat() if until else "-"
        ctx.reply((read + "\n\n" if read else "") + ctx.t("upload.renewed", date=expires))
        told = lifecycle.renewed(ctx.services, ctx.user.key, evidence, previous)  # access: restored, extended
        if told:
            ctx.reply(ctx.t(told))

    def _what_was_read(self, ctx: Context, profile: DocumentProfile, verdict: Verdict) -> str:
        lines = applicant_lines(profile.parser, verdict.fields, ctx.tr)
        return ctx.t("upload.read_fields") + "\n" + "\n".join(lines) if lines else ""

    def _keep_file(self, ctx: Context, verdict: Verdict) -> str:
        """Only when rules.yaml asks: the file, 0600, named by pseudonym and hash (no name in the path).

        What is kept is what may be forwarded (images re-encoded without their metadata), with the
        extension of the detected type, never the applicant's file name; nothing when it must not be."""
        if not verdict.safe_data:
            return ""
        folder = ctx.store.files_dir
        folder.mkdir(mode=0o700, exist_ok=True)
        suffix = verdict.safe_extension or ".bin"
        path = folder / f"{ctx.store.pseudonym(ctx.user.key)}-{verdict.sha256[:16]}{suffix}"
        write_atomically(path, verdict.safe_data)
        return path.name


def renewal_step(rules: Rules) -> Step | None:
    """The step whose document expires (the CITI report), for renewals after approval."""
    documents = rules.documents
    return next(
        (
            s
            for s in rules.steps
            if s.document and s.document in documents and renewable(documents[s.document].parser)
        ),
        None,
    )
