"""The core's settings from the environment and `.env`, documented in docs/configuration.md and .env.example.

Platform packages declare and read their own variables (their `Platform.settings`) from `env`;
`bot.doctor.all_variables()` lists both, for the docs test and `doctor`.

`.env` (or the file ACCESSBOT_ENV_FILE names) is read by accessbot itself: `KEY=value` lines, an
optional `export `, `#` comments, values quoted as a shell would ('literal', "with \\" escapes") or
not. A variable already set (not empty) in the environment wins over the file. Nothing is executed.
"""

from __future__ import annotations

import math
import os
import re
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
    "pdf_workers": "ACCESSBOT_PDF_WORKERS",
    "report_workers": "ACCESSBOT_REPORT_WORKERS",
    "env_file": "ACCESSBOT_ENV_FILE",
}
DEFAULT_ENV_FILE = Path(".env")
REPORT_WORKERS = 2
"""ACCESSBOT_REPORT_WORKERS's default, also what code that builds the bot without Settings uses."""
FROM_ENVIRONMENT = "environment"
"""`Settings.sources` value for a variable the process environment set."""


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
    pdf_workers: int = 2
    """PDF worker processes: uploads checked at once (a slow file holds one of them only)."""
    report_workers: int = REPORT_WORKERS
    """Processes `export` and `stats` may use above 10,000 people (0: the bot's own process)."""
    env_file: Path | None = None
    """The env file that was looked for (None: only the given environment was read)."""
    env: Environment = field(default_factory=Environment, repr=False, compare=False)
    """The whole environment as read at start-up: platform packages read their own variables here."""
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Where each non-empty variable came from: "environment" or the env file's path."""

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None, *, env_file: Path | None = None) -> Settings:
        """Read the environment, and the env file under it; raises SettingsError (a ValueError) naming
        a malformed number or env file line.

        With no `env`, the process environment and `.env` (or $ACCESSBOT_ENV_FILE) are read. With an
        `env` given (tests), an env file is read only when `env_file` is passed or named in `env`.
        """
        given = env is not None
        base: Mapping[str, str] = os.environ if env is None else env
        named = base.get(ENV_VARS["env_file"], "").strip()
        if env_file is None and (named or not given):
            env_file = Path(named) if named else DEFAULT_ENV_FILE
        from_file: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            from_file = read_env_file(env_file)
        elif named and env_file is not None:
            raise SettingsError(f"{ENV_VARS['env_file']} names {env_file}, which is not a file")
        merged = dict(from_file)
        sources = dict.fromkeys((k for k, v in from_file.items() if v.strip()), str(env_file))
        for key, value in base.items():
            if value.strip() or key not in merged:  # an empty variable does not hide the file's value
                merged[key] = value
                if value.strip():
                    sources[key] = FROM_ENVIRONMENT

        def get(field: str, default: str) -> str:
            name = ENV_VARS[field]
            return str(base.get(name, "") or "").strip() or from_file.get(name, "").strip() or default

        return Settings(
            data_dir=Path(get("data_dir", "data")),
            rules_path=Path(get("rules_path", "rules.yaml")),
            log_format=get("log_format", "text").lower(),
            log_level=get("log_level", "INFO").upper(),
            pdf_timeout_s=_positive_float(ENV_VARS["pdf_timeout_s"], get("pdf_timeout_s", "5"), "seconds"),
            pdf_memory_mb=_whole_number(ENV_VARS["pdf_memory_mb"], get("pdf_memory_mb", "512"), "megabytes"),
            pdf_workers=_whole_number(ENV_VARS["pdf_workers"], get("pdf_workers", "2"), "processes", most=32),
            report_workers=_whole_number(
                ENV_VARS["report_workers"],
                get("report_workers", str(REPORT_WORKERS)),
                "processes",
                least=0,
                most=32,
            ),
            env_file=env_file,
            env=Environment(merged),
            sources=sources,
        )


# -- the env file ------------------------------------------------------------------------------------

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s?(.*)$")
_DOUBLE_ESCAPES = {'"': '"', "\\": "\\", "$": "$", "`": "`", "n": "\n"}


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines as a shell would read them (no expansion, nothing executed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read: {exc}") from exc
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise SettingsError(
                f"{path}:{number}: not a KEY=value line ({stripped[:40]!r}); write NAME=value, one per line"
            )
        try:
            values[match.group(1)] = parse_value(match.group(2))
        except ValueError as exc:
            raise SettingsError(f"{path}:{number}: {match.group(1)}: {exc}") from None
    return values


def parse_value(raw: str) -> str:
    """One value: 'single' is literal, "double" knows \\" \\\\ \\$ \\` and \\n, bare ends at ` #`."""
    raw = raw.strip()
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise ValueError("the single quote is not closed")
        _rest(raw[end + 1 :])
        return raw[1:end]
    if raw[:1] == '"':
        out: list[str] = []
        i = 1
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw) and raw[i + 1] in _DOUBLE_ESCAPES:
                out.append(_DOUBLE_ESCAPES[raw[i + 1]])
                i += 2
                continue
            if char == '"':
                _rest(raw[i + 1 :])
                return "".join(out)
            out.append(char)
            i += 1
        raise ValueError("the double quote is not closed")
    comment = re.search(r"\s#", raw)
    return (raw[: comment.start()] if comment else raw).strip()


def _rest(after: str) -> None:
    after = after.strip()
    if after and not after.startswith("#"):
        raise ValueError(f"unexpected text after the closing quote ({after[:20]!r})")


def _positive_float(name: str, raw: str, unit: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a positive number of {unit} (got {raw!r})")
    return value


def _whole_number(name: str, raw: str, unit: str, *, least: int = 1, most: int | None = None) -> int:
    """A whole number from `least` (1, or 0 where 0 turns the thing off) up to `most`."""
    try:
        value: int | None = int(raw)
    except ValueError:
        value = None
    if value is None or value < least or (most is not None and value > most):
        if least > 0:
            limit = f" up to {most}" if most is not None else ""
            wanted = f"a positive whole number of {unit}{limit}"
        else:
            wanted = f"a whole number of {unit} from {least} to {most}"
        raise SettingsError(f"{name} must be {wanted} (got {raw!r})")
    return value
