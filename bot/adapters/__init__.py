"""Platform adapters: the only code that imports a chat platform's library.

The registry below lists every platform. Each entry is a package whose __init__ exposes `PLATFORM`,
a `bot.platform.Platform` descriptor, and imports no platform library itself (so `doctor` and
`run console` never load discord.py or slack-bolt). Adding a platform is one package and one line.
"""

from __future__ import annotations

import importlib

from bot.platform import Environment, Platform

REGISTRY: dict[str, str] = {
    "slack": "bot.adapters.slack",
    "discord": "bot.adapters.discord",
    "console": "bot.adapters.console",
}
"""Platform name -> package. `accessbot run` with no platform named picks the first configured one,
in this order; the console is the default when none is."""


class UnknownPlatform(LookupError):
    pass


def names() -> list[str]:
    return list(REGISTRY)


def load(name: str) -> Platform:
    """The descriptor of a registered platform (imports its package, not its library)."""
    try:
        module = importlib.import_module(REGISTRY[name])
    except KeyError:
        raise UnknownPlatform(f"no platform {name!r} (known: {', '.join(REGISTRY)})") from None
    platform: Platform = module.PLATFORM
    return platform


def load_all() -> list[Platform]:
    return [load(name) for name in REGISTRY]


def chosen(env: Environment) -> str:
    """The platform `accessbot run` picks when none is named: the first configured, else the console."""
    return next((p.name for p in load_all() if p.name != "console" and p.configured(env)), "console")
