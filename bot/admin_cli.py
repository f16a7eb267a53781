"""`accessbot admin ...`: the admin commands on a data folder, for when the bot is stopped or for cron."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from bot import admin
from bot.models import utc_now
from bot.rules_loader import RulesError, load_rules
from bot.settings import Settings
from bot.storage import CorruptDatabase
from bot.store import Store, StoreLocked

_READ_ONLY = ("pending", "show", "export", "stats", "audit")
_USAGE = {"show": "show USER", "forget": "forget USER", "reset": "reset USER STEP"}


def admin_command(settings: Settings, action: str, args: Sequence[str], out: TextIO, err: TextIO) -> int:
    needed = len(_USAGE.get(action, "").split()) - 1
    if len(args) < needed:
        err.write(f"usage: accessbot admin {_USAGE[action]}\n")
        return 2
    try:
        rules = load_rules(settings.rules_path)
        # Reads may run beside a live bot; changes must not, or the bot would overwrite them.
        store = Store(settings.data_dir, exclusive=action not in _READ_ONLY)
    except (RulesError, CorruptDatabase, StoreLocked) as exc:
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
            out.write(admin.export_csv(store, rules))
        elif action == "stats":
            out.write("\n".join(admin.stats(store, rules)))
        elif action == "audit":
            for entry in store.audit_entries():
                out.write(f"{entry}\n")
        elif action == "forget":
            if not store.forget(args[0]):
                err.write(f"no applicant {args[0]}\n")
                return 1
            store.audit("cli", "admin.forget", args[0])
            out.write(f"forgot {args[0]}")
        elif action == "reset":
            out.write(admin.reset(store, rules, args[0], args[1], "cli"))
        out.write("\n")
    return 0
