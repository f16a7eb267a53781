"""The Slack descriptor (bot/platform.py's Platform): what doctor checks and how run serves.

Importing it loads no Slack library; `serve` imports slack-bolt (serve.py) only when called.
"""

from __future__ import annotations

from bot.adapters.slack.setup import (
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL_HELP,
    CHANNEL_ID,
    PLACEHOLDER_CHANNEL,
    SETTINGS,
    SIGNING_SECRET,
    token_checks,
)
from bot.platform import Check, Environment, Host, ServeOptions, Setting, Stopper
from bot.rules import Rules
from bot.setup_checks import people_checks


class SlackPlatform:
    """The Slack descriptor (bot/platform.py's Platform): imports slack-bolt only to serve."""

    name: str = "slack"
    settings: tuple[Setting, ...] = SETTINGS

    def configured(self, env: Environment) -> bool:
        return bool(env.get(BOT_TOKEN) and (env.get(APP_TOKEN) or env.get(SIGNING_SECRET)))

    def partly_configured(self, env: Environment) -> bool:
        return any(env.get(s.env) for s in self.settings)

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        checks = list(token_checks(env, "http" if options.http else "any"))
        if rules is not None:
            checks += people_checks(
                rules,
                self.name,
                options.rules_path,
                channel_pattern=CHANNEL_ID,
                channel_help=CHANNEL_HELP,
                placeholder=PLACEHOLDER_CHANNEL,
            )
        return checks

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        from bot.adapters.slack.serve import serve

        return serve(host, env, options, stopper)
