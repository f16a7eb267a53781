"""`accessbot health` (for the container's HEALTHCHECK) and `accessbot doctor` (what to fix, offline).

Both only read: they may run beside a live bot, so they never open a Store (which takes the folder lock,
chmods files, creates the audit salt and removes the temp files of a write in progress).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from bot.rules import Rules, RulesError, load_rules, missing_translations
from bot.settings import ENV_VARS, Settings
from bot.storage import DIR_MODE, FILE_MODE, AtomicJSONStorage, CorruptDatabase

Status = Literal["ok", "warn", "fail"]

# Shapes only, to catch a token pasted into the wrong variable, cut off, or wrapped in quotes.
_SLACK_BOT_TOKEN = re.compile(r"^xoxb-[0-9A-Za-z-]{20,}$")
_SLACK_APP_TOKEN = re.compile(r"^xapp-[0-9A-Za-z-]{20,}$")
_SLACK_SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")
_DISCORD_TOKEN = re.compile(r"^[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}$")
_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,}$")
# The example ids in the shipped rules.yaml: valid-looking, but nobody's channel.
_PLACEHOLDER_CHANNELS = {"slack": "C0REVIEWERS", "discord": "100000000000000001"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CHANNEL_HELP = {
    "slack": "the channel id (C… or G…, in the channel's About tab); invite the bot (/invite @accessbot)",
    "discord": "the channel id (Developer Mode on, right-click the channel, Copy Channel ID)",
    "console": "any name, e.g. reviewers",
}


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""
    warning: bool = False
    """ok, but worth a look: printed with `!` and its fix, not counted as a problem."""

    @property
    def status(self) -> Status:
        return "fail" if not self.ok else "warn" if self.warning else "ok"


def _warn(what: str, fix: str) -> Check:
    return Check(True, what, fix, warning=True)


# -- health ------------------------------------------------------------------------------------------


def health(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Exit 0 when the rules load and the data folder is readable and writable; 1 with the reason."""
    try:
        load_rules(settings.rules_path)
        if not settings.data_dir.is_dir():
            raise OSError(f"data folder {settings.data_dir} does not exist (is the volume mounted?)")
        for path in database_files(settings.data_dir):
            AtomicJSONStorage(str(path))  # parses the file, writes nothing
        _probe_write(settings.data_dir)
    except (RulesError, CorruptDatabase, OSError) as exc:
        err.write(f"unhealthy: {exc}\n")
        return 1
    out.write("ok\n")
    return 0


def database_files(data_dir: Path) -> list[Path]:
    """The TinyDB files in a data folder: applicant shards, reviews and events."""
    return sorted(p for p in data_dir.glob("*.json") if p.is_file())


def _probe_write(directory: Path) -> None:
    # Named like the store's temp files (.*.tmp), so a crash here leaves nothing a restart keeps.
    fd, name = tempfile.mkstemp(dir=directory, prefix=".health-", suffix=".tmp")
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):  # a bot starting now may already have removed it
        os.unlink(name)


# -- doctor ------------------------------------------------------------------------------------------


def doctor(settings: Settings, out: TextIO) -> int:
    """Print every check with what to fix; exit 0 when nothing needs fixing, 1 otherwise."""
    checks = list(run_checks(settings))
    marks = {"ok": "✓", "warn": "!", "fail": "✗"}
    for check in checks:
        out.write(f"{marks[check.status]} {check.what}\n")
        if check.status != "ok" and check.fix:
            out.write(f"    fix: {check.fix}\n")
    failed = sum(1 for c in checks if c.status == "fail")
    warned = sum(1 for c in checks if c.status == "warn")
    summary = f"{failed} problem(s) to fix" if failed else "all good"
    if warned:
        summary += f", {warned} warning(s)"
    out.write(f"\n{summary}\n")
    return 1 if failed else 0


