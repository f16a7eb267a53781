"""What `accessbot init` gives a platform's set-up conversation, and what it gets back.

A platform package offers `bot/adapters/<name>/wizard.py` with `converse(SetupInput) -> PlatformSetup`
(listed in bot/setup/wizard.py's WIZARDS). It imports no platform library: plain HTTPS (bot/setup/http.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.platform import Environment
from bot.setup.ask import Asker


@dataclass(frozen=True)
class SetupInput:
    ask: Asker
    answers: Mapping[str, str]
    """Answers given as flags, by option name (`channel`, `reviewers`, `slack_bot_token`, ...)."""
    env: Environment
    """The variables as accessbot would read them now (environment and the existing .env): defaults."""
    rules: Mapping[str, Any]
    """The rules.yaml being edited, parsed (its current channel, reviewers and admins are defaults)."""
    api_url: str = ""
    """The platform API's base URL (empty: the real one). Tests point it at a fake on 127.0.0.1."""

    def answer(self, name: str) -> str:
        return str(self.answers.get(name) or "").strip()

    def current(self, kind: str, platform: str) -> list[str]:
        """The ids (without `platform:`) rules.yaml lists now as `reviewers` or `admins`."""
        reviewers = self.rules.get("reviewers") or {}
        listed = self.rules.get("admins") if kind == "admins" else reviewers.get("users")
        prefix = platform + ":"
        return [str(k).removeprefix(prefix) for k in listed or [] if str(k).startswith(prefix)]

    def current_channel(self, platform: str) -> str:
        return str(((self.rules.get("reviewers") or {}).get("channel") or {}).get(platform) or "")


@dataclass
class PlatformSetup:
    env: dict[str, str]
    """Variables to write into .env."""
    channel: str
    reviewers: list[str]
    """Platform ids (init prefixes them with `platform:`)."""
    admins: list[str]
    drop: list[str] = field(default_factory=list)
    """Variables of this platform to comment out in .env (e.g. the app token in HTTP mode)."""
    next_steps: list[str] = field(default_factory=list)
    """What is left to do by hand, said at the end."""
