"""Every user-facing sentence, by key, in English and Korean (bot/locales/<area>.<lang>.yaml).

Texts live in YAML so translators never touch code; a test checks every key exists in every language
and that both sides use the same {placeholders}.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class Localised(Protocol):
    """Text written in several languages (a rules.yaml LocalText): resolved in the reader's language."""

    def get(self, lang: str) -> str: ...


def _resolve(value: object, lang: str) -> object:
    if isinstance(value, str | int | float | Mapping):
        return value
    return value.get(lang) if isinstance(value, Localised) else value


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
        return template.format_map(_Blank({k: _resolve(v, lang) for k, v in params.items()}))

    def bound(self, lang: str) -> Bound:
        return Bound(self, lang)


class Bound:
    """A translator fixed to one reader's language: `t("key", **params)`."""

    def __init__(self, translator: Translator, lang: str) -> None:
        self.translator = translator
        self.lang = lang

    def __call__(self, key: str, **params: Any) -> str:
        return self.translator.t(self.lang, key, **params)

    def has(self, key: str) -> bool:
        return self.translator.has(key)
