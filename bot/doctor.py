"""`accessbot health` (for the container's HEALTHCHECK) and `accessbot doctor` (what to fix, offline).

Both only read: they may run beside a live bot, so they never open a Store (which takes the folder lock,
chmods files, creates the audit salt and removes the temp files of a write in progress).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot import adapters, heartbeat, integrity
from bot.platform import Check, Environment, Platform, ServeOptions
from bot.rules import Rules
from bot.rules_loader import RulesError, load_rules, missing_translations
from bot.settings import ENV_VARS, FROM_ENVIRONMENT, Settings
from bot.storage import DIR_MODE, FILE_MODE, AtomicJSONStorage, CorruptDatabase

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _check(ok: bool, what: str, fix: str = "") -> Check:
    return Check("ok" if ok else "fail", what, fix)


# -- health ------------------------------------------------------------------------------------------


def health(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Exit 0 when the rules load and the data folder is usable; 1 with the reason.

    With a heartbeat (the live bot writes one, bot/heartbeat.py) only its age is read: fresh is
    healthy, stale is not. Without one (a bot that does not beat yet), the files are checked."""
    try:
        load_rules(settings.rules_path)
        if not settings.data_dir.is_dir():
            raise OSError(f"data folder {settings.data_dir} does not exist (is the volume mounted?)")
        beat_age = heartbeat.age(settings.data_dir)
        if beat_age is not None:
            if beat_age > heartbeat.STALE_AFTER_S:
                raise OSError(
                    f"the bot's heartbeat is {beat_age:.0f} s old (its loop is stuck or it stopped)"
                )
            out.write("ok\n")
            return 0
        for path in database_files(settings.data_dir):
            AtomicJSONStorage(str(path))  # parses the file, writes nothing
        _probe_write(settings.data_dir)
    except (RulesError, CorruptDatabase, OSError) as exc:
        err.write(f"unhealthy: {exc}\n")
        return 1
    out.write("ok\n")
    return 0


def database_files(data_dir: Path) -> list[Path]:
    """The TinyDB files of a data folder that exist: applicant shards and reviews."""
    return [data_dir / name for name in integrity.table_files(data_dir) if (data_dir / name).exists()]


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
    yield Check.good(f"platform chosen by `accessbot run`: {adapters.chosen(settings.env)}")
    for platform in platforms_to_check(settings.env):
        yield from platform.checks(settings.env, rules, ServeOptions(rules_path=settings.rules_path))
    yield from _check_packages()


def _check_settings(settings: Settings) -> Iterator[Check]:
    relative = [str(p) for p in (settings.data_dir, settings.rules_path) if not p.is_absolute()]
    where = f"data folder: {settings.data_dir.absolute()}, rules: {settings.rules_path.absolute()}"
    yield Check.good(where + (" (relative to the working directory)" if relative else ""))
    yield from _check_sources(settings)
    if settings.log_format not in ("text", "json"):
        yield _check(
            False,
            f"{ENV_VARS['log_format']} is {settings.log_format!r}",
            f"set {ENV_VARS['log_format']}=text or json",
        )
    if settings.log_level not in _LOG_LEVELS:
        yield _check(
            False,
            f"{ENV_VARS['log_level']} is {settings.log_level!r} (INFO is used instead)",
            f"set {ENV_VARS['log_level']} to one of {', '.join(_LOG_LEVELS)}",
        )


def _check_sources(settings: Settings) -> Iterator[Check]:
    """Which file each setting came from: the environment, or the env file (and that file's mode)."""
    known = all_variables()
    by_source: dict[str, list[str]] = {}
    for name, source in settings.sources.items():
        if name in known:
            by_source.setdefault(source, []).append(name)
    env_file = settings.env_file
    if env_file is not None and not env_file.is_file():
        yield Check.good(f"no env file at {env_file.absolute()}: settings come from the environment only")
    for source, names in sorted(by_source.items(), key=lambda item: item[0] != FROM_ENVIRONMENT):
        origin = "the environment" if source == FROM_ENVIRONMENT else str(Path(source).absolute())
        yield Check.good(f"settings from {origin}: {', '.join(sorted(names))}")
    if env_file is not None and env_file.is_file():
        mode = _mode(env_file)
        if mode & 0o077:
            yield Check.warn(
                f"{env_file} permissions {mode:03o}: others can read its tokens", f"chmod 600 {env_file}"
            )
    elif not by_source:
        yield Check.good("no accessbot variable is set: every setting has its default")


