"""Settings from the environment: one table, documented in docs/configuration.md."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path


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
        env = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        return Settings(
            data_dir=Path(get("ACCESSBOT_DATA_DIR", "data")),
            rules_path=Path(get("ACCESSBOT_RULES", "rules.yaml")),
            log_format=get("ACCESSBOT_LOG_FORMAT", "text").lower(),
            log_level=get("ACCESSBOT_LOG_LEVEL", "INFO").upper(),
            slack_bot_token=get("SLACK_BOT_TOKEN", ""),
            slack_app_token=get("SLACK_APP_TOKEN", ""),
            slack_signing_secret=get("SLACK_SIGNING_SECRET", ""),
            discord_token=get("DISCORD_TOKEN", ""),
            discord_guild_id=get("DISCORD_GUILD_ID", ""),
            pdf_timeout_s=float(get("ACCESSBOT_PDF_TIMEOUT_S", "5")),
            pdf_memory_mb=int(get("ACCESSBOT_PDF_MEMORY_MB", "512")),
        )

    def platform(self) -> str:
        """The adapter `accessbot run` picks when none is named: Slack, then Discord, then the console."""
        if self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret):
            return "slack"
        if self.discord_token:
            return "discord"
        return "console"

    def redacted(self) -> dict[str, str]:
        out = {}
        for f in fields(self):
            value = str(getattr(self, f.name))
            secret = "token" in f.name or "secret" in f.name
            out[f.name] = ("set" if value else "not set") if secret else value
        return out
