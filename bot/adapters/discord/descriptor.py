"""The Discord platform as the runtime sees it: what it reads, checks and how it serves.

Importing this module does not import discord.py: `doctor` and `run console` never load it.
"""

from __future__ import annotations

from bot.adapters.discord.roles import DISCORD_API
from bot.adapters.discord.setup import NAME, SETTINGS, TOKEN_VAR
from bot.adapters.discord.setup import checks as offline_checks
from bot.platform import Check, Environment, Host, ServeOptions, Setting, Stopper
from bot.rules import Rules


class DiscordPlatform:
    name = NAME
    settings: tuple[Setting, ...] = SETTINGS
    api_url: str = DISCORD_API
    """Where the live role checks ask (tests point it at a fake on 127.0.0.1)."""

    def configured(self, env: Environment) -> bool:
        return bool(env.get(TOKEN_VAR))

    def partly_configured(self, env: Environment) -> bool:
        """Any DISCORD_ variable is set (doctor then checks Discord even if another platform runs)."""
        return any(name.startswith("DISCORD_") and env.get(name) for name in env.values)

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        return list(offline_checks(env, rules, options, api_url=self.api_url))

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        from bot.adapters.discord.serve import serve  # discord.py is imported only to serve

        return serve(host, env, stopper)
