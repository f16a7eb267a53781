"""The core's settings from the environment, documented in docs/configuration.md and .env.example.

Platform packages declare and read their own variables (their `Platform.settings`) from `env`;
`bot.doctor.all_variables()` lists both, for the docs test and `doctor`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.platform import Environment

# Every variable `Settings.from_env` reads, by the field it fills. docs/configuration.md and .env.example
# list each of them (tests/test_doctor.py checks).
ENV_VARS: dict[str, str] = {
    "data_dir": "ACCESSBOT_DATA_DIR",
    "rules_path": "ACCESSBOT_RULES",
    "log_format": "ACCESSBOT_LOG_FORMAT",
    "log_level": "ACCESSBOT_LOG_LEVEL",
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
    pdf_timeout_s: float = 5.0
    pdf_memory_mb: int = 512
    env: Environment = field(default_factory=Environment, repr=False, compare=False)
    """The whole environment as read at start-up: platform packages read their own variables here."""

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
            pdf_timeout_s=_positive_float(ENV_VARS["pdf_timeout_s"], get("pdf_timeout_s", "5"), "seconds"),
            pdf_memory_mb=_positive_int(ENV_VARS["pdf_memory_mb"], get("pdf_memory_mb", "512"), "megabytes"),
            env=Environment(dict(env)),
        )


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