def run_checks(settings: Settings) -> Iterator[Check]:
    yield from _check_settings(settings)
    rules_checks: list[Check] = []
    rules = _check_rules(settings, rules_checks)
    yield from rules_checks
    yield from _check_data_dir(settings.data_dir)
    chosen = settings.platform()
    yield Check(True, f"platform chosen by `accessbot run`: {chosen}")
    for platform in platforms_to_check(settings):
        yield from _check_tokens(settings, platform)
        if rules is not None:
            yield from _check_people(rules, platform, settings.rules_path)
    yield from _check_packages()


def platforms_to_check(settings: Settings) -> list[str]:
    """The platform `accessbot run` picks, plus any other whose variables are (partly) set."""
    platforms = [settings.platform()]
    if any((settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret)):
        platforms.append("slack")
    if settings.discord_token or settings.discord_guild_id:
        platforms.append("discord")
    return list(dict.fromkeys(platforms))


def _check_settings(settings: Settings) -> Iterator[Check]:
    relative = [str(p) for p in (settings.data_dir, settings.rules_path) if not p.is_absolute()]
    where = f"data folder: {settings.data_dir.absolute()}, rules: {settings.rules_path.absolute()}"
    yield Check(True, where + (" (relative to the working directory)" if relative else ""))
    if settings.log_format not in ("text", "json"):
        yield Check(
            False,
            f"{ENV_VARS['log_format']} is {settings.log_format!r}",
            f"set {ENV_VARS['log_format']}=text or json",
        )
    if settings.log_level not in _LOG_LEVELS:
        yield Check(
            False,
            f"{ENV_VARS['log_level']} is {settings.log_level!r} (INFO is used instead)",
            f"set {ENV_VARS['log_level']} to one of {', '.join(_LOG_LEVELS)}",
        )


def _check_rules(settings: Settings, checks: list[Check]) -> Rules | None:
    try:
        rules = load_rules(settings.rules_path)
    except RulesError as exc:
        checks.append(
            Check(
                False,
                f"rules: {settings.rules_path} is invalid:\n      " + str(exc).replace("\n", "\n      "),
                f"correct the lines named above (docs/rules.md), then: accessbot rules check "
                f"{settings.rules_path}; or point {ENV_VARS['rules_path']} at the right file",
            )
        )
        return None
    checks.append(
        Check(
            True,
            f"rules: {settings.rules_path} is valid ({len(rules.steps)} steps, "
            f"{len(rules.documents)} document profiles)",
        )
    )
    missing = missing_translations(rules)
    if missing:
        checks.append(
            _warn(
                f"rules: {len(missing)} text(s) lack a translation, e.g. {missing[0]}",
                "add the missing languages (accessbot rules check lists them all)",
            )
        )
    if rules.retention.keep_files:
        checks.append(
            _warn(
                "rules: retention.keep_files is on: uploaded files are kept in the data folder's files/",
                "treat backups as personal data (docs/privacy.md); turn it off unless you need the files",
            )
        )
    return rules


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _check_data_dir(path: Path) -> Iterator[Check]:
    if not path.exists():
        parent = path.resolve().parent
        if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
            yield Check(True, f"data folder {path} does not exist yet: it is created (0700) on first start")
        else:
            yield Check(
                False,
                f"data folder {path} does not exist and {parent} is not writable",
                f"mkdir -p {path} && chmod 700 {path} && chown <the user running accessbot> {path}",
            )
        return
    if not path.is_dir():
        yield Check(False, f"data folder {path} is not a folder", f"point {ENV_VARS['data_dir']} at a folder")
        return
    try:
        _probe_write(path)
        yield Check(True, f"data folder {path} is writable by uid {os.geteuid()}")
    except OSError as exc:
        owner = path.stat().st_uid
        yield Check(
            False,
            f"data folder {path} is not writable by uid {os.geteuid()}"
            f" ({exc.strerror}; it belongs to uid {owner})",
            f"chown -R {os.geteuid()} {path}   (in Docker the image's user is uid 10001)",
        )
    mode = _mode(path)
    yield Check(
        mode & ~DIR_MODE == 0,
        f"data folder permissions {mode:03o}" + ("" if mode & ~DIR_MODE == 0 else " (others can read it)"),
        f"chmod 700 {path}",
    )
    yield from _check_file_modes(path)
    yield from _check_database(path)


