"""`accessbot admin ...`: the admin commands on a data folder, beside a live bot or without one.

Read-only commands (pending, show, export, stats, audit) open the folder read-only: no lock, no
temp file removed, no chmod, no salt created, nothing written, so they are safe beside a live bot.
Commands that change data (forget, reset) need the folder's lock: when a live bot holds it, they go
to that bot over its control socket (bot/control.py), or are refused, saying so. `repair` accepts
the files as they are after a restore (bot/integrity.py), with the bot stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import admin, control, integrity, report_workers
from bot.models import utc_now
from bot.rules import Rules
from bot.rules_loader import RulesError, load_rules
from bot.settings import Settings
from bot.storage import CorruptDatabase
from bot.store import ForgetFailed, Store, StoreLocked

READ_ONLY = ("pending", "show", "export", "stats", "audit")
_USAGE = {
    "show": "show USER",
    "forget": "forget USER",
    "reset": "reset USER STEP",
    "revoke": "revoke USER REASON",
    "block": "block USER REASON",
    "unblock": "unblock USER",
    "closeout": "closeout USER",
}


@dataclass(frozen=True)
class ReadOptions:
    """Options of the read-only commands: `stats --plot PNG`, `export --xlsx FILE`, `--lang`."""

    plot: Path | None = None
    xlsx: Path | None = None
    lang: str = ""


def admin_command(
    settings: Settings,
    action: str,
    args: Sequence[str],
    out: TextIO,
    err: TextIO,
    options: ReadOptions | None = None,
) -> int:
    needed = len(_USAGE.get(action, "").split()) - 1
    if len(args) < needed:
        err.write(f"usage: accessbot admin {_USAGE[action]}\n")
        return 2
    if action == "repair":
        return repair(settings, "--new-salt" in args, out, err)
    try:
        rules = load_rules(settings.rules_path)
    except RulesError as exc:
        err.write(f"{exc}\n")
        return 1
    if action in READ_ONLY:
        return _read(settings, rules, action, args, out, err, options or ReadOptions())
    return _change(settings, rules, action, list(args), out, err)


def _read(
    settings: Settings,
    rules: Rules,
    action: str,
    args: Sequence[str],
    out: TextIO,
    err: TextIO,
    options: ReadOptions,
) -> int:
    if options.lang and options.lang not in rules.languages:
        err.write(f"--lang must be one of {', '.join(rules.languages)}\n")
        return 2
    if action in ("export", "stats"):
        report_workers.warm_up_for_folder(settings.data_dir, settings.report_workers)
    try:
        store = Store(settings.data_dir, exclusive=False)
    except CorruptDatabase as exc:
        err.write(f"{exc}\n")
        return 1
    with store:
        if action == "pending":
            out.write(
                "\n".join(admin.pending(store, rules, utc_now())) or "Nothing is waiting for a decision."
            )
        elif action == "show":
            lines = admin.show(store, rules, args[0])
            if lines is None:
                err.write(f"no applicant {args[0]} (use the full id, e.g. slack:U0123)\n")
                return 1
            out.write("\n".join(lines))
        elif action == "export":
            return _export(store, rules, out, err, options, settings.report_workers)
        elif action == "stats":
            out.write("\n".join(admin.stats(store, rules, workers=settings.report_workers)))
            if options.plot is not None:
                admin.stats_plot(store, rules, options.plot, options.lang)
                out.write(f"\nwrote the chart to {options.plot}")
        elif action == "audit":
            for entry in store.audit_entries():
                out.write(f"{entry}\n")
        out.write("\n")
    return 0


def _export(store: Store, rules: Rules, out: TextIO, err: TextIO, options: ReadOptions, workers: int) -> int:
    if options.xlsx is None:
        admin.write_csv(out, store, rules, options.lang, workers=workers)  # streamed
        return 0
    try:
        count = admin.write_xlsx(options.xlsx, store, rules, options.lang)
    except admin.XlsxUnavailable as exc:
        err.write(f"{exc}\n")
        return 1
    out.write(f"wrote {count} applicant(s) to {options.xlsx}\n")
    return 0


def _change(settings: Settings, rules: Rules, action: str, args: list[str], out: TextIO, err: TextIO) -> int:
    try:
        store = Store(settings.data_dir)
    except StoreLocked:
        return _to_live_bot(settings, action, args, out, err)
    except CorruptDatabase as exc:
        err.write(f"{exc}\n")
        return 1
    with store:
        try:
            out.write(admin.change(store, rules, action, args) + "\n")
        except (admin.NotDone, ForgetFailed) as exc:
            err.write(f"{exc}\n")
            return 1
    return 0


def _to_live_bot(settings: Settings, action: str, args: list[str], out: TextIO, err: TextIO) -> int:
    try:
        answer = control.send(settings.data_dir, action, args)
    except control.CommandFailed as exc:
        err.write(f"the live bot says: {exc}\n")
        return 1
    except OSError as exc:
        err.write(f"the live bot did not answer on {control.socket_path(settings.data_dir)} ({exc})\n")
        return 1
    if answer is None:
        err.write(
            f"another accessbot is already using {settings.data_dir} and takes no commands from here"
            f" (no control socket). Nothing was changed. Send `{action} {' '.join(args)}` to the bot"
            " as an admin (a DM), or stop the bot and run this again.\n"
        )
        return 1
    out.write(answer + "\n")
    return 0


def repair(settings: Settings, new_salt: bool, out: TextIO, err: TextIO) -> int:
    """Accept the data files as they are (after a restore), once each is checked; the bot stopped."""
    found = integrity.inspect(settings.data_dir)
    try:
        store = Store(settings.data_dir, repair=True, new_salt=new_salt)
    except StoreLocked as exc:
        err.write(f"{exc}\n")
        return 1
    except CorruptDatabase as exc:
        err.write(f"{exc}\nrepair accepts files that disagree with the manifest, not damaged ones.\n")
        return 1
    with store:
        for problem in found.problems:
            out.write(f"accepted: {problem.render().splitlines()[0].removeprefix('- ')}\n")
        if new_salt and found.salt is None:
            store.audit("cli", "admin.new_salt")
            out.write("made a new audit.salt: pseudonyms in the audit change from here on\n")
        out.write(f"{settings.data_dir}: manifest written; accessbot can start\n")
    return 0