def _check_rules(settings: Settings, checks: list[Check]) -> Rules | None:
    try:
        rules = load_rules(settings.rules_path)
    except RulesError as exc:
        checks.append(
            _check(
                False,
                f"rules: {settings.rules_path} is invalid:\n      " + str(exc).replace("\n", "\n      "),
                f"correct the lines named above (docs/rules.md), then: accessbot rules check "
                f"{settings.rules_path}; or point {ENV_VARS['rules_path']} at the right file",
            )
        )
        return None
    checks.append(
        _check(
            True,
            f"rules: {settings.rules_path} is valid ({len(rules.steps)} steps, "
            f"{len(rules.documents)} document profiles)",
        )
    )
    missing = missing_translations(rules)
    if missing:
        checks.append(
            Check.warn(
                f"rules: {len(missing)} text(s) lack a translation, e.g. {missing[0]}",
                "add the missing languages (accessbot rules check lists them all)",
            )
        )
    if rules.retention.keep_files:
        checks.append(
            Check.warn(
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
            yield Check.good(f"data folder {path} does not exist yet: it is created (0700) on first start")
        else:
            yield _check(
                False,
                f"data folder {path} does not exist and {parent} is not writable",
                f"mkdir -p {path} && chmod 700 {path} && chown <the user running accessbot> {path}",
            )
        return
    if not path.is_dir():
        yield _check(
            False, f"data folder {path} is not a folder", f"point {ENV_VARS['data_dir']} at a folder"
        )
        return
    try:
        _probe_write(path)
        yield Check.good(f"data folder {path} is writable by uid {os.geteuid()}")
    except OSError as exc:
        owner = path.stat().st_uid
        yield _check(
            False,
            f"data folder {path} is not writable by uid {os.geteuid()}"
            f" ({exc.strerror}; it belongs to uid {owner})",
            f"chown -R {os.geteuid()} {path}   (in Docker the image's user is uid 10001)",
        )
    mode = _mode(path)
    yield _check(
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
            yield _check(False, f"{files} permissions {_mode(files):03o}", f"chmod 700 {files}")
        loose += [f for f in sorted(files.iterdir()) if f.is_file() and _mode(f) & ~FILE_MODE]
    if loose:
        listed = ", ".join(f"{f.name} {_mode(f):03o}" for f in loose[:5]) + (" …" if len(loose) > 5 else "")
        yield _check(
            False,
            f"{len(loose)} data file(s) readable by others: {listed}",
            f"chmod 600 {path}/* (and {files}/* if present); accessbot creates them 0600",
        )


def _check_database(path: Path) -> Iterator[Check]:
    """The same start-up integrity check the bot makes (bot/integrity.py), without changing anything."""
    found = integrity.inspect(path)
    for problem in found.problems:
        said = problem.render().splitlines()[0].removeprefix("- ")
        yield _check(False, f"data file {said}", problem.fix)
    if not found.problems:
        tables = sum(1 for t in found.tables.values() if t.data is not None)
        manifest = "checked against the manifest" if found.manifest else "no manifest yet (written on start)"
        yield Check.good(f"data files are sound ({tables} database file(s) found, {manifest})")


# -- platforms ---------------------------------------------------------------------------------------


def all_variables() -> dict[str, str]:
    """Every variable accessbot reads, the core's and each platform's, with what it is for."""
    variables = {name: f"core setting {field}" for field, name in ENV_VARS.items()}
    for platform in adapters.load_all():
        variables.update({s.env: s.help for s in platform.settings})
    return variables


def platforms_to_check(env: Environment) -> list[Platform]:
    """The platform `accessbot run` picks, plus any other whose variables are (partly) set."""
    chosen = adapters.chosen(env)
    return [p for p in adapters.load_all() if p.name == chosen or p.partly_configured(env)]


def _check_packages() -> Iterator[Check]:
    try:
        version = importlib.metadata.version("pypdf")
    except importlib.metadata.PackageNotFoundError:
        yield _check(False, "pypdf is missing", "pip install 'pypdf>=6.4' (or reinstall accessbot)")
    else:
        major = int(version.split(".")[0])
        yield _check(
            major >= 6,
            f"pypdf {version}",
            "pip install -U pypdf (security fixes land only in the newest)",
        )
    try:
        importlib.metadata.version("cryptography")
        yield Check.good("cryptography installed (encrypted PDFs are recognised)")
    except importlib.metadata.PackageNotFoundError:
        yield _check(False, "cryptography missing", "pip install cryptography")