def _check_file_modes(path: Path) -> Iterator[Check]:
    loose = [f for f in sorted(path.iterdir()) if f.is_file() and _mode(f) & ~FILE_MODE]
    files = path / "files"
    if files.is_dir():
        if _mode(files) & ~DIR_MODE:
            yield Check(False, f"{files} permissions {_mode(files):03o}", f"chmod 700 {files}")
        loose += [f for f in sorted(files.iterdir()) if f.is_file() and _mode(f) & ~FILE_MODE]
    if loose:
        listed = ", ".join(f"{f.name} {_mode(f):03o}" for f in loose[:5]) + (" …" if len(loose) > 5 else "")
        yield Check(
            False,
            f"{len(loose)} data file(s) readable by others: {listed}",
            f"chmod 600 {path}/* (and {files}/* if present); accessbot creates them 0600",
        )


def _check_database(path: Path) -> Iterator[Check]:
    damaged = False
    names = database_files(path)
    for file in names:
        try:
            AtomicJSONStorage(str(file))
        except CorruptDatabase as exc:
            damaged = True
            yield Check(
                False,
                f"database file damaged: {exc}",
                f"stop accessbot, restore {file} from a backup (docs/deploy.md), or move it aside",
            )
        except OSError as exc:
            damaged = True
            yield Check(False, f"{file} cannot be read ({exc.strerror})", f"chown -R {os.geteuid()} {path}")
    if not damaged:
        yield Check(True, f"database files are readable ({len(names)} found)")
    if names and not (path / "audit.salt").exists():
        yield _warn(
            f"{path}/audit.salt is missing: new audit entries will use different pseudonyms",
            "restore audit.salt from the backup it came with",
        )


# -- platforms ---------------------------------------------------------------------------------------


def _token_check(
    name: str, value: str, pattern: re.Pattern[str], fix: str, why: Callable[[str], str] | None = None
) -> Check:
    if not value:
        return Check(False, f"{name} is not set", fix)
    if value[0] in "'\"" or value[-1] in "'\"":
        return Check(
            False,
            f"{name} is wrapped in quotes",
            f"remove the quotes: docker --env-file keeps them as part of the value ({fix})",
        )
    if pattern.match(value):
        return Check(True, f"{name} is well-formed")
    if value.lower().startswith("bot "):
        return Check(
            False, f"{name} is malformed: it starts with `Bot `", f"remove the `Bot ` prefix ({fix})"
        )
    if any(c.isspace() for c in value):
        return Check(False, f"{name} contains a space or line break", f"paste it again on one line ({fix})")
    reason = why(value) if why else ""
    return Check(False, f"{name} is malformed{': ' + reason if reason else ''}", fix)


def _slack_prefix(expected: str) -> Callable[[str], str]:
    kinds = {"xoxb-": "a bot token", "xoxp-": "a user token", "xapp-": "an app-level token"}

    def why(value: str) -> str:
        for prefix, kind in kinds.items():
            if value.startswith(prefix) and prefix != expected:
                return f"it is {kind} ({prefix}…), not the {expected}… token"
        if not value.startswith(expected):
            return f"it must start with {expected}"
        return f"{len(value)} characters, expected about 50 (cut off?)"

    return why


