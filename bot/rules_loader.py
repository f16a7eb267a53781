"""Loading rules.yaml: parse, check every field and cross-reference, and keep the last good rules.

Every error names the file, line and field. Step kinds check their own steps (bot/step_kinds.py);
a running bot keeps the last good rules when a reload fails (RulesHolder).
"""

from __future__ import annotations

import logging
import re
import threading
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import safe_regex
from bot.documents.registry import parser_names
from bot.language.faq import match_faq
from bot.language.lexicon import default_lexicon
from bot.rules import Rules
from bot.schema import LocalText, Problem, SchemaError, Walker, node_lines, parse_yaml
from bot.step_kinds import KINDS

log = logging.getLogger(__name__)

CHOICES: dict[str, tuple[str, ...]] = {"step_kinds": tuple(KINDS), "document_parsers": parser_names()}
"""The open sets rules.yaml fields draw from (registries), for the walker and docs/rules.md."""

MAX_RULES_BYTES = 1024 * 1024
"""Largest rules.yaml accepted (the shipped one is about 12 KB)."""

_STEP_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_USER_KEY = re.compile(r"^[a-z]+:[^\s:][^\s]*$")
_MAX_CHECK_SECONDS = 30.0


class RulesError(SchemaError):
    """rules.yaml could not be used; `str()` lists every problem as file:line: field message."""


def parse_rules(text: str, filename: str = "rules.yaml") -> Rules:
    """Errors name steps as users see them: `step 4 (credentialing).complete_by`, not `steps[3]`."""
    if len(text) > MAX_RULES_BYTES:
        raise RulesError(filename, [Problem(0, "", _too_large(len(text)))])
    try:
        node = parse_yaml(text, filename)
    except SchemaError as exc:
        raise RulesError(exc.filename, exc.problems) from None
    walker = Walker(CHOICES)
    rules: Rules = walker.build(Rules, node, "")
    lines = node_lines(node)
    if not walker.problems:
        _cross_check(rules, walker.problems, lines)
    if walker.problems:
        raise RulesError(filename, _as_users_see_them(walker.problems, node))
    return rules


def _too_large(size: int) -> str:
    return f"is {size:,} bytes; rules.yaml may be at most {MAX_RULES_BYTES:,} (is this the right file?)"


