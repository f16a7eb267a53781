"""The console platform: the whole bot in a terminal or a pipe, several people, a reviewers channel.

The default of `accessbot run` when no platform's credentials are set, and the tests' harness.
"""

from __future__ import annotations

import sys

from bot.adapters.console.serve import run_console
from bot.integrity import ExtraFile, register_file
from bot.platform import Check, Environment, Host, ServeOptions, Setting, Stopper
from bot.rules import Rules
from bot.setup_checks import people_checks

TRANSCRIPT = "console-posts.jsonl"
"""In the data folder: the review posts the console has shown (see ConsoleAdapter.transcript)."""


register_file(ExtraFile(TRANSCRIPT))


class ConsolePlatform:
    name = "console"
    settings: tuple[Setting, ...] = ()

    def configured(self, env: Environment) -> bool:
        return True

    def partly_configured(self, env: Environment) -> bool:
        return False

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        if rules is None:
            return []
        return list(
            people_checks(
                rules,
                self.name,
                options.rules_path,
                channel_pattern=None,
                channel_help="any name, e.g. reviewers",
            )
        )

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        transcript = options.data_dir / TRANSCRIPT if options.data_dir.is_dir() else None
        return run_console(host, sys.stdin, sys.stdout, stopper, user=options.user, transcript=transcript)


PLATFORM = ConsolePlatform()
