"""`accessbot check FILE`: run the document checks on a file by hand, as the bot would.

For admins tuning rules.yaml and for applicants' odd files forwarded by a reviewer. Exit codes:
0 accepted or needs a reviewer's look (the step would complete), 1 rejected, 2 usage error (missing
file, unknown profile, broken rules).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from bot.documents.findings import Finding
from bot.documents.validator import Validator, Verdict, render_problem
from bot.i18n import Translator
from bot.rules import Rules
from bot.rules_loader import RulesError, load_rules
from bot.step_kinds import kind_of

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports instead of exiting, so main() returns a code."""

    def error(self, message: str) -> Any:  # argparse's own signature returns NoReturn
        raise _UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(prog="accessbot check", description="Check a document as the bot would.")
    parser.add_argument("file", type=Path, help="the PDF or image to check")
    parser.add_argument(
        "--rules", type=Path, default=Path("rules.yaml"), help="rules file (default: rules.yaml)"
    )
    parser.add_argument("--profile", help="document profile name (default: the first document step's)")
    parser.add_argument("--name", action="append", default=[], help="the applicant's name (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="message language")
    return parser


def default_profile(rules: Rules) -> str | None:
    """The profile of the first `complete_by: document` step."""
    step = next((s for s in rules.steps if kind_of(s).takes_document and s.document), None)
    if step is not None:
        return step.document
    return next(iter(rules.documents), None)


def main(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run `accessbot check`; argv is what follows `check` (a leading "check" is tolerated)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args_list = list(argv)
    if len(args_list) > 1 and args_list[0] == "check" and not Path("check").exists():
        args_list = args_list[1:]
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except _UsageError as exc:
        print(f"accessbot check: {exc}", file=err)
        print(parser.format_usage().rstrip(), file=err)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return EXIT_ACCEPTED if exc.code in (0, None) else EXIT_USAGE
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(f"accessbot check: the rules cannot be used:\n{exc}", file=err)
        return EXIT_USAGE
    name = args.profile or default_profile(rules)
    if name is None or name not in rules.documents:
        known = ", ".join(sorted(rules.documents)) or "none"
        print(f"accessbot check: unknown document profile {name!r} (profiles: {known})", file=err)
        return EXIT_USAGE
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"accessbot check: cannot read {args.file}: {exc.strerror or exc}", file=err)
        return EXIT_USAGE
    with Validator() as validator:
        verdict = validator.validate(
            data,
            filename=args.file.name,
            content_type=None,
            profile=rules.documents[name],
            applicant_names=args.name,
            today=date.today(),
        )
    translator = Translator()
    if args.json:
        print(json.dumps(as_json(verdict, translator, args.lang), ensure_ascii=False, indent=2), file=out)
    else:
        print_human(verdict, translator, args.lang, name, out)
    return EXIT_ACCEPTED if verdict.accepted else EXIT_REJECTED


def _messages(findings: Sequence[Finding], translator: Translator, lang: str) -> list[dict[str, str]]:
    return [{"code": f.code, "message": render_problem(translator, lang, f)} for f in findings]


def as_json(verdict: Verdict, translator: Translator, lang: str) -> dict[str, Any]:
    return {
        "accepted": verdict.accepted,
        "outcome": verdict.outcome,
        "unread_fields": list(verdict.unread_fields),
        "kind": verdict.kind,
        "fields": dict(verdict.fields),
        "problems": _messages(verdict.problems, translator, lang),
        "warnings": _messages(verdict.warnings, translator, lang),
    }


def print_human(verdict: Verdict, translator: Translator, lang: str, profile: str, out: TextIO) -> None:
    print(f"profile: {profile}", file=out)
    print(f"kind:    {verdict.kind}", file=out)
    print(f"sha256:  {verdict.sha256 or '-'}", file=out)
    if verdict.fields:
        print("fields:", file=out)
        for key, value in verdict.fields.items():
            if key == "modules":
                print(f"  modules ({len(value or [])}):", file=out)
                for title in value or []:
                    print(f"    - {title}", file=out)
            else:
                print(f"  {key}: {'-' if value is None else value}", file=out)
    for label, findings in (("problem", verdict.problems), ("warning", verdict.warnings)):
        for finding in findings:
            print(f"{label} [{finding.code}]: {render_problem(translator, lang, finding)}", file=out)
    if verdict.unread_fields:
        print(f"could not be read: {', '.join(verdict.unread_fields)}", file=out)
    if verdict.needs_manual_check:
        print("a reviewer must look at this file", file=out)
    print(
        {"accepted": "ACCEPTED", "needs_review": "NEEDS A REVIEWER'S LOOK"}.get(verdict.outcome, "REJECTED"),
        file=out,
    )
