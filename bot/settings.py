"""Settings from the environment: one table, documented in docs/configuration.md and .env.example."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Every variable `Settings.from_env` reads, by the field it fills. docs/configuration.md and .env.example
# list each of them (tests/test_doctor.py checks).
ENV_VARS: dict[str, str] = {
    "data_dir": "ACCESSBOT_DATA_DIR",
    "rules_path": "ACCESSBOT_RULES",
    "log_format": "ACCESSBOT_LOG_FORMAT",
    "log_level": "ACCESSBOT_LOG_LEVEL",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "discord_token": "DISCORD_TOKEN",
    "discord_guild_id": "DISCORD_GUILD_ID",
    "pdf_timeout_s": "ACCESSBOT_PDF_TIMEOUT_S",
    "pdf_memory_mb": "ACCESSBOT_PDF_MEMORY_MB",
}


class SettingsError(ValueError):
    """An environment variable holds a value accessbot cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    rules_path: Path = Path("rules.yaml")
    log_format: str = "text"
    log_level: str = "INFO"
    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    discord_token: str = ""
    discord_guild_id: str = ""
    pdf_timeout_s: float = 5.0
    pdf_memory_mb: int = 512

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment; raises SettingsError (a ValueError) naming a malformed number."""
        env = os.environ if env is None else env

        def get(field: str, default: str) -> str:
            return env.get(ENV_VARS[field], "").strip() or default

        return Settings(
            data_dir=Path(get("data_dir", "data")),
            rules_path=Path(get("rules_path", "rules.yaml")),
            log_format=get("log_format", "text").lower(),
            log_level=get("log_level", "INFO").upper(),
            slack_bot_token=get("slack_bot_token", ""),
            slack_app_token=get("slack_app_token", ""),
            slack_signing_secret=get("slack_signing_secret", ""),
            discord_token=get("discord_token", ""),
            discord_guild_id=get("discord_guild_id", ""),
            pdf_timeout_s=_positive_float(ENV_VARS["pdf_timeout_s"], get("pdf_timeout_s", "5"), "seconds"),
            pdf_memory_mb=_positive_int(ENV_VARS["pdf_memory_mb"], get("pdf_memory_mb", "512"), "megabytes"),
        )

    def platform(self) -> str:
        """The adapter `accessbot run` picks when none is named: Slack, then Discord, then the console."""
        if self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret):
            return "slack"
        if self.discord_token:
            return "discord"
        return "console"


def _positive_float(name: str, raw: str, unit: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a positive number of {unit} (got {raw!r})")
    return value


def _positive_int(name: str, raw: str, unit: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"{name} must be a positive whole number of {unit} (got {raw!r})")
    return value