def load_rules(path: Path) -> Rules:
    try:
        size = path.stat().st_size
        if size > MAX_RULES_BYTES:
            raise RulesError(str(path), [Problem(0, "", _too_large(size))])
        with path.open("rb") as handle:
            text = handle.read(MAX_RULES_BYTES + 1).decode("utf-8")
    except OSError as exc:
        raise RulesError(str(path), [Problem(0, "", f"cannot be read: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise RulesError(str(path), [Problem(0, "", "is not UTF-8 text")]) from exc
    try:
        return parse_rules(text, str(path))
    except SchemaError as exc:
        raise RulesError(exc.filename, exc.problems) from None


_STEP_PATH = re.compile(r"\bsteps\[(\d+)\]")


def _as_users_see_them(problems: list[Problem], node: yaml.Node) -> list[Problem]:
    """`steps[3]` -> `step 4 (credentialing)`: the number the checklist shows, and the step's id."""
    ids: list[str] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "steps" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    found = ""
                    if isinstance(item, yaml.MappingNode):
                        found = next((str(v.value) for k, v in item.value if k.value == "id"), "")
                    ids.append(found)

    def name(match: re.Match[str]) -> str:
        i = int(match.group(1))
        step_id = ids[i] if i < len(ids) else ""
        return f"step {i + 1}" + (f" ({step_id})" if step_id else "")

    return [Problem(p.line, _STEP_PATH.sub(name, p.path), _STEP_PATH.sub(name, p.message)) for p in problems]


def _id_problems(ident: str, index: int, seen: dict[str, int], section: str) -> list[str]:
    """A list item's id (a step, an FAQ entry, an entitlement): well-formed, and not already used by
    an earlier item of the same list (`seen` remembers them)."""
    found = []
    if not _STEP_ID.match(ident):
        found.append(f"must be lower-case letters, digits and _ (got {ident!r})")
    if ident in seen:
        found.append(f"{ident!r} is already used by {section}[{seen[ident]}]")
    seen.setdefault(ident, index)
    return found


def _cross_check(rules: Rules, problems: list[Problem], lines: dict[str, int] | None = None) -> None:
    lines = lines or {}
    seen: dict[str, int] = {}
    for i, step in enumerate(rules.steps):
        path = f"steps[{i}]"

        def bad(suffix: str, message: str, path: str = path, step_line: int = step.line) -> None:
            where = f"{path}.{suffix}"
            problems.append(Problem(_nearest_line(lines, where) or step_line, where, message))

        for message in _id_problems(step.id, i, seen, "steps"):
            bad("id", message)
        kind = KINDS[step.complete_by]  # the walker refused any other value
        for suffix, message in kind.problems(step, i, rules):
            bad(suffix, message)
        if step.questions and not kind.takes_form:
            bad("questions", "are only for form steps (complete_by: form)")
        if step.answer_pattern is not None:
            problem = _pattern_problem(step.answer_pattern)
            if problem:
                bad("answer_pattern", problem)
        for j, link in enumerate(step.links):
            if not link.url.startswith(("https://", "http://")):
                bad(f"links[{j}].url", f"must start with https:// (got {link.url!r})")
        if any(d <= 0 for d in step.remind_after_days):
            bad("remind_after_days", "must be positive numbers of days")
        if step.answer_check is not None:
            if not kind.takes_answer:
                bad("answer_check", "is only for answer steps (complete_by: answer)")
            elif (
                not step.answer_check.startswith(("https://", "http://"))
                or "{answer}" not in step.answer_check
            ):
                bad(
                    "answer_check",
                    f"must be an https:// address with {{answer}} in it (got {step.answer_check!r})",
                )
        if not 0 < step.answer_check_timeout_seconds <= _MAX_CHECK_SECONDS:
            bad("answer_check_timeout_seconds", f"must be more than 0 and at most {_MAX_CHECK_SECONDS}")
        if step.records_applied and kind.decided_by_reviewers:
            bad("records_applied", "is for steps the applicant finishes, not the lab's review")
    if not rules.steps:
        problems.append(Problem(0, "steps", "needs at least one step"))
    for name, profile in rules.documents.items():
        for j, rule in enumerate(profile.require.modules):
            problem = _pattern_problem(rule.pattern)
            if problem:
                where = f"documents.{name}.require.modules[{j}].pattern"
                problems.append(Problem(lines.get(where, 0), where, problem))
        if profile.max_bytes <= 0:
            problems.append(Problem(0, f"documents.{name}.max_bytes", "must be positive"))
    for where, keys in (("admins", rules.admins), ("reviewers.users", rules.reviewers.users)):
        for j, key in enumerate(keys):
            if not _USER_KEY.match(key):
                problems.append(Problem(0, f"{where}[{j}]", f"must look like platform:id (got {key!r})"))
    if rules.reviewers.approvals_required < 1:
        problems.append(Problem(0, "reviewers.approvals_required", "must be at least 1"))
    if rules.language not in rules.languages:
        problems.append(Problem(0, "language", f"must be one of languages ({', '.join(rules.languages)})"))
    _check_faq(rules, problems)
    _check_desk(rules, problems, lines)
    _check_entitlements(rules, problems, lines)
    _check_reasons(rules, problems, lines)
    _check_stages(rules, problems, lines)


def _reporter(
    problems: list[Problem], lines: dict[str, int], path: str, line: int
) -> Callable[[str, str], None]:
    """`bad(suffix, message)`: a problem at `path.suffix`, named at that value's own line when it is
    written in the file, else at the line of the item it belongs to."""

    def bad(suffix: str, message: str) -> None:
        where = f"{path}.{suffix}"
        problems.append(Problem(lines.get(where, 0) or line, where, message))

    return bad


def _check_reasons(rules: Rules, problems: list[Problem], lines: dict[str, int]) -> None:
    """Canned rejection and return reasons (issue 15): unique ids, every language, a known use."""
    seen: dict[str, int] = {}
    for i, reason in enumerate(rules.reasons):
        path = f"reasons[{i}]"

        bad = _reporter(problems, lines, path, reason.line)

        for message in _id_problems(reason.id, i, seen, "reasons"):
            bad("id", message)
        written = [lang for lang in rules.languages if reason.text.texts.get(lang, "").strip()]
        if rules.language not in written:
            bad("text", f"needs a {rules.language} text (the program's `language`: the applicant reads it)")
        for lang in rules.languages[:2]:  # both languages of a bilingual lab; more are a warning
            if lang != rules.language and lang not in written:
                bad("text", f"needs a {lang} text (the applicant reads it in their language)")
        if not reason.offered_for:
            bad("offered_for", "must list reject, return, or both")
        if len(reason.text.get(rules.language)) > 300:
            bad("text", "must be at most 300 characters (it is sent with the reviewer's note)")


def _nearest_line(lines: dict[str, int], where: str) -> int:
    """The line of `where`, else of the nearest enclosing value written in the file (a missing
    `steps[6].questions[1].options` is named at its question's line)."""
    while where:
        if where in lines:
            return lines[where]
        cut = max(where.rfind("."), where.rfind("["))
        where = where[:cut] if cut > 0 else ""
    return 0


def _check_faq(rules: Rules, problems: list[Problem]) -> None:
    """Ids, languages, and phrases that can be matched: each must find its own entry."""
    seen: dict[str, int] = {}
    entries = rules.faq_entries()
    lexicon = default_lexicon()  # read once for every phrase of the check
    for i, item in enumerate(rules.faq):
        path = f"faq[{i}]"

        def bad(suffix: str, message: str, path: str = path, line: int = item.line) -> None:
            problems.append(Problem(line, f"{path}.{suffix}", message))

        for message in _id_problems(item.id, i, seen, "faq"):
            bad("id", message)
        if not any(item.questions.values()):
            bad("questions", "needs at least one phrase")
        for lang, phrases in item.questions.items():
            if lang not in rules.languages:
                bad(f"questions.{lang}", f"is not one of languages ({', '.join(rules.languages)})")
            for j, phrase in enumerate(phrases):
                alone = match_faq(phrase, [entries[i]], lexicon)
                if alone is None:
                    bad(
                        f"questions.{lang}[{j}]",
                        f"{phrase!r} can never match: it needs a word about the topic,"
                        " not only everyday words",
                    )
                    continue
                found = match_faq(phrase, entries, lexicon)
                if found is None:
                    bad(f"questions.{lang}[{j}]", f"{phrase!r} matches another entry just as well")
                elif found.entry.id != item.id:
                    bad(f"questions.{lang}[{j}]", f"{phrase!r} is answered by faq {found.entry.id!r} instead")


def _check_desk(rules: Rules, problems: list[Problem], lines: dict[str, int]) -> None:
    """The digest, estimates and claims sections (issue 16)."""

    def bad(where: str, message: str) -> None:
        problems.append(Problem(lines.get(where, 0), where, message))

    if not 0 <= rules.digest.hour <= 23:
        bad("digest.hour", f"must be an hour from 0 to 23 (got {rules.digest.hour})")
    try:
        if rules.digest.timezone != "UTC":  # UTC needs no time zone database
            zoneinfo.ZoneInfo(rules.digest.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        bad("digest.timezone", f"is not a time zone this machine knows (got {rules.digest.timezone!r})")
    if rules.estimates.min_sample < 1:
        bad("estimates.min_sample", "must be at least 1")
    if rules.estimates.sample < rules.estimates.min_sample:
        bad("estimates.sample", f"must be at least min_sample ({rules.estimates.min_sample})")
    if rules.claims.stale_after_hours < 0:
        bad("claims.stale_after_hours", "must be 0 (never) or a positive number of hours")


_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,}$")
_DISCORD_ROLE = re.compile(r"^([0-9]{15,21}/)?[0-9]{15,21}$")
_LOOPBACK_URL = re.compile(r"^http://(127\.[0-9.]+|localhost)(:[0-9]+)?(/|$)")


def _check_entitlements(rules: Rules, problems: list[Problem], lines: dict[str, int]) -> None:
    """Entitlements and access duration (issue 15): every problem names its line."""
    seen: dict[str, int] = {}
    for i, ent in enumerate(rules.entitlements):
        path = f"entitlements[{i}]"

        bad = _reporter(problems, lines, path, ent.line)

        for message in _id_problems(ent.id, i, seen, "entitlements"):
            bad("id", message)
        if ent.kind == "webhook":
            if not (ent.url.startswith("https://") or _LOOPBACK_URL.match(ent.url)):
                bad("url", f"must be an https:// address (got {ent.url!r})")
            if not _ENV_NAME.match(ent.secret_env):
                bad(
                    "secret_env",
                    "must name the environment variable holding the secret, e.g. ACCESSBOT_WEBHOOK_SECRET"
                    f" (got {ent.secret_env!r})",
                )
            if not 0 < ent.timeout_seconds <= _MAX_CHECK_SECONDS:
                bad("timeout_seconds", f"must be more than 0 and at most {_MAX_CHECK_SECONDS}")
            continue
        if ent.url or ent.secret_env:
            bad("url" if ent.url else "secret_env", "is only for webhooks (kind: webhook)")
        if ent.kind == "slack_channel" and not _SLACK_CHANNEL.match(ent.target):
            bad("target", f"must be a Slack channel id like C0123ABCD (got {ent.target!r})")
        if ent.kind == "discord_role" and not _DISCORD_ROLE.match(ent.target):
            bad("target", f"must be a Discord role id, or GUILD_ID/ROLE_ID (got {ent.target!r})")
        if ent.kind == "console" and not ent.target.strip():
            bad("target", "must say what is granted, e.g. 'read access to /data/mimic-cxr'")
    access = rules.access
    if access.days < 0:
        problems.append(Problem(lines.get("access.days", 0), "access.days", "must be 0 (no limit) or more"))
    if access.remind_days_before < 0:
        where = "access.remind_days_before"
        problems.append(Problem(lines.get(where, 0), where, "must be 0 (never) or more"))
    if access.closeout_remind_days < 0:
        where = "access.closeout_remind_days"
        problems.append(Problem(lines.get(where, 0), where, "must be 0 (never ask again) or more"))
    if not access.closeout_where.get(rules.language).strip():
        where = "access.closeout_where"
        problems.append(
            Problem(lines.get(where, 0), where, "must say where the data may have been copied to")
        )


def _check_stages(rules: Rules, problems: list[Problem], lines: dict[str, int]) -> None:
    """Stages of approval (issue 15, bot/review/stages.py): every problem names its line."""
    seen: dict[str, int] = {}
    channel_stage = -1
    for i, stage in enumerate(rules.stages):
        path = f"stages[{i}]"

        bad = _reporter(problems, lines, path, stage.line)

        for message in _id_problems(stage.id, i, seen, "stages"):
            bad("id", message)
        missing = [lang for lang in rules.languages if not stage.title.texts.get(lang, "").strip()]
        if missing:
            bad("title", f"needs a title in every language of `languages` (missing: {', '.join(missing)})")
        for j, key in enumerate(stage.users):
            if not _USER_KEY.match(key):
                bad(f"users[{j}]", f"must look like platform:id (got {key!r})")
        for name, key in stage.names.items():
            if not _USER_KEY.match(key):
                bad(f"names.{name}", f"must look like platform:id (got {key!r})")
        if stage.names and stage.named_by is None:
            bad("names", "is only for a stage with named_by (the step whose answer names the reviewer)")
        if stage.named_by is not None:
            step = rules.step(stage.named_by)
            if step is None or not KINDS[step.complete_by].takes_answer:
                bad(
                    "named_by",
                    f"must be the id of an answer step (complete_by: answer), got {stage.named_by!r}",
                )
            if not stage.names:
                bad("names", "must map the answers of named_by to stable ids, e.g. {prof kim: 'slack:U0PI'}")
            if not stage.users and stage.role is None:
                bad("named_by", "needs `users` or `role` too: who reviews when the answer names nobody known")
        if stage.approvals_required < 1:
            bad("approvals_required", "must be at least 1")
        else:
            by_role = rules.admins if stage.role == "admins" else rules.reviewers.users
            if stage.role is None and (stage.users or stage.named_by is not None):
                by_role = ()
            most = len(set(stage.users) | set(by_role)) + (1 if stage.named_by is not None else 0)
            if stage.approvals_required > most:
                bad(
                    "approvals_required",
                    f"is {stage.approvals_required}, but the stage has at most {most} reviewer(s) to approve",
                )
        if stage.where == "channel":
            if channel_stage >= 0:
                bad(
                    "where",
                    f"only one stage can be in the reviewers channel (stages[{channel_stage}] is): a second"
                    " post there would take votes for the wrong stage; use `dm` for the other",
                )
            channel_stage = i


def _pattern_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)  # the patterns must mean the same in both engines
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return safe_regex.problem(pattern)


def missing_translations(rules: Rules) -> list[str]:
    """Texts lacking a language in `languages`: worth a warning, not a refusal."""
    out: list[str] = []
    for step in rules.steps:
        for name in ("title", "help", "ask", "answer_hint", "reminder"):
            text = getattr(step, name)
            if isinstance(text, LocalText):
                out.extend(
                    f"steps.{step.id}.{name} has no {lang} text"
                    for lang in rules.languages
                    if lang not in text.texts
                )
        for question in step.questions:
            texts = [(name, getattr(question, name)) for name in ("label", "help", "pattern_hint")]
            texts += [(f"options.{o.value}.label", o.label) for o in question.options]
            for name, text in texts:
                if isinstance(text, LocalText):
                    out.extend(
                        f"steps.{step.id}.questions.{question.id}.{name} has no {lang} text"
                        for lang in rules.languages
                        if lang not in text.texts
                    )
    out.extend(
        f"access.closeout_where has no {lang} text"
        for lang in rules.languages
        if lang not in rules.access.closeout_where.texts
    )
    for item in rules.faq:
        out.extend(
            f"faq.{item.id}.answer has no {lang} text"
            for lang in rules.languages
            if lang not in item.answer.texts
        )
        out.extend(
            f"faq.{item.id}.questions has no {lang} phrases"
            for lang in rules.languages
            if not item.questions.get(lang)
        )
    for reason in rules.reasons:
        out.extend(
            f"reasons.{reason.id}.text has no {lang} text"
            for lang in rules.languages
            if lang not in reason.text.texts
        )
    return out


@dataclass(frozen=True)
class RulesNotice:
    """What to tell the admins after a live reload: `ok`, or the errors (`text`, steps numbered as
    users see them)."""

    ok: bool
    text: str = ""


class RulesHolder:
    """The rules in force. A reload that fails keeps the last good rules and reports why."""

    def __init__(self, path: Path, rules: Rules | None = None) -> None:
        self.path = path
        self._told: str | None = None
        """The last broken file's errors the admins were told, so the same ones are told once."""
        self._lock = threading.Lock()
        self._rules = rules if rules is not None else load_rules(path)
        self._mtime = self._stat()

    @property
    def current(self) -> Rules:
        return self._rules

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def reload(self) -> RulesError | None:
        """Load the file again; on error keep the old rules and return the error."""
        with self._lock:
            self._mtime = self._stat()
            try:
                self._rules = load_rules(self.path)
            except RulesError as exc:
                log.error("rules reload failed; keeping the previous rules:\n%s", exc)
                return exc
            log.info("rules reloaded from %s", self.path)
            return None

    def reload_notice(self) -> RulesNotice | None:
        """Reload, and say what the admins should be told: once per distinct error, and that the
        rules are in force again after a broken file is fixed; None when there is nothing new."""
        error = self.reload()
        with self._lock:
            if error is None:
                self._told = None
                return RulesNotice(True)
            text = str(error)
            if text == self._told:
                return None
            self._told = text
            return RulesNotice(False, text)

    def changed_on_disk(self) -> bool:
        return self._stat() != self._mtime
