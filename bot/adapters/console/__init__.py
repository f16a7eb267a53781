"""The console platform: the whole bot in a terminal or a pipe, several people, a reviewers channel.

The default of `accessbot run` when no platform's credentials are set, and the tests' harness.
"""

from __future__ import annotations

import sys

from bot.adapters.console.serve import run_console
from bot.platform import Check, Environment, Host, ServeOptions, Setting, Stopper
from bot.rules import Rules


class ConsolePlatform:
    name = "console"
    settings: tuple[Setting, ...] = ()

    def configured(self, env: Environment) -> bool:
        return True

    def partly_configured(self, env: Environment) -> bool:
        return False

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        if rules is not None and not rules.reviewers.channel.get(self.name):
            return [
                Check.warn(
                    "reviewers channel for console: not set",
                    f"set reviewers.channel.console in {options.rules_path} (any name, e.g. reviewers)",
                )
            ]
        return []

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        return run_console(host, sys.stdin, sys.stdout, stopper, user=options.user)


PLATFORM = ConsolePlatform()
