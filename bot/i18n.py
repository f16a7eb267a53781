"""Every user-facing sentence, by key, in English and Korean (bot/locales/<area>.<lang>.yaml).

Texts live in YAML so translators never touch code; a test checks every key exists in every language
and that both sides use the same {placeholders}.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
FALLBACK = "en"


class _Blank(dict[str, Any]):
    """Leaves unknown placeholders visible instead of raising KeyError in front of a user."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node).rstrip("\n")


def load_catalog(directory: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    catalog: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.*.yaml")):
        lang = path.stem.rsplit(".", 1)[1]
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, catalog.setdefault(lang, {}))
    return catalog


class Translator:
    def __init__(self, catalog: dict[str, dict[str, str]] | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()

    @property
    def languages(self) -> list[str]:
        return sorted(self.catalog)

    def has(self, key: str) -> bool:
        return key in self.catalog.get(FALLBACK, {})

    def t(self, lang: str, key: str, **params: Any) -> str:
        template = self.catalog.get(lang, {}).get(key)
        if template is None:
            template = self.catalog.get(FALLBACK, {}).get(key)
        if template is None:
            log.error("missing text %r", key)
            return key
        return template.format_map(_Blank({k: v for k, v in params.items()}))