def _check_tokens(settings: Settings, platform: str) -> Iterator[Check]:
    if platform == "slack":
        yield _token_check(
            "SLACK_BOT_TOKEN",
            settings.slack_bot_token,
            _SLACK_BOT_TOKEN,
            "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions (docs/slack.md)",
            _slack_prefix("xoxb-"),
        )
        if settings.slack_signing_secret:
            yield _token_check(
                "SLACK_SIGNING_SECRET",
                settings.slack_signing_secret,
                _SLACK_SIGNING_SECRET,
                "copy the Signing Secret (32 hex characters) from Basic Information → App Credentials",
                lambda v: "it holds a token" if v.startswith(("xox", "xapp-")) else "not 32 hex characters",
            )
        if settings.slack_app_token or not settings.slack_signing_secret:
            yield _token_check(
                "SLACK_APP_TOKEN",
                settings.slack_app_token,
                _SLACK_APP_TOKEN,
                "Basic Information → App-Level Tokens: generate one with connections:write (xapp-…)"
                " for Socket Mode, or set SLACK_SIGNING_SECRET and run with --http",
                _slack_prefix("xapp-"),
            )
        else:
            yield _warn(
                "Slack HTTP mode only (SLACK_SIGNING_SECRET set, no SLACK_APP_TOKEN)",
                "start with `accessbot run slack --http --port 3000` (`accessbot run` alone uses Socket"
                " Mode); in Docker: docker run … accessbot run slack --http",
            )
    elif platform == "discord":
        yield _token_check(
            "DISCORD_TOKEN",
            settings.discord_token,
            _DISCORD_TOKEN,
            "copy the bot token from the Developer Portal (Bot → Reset Token), without a `Bot ` prefix",
            lambda v: (
                "remove the `Bot ` prefix"
                if v.lower().startswith("bot ")
                else "not three dot-separated parts"
            ),
        )
        guild = settings.discord_guild_id
        if guild and not _SNOWFLAKE.match(guild):
            yield Check(
                False,
                f"DISCORD_GUILD_ID is {guild!r}, not a server id",
                "Developer Mode on, right-click the server, Copy Server ID (digits only); or leave it empty",
            )
        elif not guild:
            yield _warn(
                "DISCORD_GUILD_ID is not set: /status and /help are registered globally only",
                "set it to the lab server's id so the commands appear there at once (docs/discord.md)",
            )


def _check_people(rules: Rules, platform: str, rules_path: Path) -> Iterator[Check]:
    channel = rules.reviewers.channel.get(platform, "")
    fix = f"set reviewers.channel.{platform} in {rules_path} to {_CHANNEL_HELP.get(platform, 'its id')}"
    if not channel:
        yield Check(False, f"reviewers channel for {platform}: not set", fix)
    elif platform == "slack" and not _SLACK_CHANNEL.match(channel):
        yield Check(False, f"reviewers channel for slack: {channel!r} is not a channel id", fix)
    elif platform == "discord" and not _SNOWFLAKE.match(channel):
        yield Check(False, f"reviewers channel for discord: {channel!r} is not a channel id", fix)
    elif _PLACEHOLDER_CHANNELS.get(platform) == channel:
        yield Check(False, f"reviewers channel for {platform}: {channel} is the example from rules.yaml", fix)
    else:
        yield Check(True, f"reviewers channel for {platform}: {channel}")
    reviewers = [u for u in rules.reviewers.users if u.startswith(platform + ":")]
    needed = rules.reviewers.approvals_required
    yield Check(
        len(reviewers) >= needed,
        f"{len(reviewers)} reviewer(s) on {platform}, {needed} approval(s) needed",
        f"add {platform}:<user id> entries to reviewers.users in {rules_path}"
        f" (or lower reviewers.approvals_required)",
    )
    admins = [u for u in rules.admins if u.startswith(platform + ":")]
    yield Check(
        bool(admins),
        f"{len(admins)} admin(s) on {platform}",
        f"add {platform}:<user id> to admins in {rules_path}",
    )


def _check_packages() -> Iterator[Check]:
    try:
        version = importlib.metadata.version("pypdf")
    except importlib.metadata.PackageNotFoundError:
        yield Check(False, "pypdf is missing", "pip install 'pypdf>=6.4' (or reinstall accessbot)")
    else:
        major = int(version.split(".")[0])
        yield Check(
            major >= 6,
            f"pypdf {version}",
            "pip install -U pypdf (security fixes land only in the newest)",
        )
    try:
        importlib.metadata.version("cryptography")
        yield Check(True, "cryptography installed (encrypted PDFs are recognised)")
    except importlib.metadata.PackageNotFoundError:
        yield Check(False, "cryptography missing", "pip install cryptography")
