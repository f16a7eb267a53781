"""The `accessbot` command. Library code never exits the process: everything returns an exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__, adapters
from bot.logs import setup_logging
from bot.platform import ServeOptions
from bot.rules_loader import RulesError, load_rules, missing_translations
from bot.settings import Settings, SettingsError

log = logging.getLogger("accessbot")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accessbot", description="Guides lab members to MIMIC-CXR access.")
    parser.add_argument("--version", action="version", version=f"accessbot {__version__}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the bot (Slack, Discord or the console, from the environment)")
    run.add_argument("platform", nargs="?", choices=adapters.names())
    run.add_argument("--http", action="store_true", help="Slack: HTTP mode (needs SLACK_SIGNING_SECRET)")
    run.add_argument("--port", type=int, default=3000, help="Slack HTTP mode port (default 3000)")
    run.add_argument("--as", dest="user", default="alice", help="console: the first user (default alice)")
    console = sub.add_parser("console", help="the bot in this terminal (same as: run console)")
    console.add_argument("--as", dest="user", default="alice")
    sub.add_parser("check", help="check a document by hand: accessbot check FILE --help", add_help=False)
    rules = sub.add_parser("rules", help="rules.yaml tools")
    rules_sub = rules.add_subparsers(dest="rules_command")
    check = rules_sub.add_parser("check", help="validate rules.yaml (exit 0 valid, 1 invalid)")
    check.add_argument("path", nargs="?", type=Path)
    diff = rules_sub.add_parser(
        "diff", help="who a change from OLD to NEW would affect (reads the data folder)"
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    admin = sub.add_parser("admin", help="admin commands on the data folder")
    admin.add_argument(
        "action",
        choices=[
            "pending",
            "show",
            "export",
            "forget",
            "stats",
            "reset",
            "audit",
            "repair",
            "revoke",
            "block",
            "unblock",
            "closeout",
        ],
    )
    admin.add_argument("args", nargs="*")
    admin.add_argument(
        "--new-salt", action="store_true", help="repair: make a new audit.salt when it is lost for good"
    )
    admin.add_argument("--plot", type=Path, metavar="PNG", help="stats: also draw the chart to this PNG file")
    admin.add_argument("--xlsx", type=Path, metavar="FILE", help="export: write an .xlsx workbook (openpyxl)")
    admin.add_argument(
        "--lang", default="", help="stats, export: the language of titles (default: rules.yaml's)"
    )
    sub.add_parser("health", help="exit 0 when the data folder and rules are usable (for HEALTHCHECK)")
    sub.add_parser("doctor", help="check the configuration offline and say what to fix")
    _init_parser(sub.add_parser("init", help="set up Slack or Discord: tokens, channel, people, .env, rules"))
    return parser


def _init_parser(init: argparse.ArgumentParser) -> None:
    init.description = (
        "Asks every question with a default (Enter takes it). With --yes it asks nothing: each answer"
        " comes from its flag, the environment (SLACK_BOT_TOKEN, ...) or the existing .env and rules.yaml."
    )
    init.add_argument("--platform", choices=["slack", "discord"])
    init.add_argument("--yes", "-y", action="store_true", help="take every default; read no input")
    init.add_argument("--dir", type=Path, default=Path(), help="where .env and rules.yaml go (default: here)")
    init.add_argument("--rules", type=Path, help="the rules.yaml to write (default: DIR/rules.yaml)")
    init.add_argument("--channel", help="the reviewers channel, by name (or id)")
    init.add_argument("--create-channel", metavar="NAME", help="Slack: create this private reviewers channel")
    init.add_argument("--reviewers", help="@names or e-mails, separated by commas")
    init.add_argument("--admins", help="@names or e-mails, separated by commas")
    init.add_argument("--form-url", help="the lab's usage-authorization form")
    init.add_argument("--contact", help="who applicants contact with questions")
    init.add_argument("--slack-mode", choices=["socket", "http"])
    for name in ("slack-bot-token", "slack-app-token", "slack-signing-secret", "discord-token"):
        init.add_argument(f"--{name}", help="better: set it in the environment (flags show in ps)")
    init.add_argument("--guild", help="Discord: the lab's server, by name or id")
    init.add_argument("--no-doctor", action="store_true", help="do not run doctor at the end")
    for platform in ("slack", "discord"):
        init.add_argument(f"--{platform}-api-url", help=argparse.SUPPRESS)  # tests: a fake API on loopback


_INIT_ANSWERS = (
    "channel", "create_channel", "reviewers", "admins", "form_url", "contact", "slack_mode",
    "slack_bot_token", "slack_app_token", "slack_signing_secret", "discord_token", "guild",
)  # fmt: skip


def init_command(args: argparse.Namespace) -> int:
    from bot.setup.wizard import InitOptions, init

    options = InitOptions(
        folder=args.dir,
        platform=args.platform or "",
        yes=args.yes,
        rules=args.rules,
        answers={name: getattr(args, name) for name in _INIT_ANSWERS if getattr(args, name)},
        api_urls={
            p: getattr(args, f"{p}_api_url") for p in ("slack", "discord") if getattr(args, f"{p}_api_url")
        },
        doctor=not args.no_doctor,
    )
    return init(options, sys.stdin, sys.stdout, sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["check"]:
        from bot.documents.check_cli import main as check_main

        code: int = check_main(args_list[1:])
        return code
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse's way of saying "usage"; turn it into a return code
        return int(exc.code or 0) and EXIT_USAGE
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"accessbot: {exc}\n")
        return EXIT_USAGE
    setup_logging(settings.log_format, settings.log_level)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "rules":
        if args.rules_command == "diff":
            return rules_diff(settings, args.old, args.new, sys.stdout, sys.stderr)
        if args.rules_command != "check":
            parser.parse_args(["rules", "--help"])
            return EXIT_USAGE
        return rules_check(args.path or settings.rules_path, sys.stdout, sys.stderr)
    if args.command in ("run", "console"):
        chosen = adapters.chosen(settings.env)
        platform = "console" if args.command == "console" else (args.platform or chosen)
        return run(
            settings,
            platform,
            user=args.user,
            http=getattr(args, "http", False),
            port=args.port if args.command == "run" else 3000,
            named=args.command == "console" or args.platform is not None,
        )
    if args.command == "admin":
        from bot.admin_cli import ReadOptions, admin_command

        extra = ["--new-salt"] if args.new_salt else []
        options = ReadOptions(plot=args.plot, xlsx=args.xlsx, lang=args.lang)
        return admin_command(settings, args.action, [*args.args, *extra], sys.stdout, sys.stderr, options)
    if args.command == "health":
        from bot.doctor import health

        return health(settings, sys.stdout, sys.stderr)
    if args.command == "init":
        return init_command(args)
    if args.command == "doctor":
        from bot.doctor import doctor

        return doctor(settings, sys.stdout)
    return EXIT_USAGE


def rules_check(path: Path, out: TextIO, err: TextIO) -> int:
    try:
        rules = load_rules(path)
    except RulesError as exc:
        err.write(f"{exc}\n")
        return EXIT_FAIL
    for warning in missing_translations(rules):
        err.write(f"{path}: warning: {warning}\n")
    out.write(f"{path}: OK ({len(rules.steps)} steps, {len(rules.documents)} document profiles)\n")
    return EXIT_OK


def rules_diff(settings: Settings, old_path: Path, new_path: Path, out: TextIO, err: TextIO) -> int:
    """`accessbot rules diff OLD NEW`: the data folder is opened read-only, safe beside a live bot."""
    from bot.integrity import DataFolderDamaged
    from bot.rules_diff import summarise_diff
    from bot.storage import CorruptDatabase
    from bot.store import Store

    try:
        old, new = load_rules(old_path), load_rules(new_path)
    except RulesError as exc:
        err.write(f"{exc}\n")
        return EXIT_FAIL
    out.write(f"rules diff {old_path} → {new_path}, on {settings.data_dir}\n")
    if not settings.data_dir.is_dir():
        out.write(f"(no data folder at {settings.data_dir}: nobody to affect yet)\n")
        return EXIT_OK
    try:
        with Store(settings.data_dir, exclusive=False) as store:
            out.write(summarise_diff(old, new, store) + "\n")
    except (CorruptDatabase, DataFolderDamaged) as exc:
        err.write(f"{exc}\n")
        return EXIT_FAIL
    return EXIT_OK


def run(
    settings: Settings,
    platform: str,
    *,
    user: str = "alice",
    http: bool = False,
    port: int = 3000,
    named: bool = True,
) -> int:
    from bot.runtime import run as run_platform

    options = ServeOptions(
        http=http, port=port, user=user, rules_path=settings.rules_path, data_dir=settings.data_dir
    )
    interactive = _isatty(sys.stdin)
    return run_platform(settings, platform, options, err=sys.stderr, named=named, interactive=interactive)


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed
        return False


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
