"""`accessbot health` (for the container's HEALTHCHECK) and `accessbot doctor` (what to fix, offline)."""

from __future__ import annotations

import importlib.metadata
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from bot.rules import Rules, RulesError, load_rules
from bot.settings import Settings
from bot.storage import FILE_MODE, CorruptDatabase
from bot.store import Store

_DISCORD_TOKEN = re.compile(r"^[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}$")
DATA_FILES = ("applicants.json", "reviews.json", "events.json", "audit.jsonl", "audit.salt")


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""


def health(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Exit 0 when the rules load and the data folder is readable and writable."""
    try:
        load_rules(settings.rules_path)
        with Store(settings.data_dir, exclusive=False):
            pass
        _probe_write(settings)
    except (RulesError, CorruptDatabase, OSError) as exc:
        err.write(f"unhealthy: {exc}\n")
        return 1
    out.write("ok\n")
    return 0


def _probe_write(settings: Settings) -> None:
    with tempfile.NamedTemporaryFile(dir=settings.data_dir, prefix=".health-", suffix=".tmp"):
        pass


def doctor(settings: Settings, out: TextIO) -> int:
    checks: list[Check] = []
    rules = _check_rules(settings, checks)
    _check_data_dir(settings, checks)
    platform = settings.platform()
    checks.append(Check(True, f"platform chosen by `accessbot run`: {platform}"))
    _check_tokens(settings, platform, checks)
    if rules is not None:
        _check_people(rules, platform, checks)
    _check_packages(checks)
    for check in checks:
        out.write(f"{'✓' if check.ok else '✗'} {check.what}\n")
        if not check.ok and check.fix:
            out.write(f"    fix: {check.fix}\n")
    failed = sum(1 for c in checks if not c.ok)
    out.write(f"\n{'all good' if not failed else f'{failed} problem(s) to fix'}\n")
    return 1 if failed else 0


def _check_rules(settings: Settings, checks: list[Check]) -> Rules | None:
    try:
        rules = load_rules(settings.rules_path)
    except RulesError as exc:
        checks.append(Check(False, f"rules: {settings.rules_path} is invalid", str(exc)))
        return None
    checks.append(Check(True, f"rules: {settings.rules_path} is valid ({len(rules.steps)} steps)"))
    return rules


def _check_data_dir(settings: Settings, checks: list[Check]) -> None:
    path = settings.data_dir
    if not path.exists():
        checks.append(Check(True, f"data folder {path} will be created on first start"))
        return
    try:
        _probe_write(settings)
        checks.append(Check(True, f"data folder {path} is writable"))
    except OSError as exc:
        checks.append(
            Check(
                False,
                f"data folder {path} is not writable ({exc.strerror})",
                "chown it to the user running accessbot",
            )
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    checks.append(Check(mode & 0o077 == 0, f"data folder permissions {mode:o}", f"chmod 700 {path}"))
    for name in DATA_FILES:
        file = path / name
        if file.exists():
            fmode = stat.S_IMODE(file.stat().st_mode)
            if fmode & ~FILE_MODE:
                checks.append(Check(False, f"{file} permissions {fmode:o}", f"chmod 600 {file}"))
    try:
        with Store(path, exclusive=False):
            pass
        checks.append(Check(True, "database files are readable"))
    except CorruptDatabase as exc:
        checks.append(Check(False, "database is damaged", str(exc)))


def _token_check(name: str, value: str, valid: Callable[[str], bool], fix: str) -> Check:
    if not value:
        return Check(False, f"{name} is not set", fix)
    return Check(valid(value), f"{name} is {'well-formed' if valid(value) else 'malformed'}", fix)


def _check_tokens(settings: Settings, platform: str, checks: list[Check]) -> None:
    if platform == "slack":
        checks.append(
            _token_check(
                "SLACK_BOT_TOKEN",
                settings.slack_bot_token,
                lambda v: v.startswith("xoxb-"),
                "copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions",
            )
        )
        if settings.slack_signing_secret and not settings.slack_app_token:
            checks.append(Check(True, "Slack HTTP mode (SLACK_SIGNING_SECRET set)"))
        else:
            checks.append(
                _token_check(
                    "SLACK_APP_TOKEN",
                    settings.slack_app_token,
                    lambda v: v.startswith("xapp-"),
                    "create an app-level token with connections:write (Basic Information) for Socket Mode",
                )
            )
    elif platform == "discord":
        checks.append(
            _token_check(
                "DISCORD_TOKEN",
                settings.discord_token,
                lambda v: bool(_DISCORD_TOKEN.match(v)),
                "copy the bot token from the Developer Portal (Bot → Reset Token)",
            )
        )


def _check_people(rules: Rules, platform: str, checks: list[Check]) -> None:
    channel = rules.reviewers.channel.get(platform)
    checks.append(
        Check(
            bool(channel),
            f"reviewers channel for {platform}: {channel or 'not set'}",
            f"set reviewers.channel.{platform} in rules.yaml",
        )
    )
    reviewers = [u for u in rules.reviewers.users if u.startswith(platform + ":")]
    checks.append(
        Check(
            len(reviewers) >= rules.reviewers.approvals_required,
            f"{len(reviewers)} reviewer(s) on {platform},"
            f" {rules.reviewers.approvals_required} approval(s) needed",
            f"add {platform}:<user id> entries to reviewers.users in rules.yaml",
        )
    )
    admins = [u for u in rules.admins if u.startswith(platform + ":")]
    checks.append(
        Check(
            bool(admins),
            f"{len(admins)} admin(s) on {platform}",
            f"add {platform}:<user id> to admins in rules.yaml",
        )
    )


def _check_packages(checks: list[Check]) -> None:
    version = importlib.metadata.version("pypdf")
    major = int(version.split(".")[0])
    checks.append(
        Check(major >= 6, f"pypdf {version}", "pip install -U pypdf (security fixes land only in the newest)")
    )
    try:
        importlib.metadata.version("cryptography")
        checks.append(Check(True, "cryptography installed (encrypted PDFs are recognised)"))
    except importlib.metadata.PackageNotFoundError:
        checks.append(Check(False, "cryptography missing", "pip install cryptography"))
