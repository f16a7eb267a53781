"""Every user-facing sentence, by key, per language (bot/locales/<area>.<lang>.yaml).

Texts live in YAML so translators never touch code; a test checks every key exists in every language
and that all languages use the same {placeholders}. Vocabulary (bot/locales/words*.yaml, what the bot
understands) lives beside the sentences but is not part of the catalog: see bot/language/lexicon.py.

Rendering, `Translator.t(lang, key, **params)`:

- `{name}` is replaced by the parameter. A parameter that is localised text (anything with
  `.get(lang) -> str`, such as bot.schema.LocalText, or a {lang: text} mapping) is resolved in `lang`,
  the recipient's language, so callers pass step titles and document names as they are.
- Korean particles after a placeholder are chosen from the value's last syllable: write either form,
  "{document}를" or "{document}을", and the translator writes "수료 보고서를" or "증빙을"; the hedged
  forms "을(를)", "(으)로", "은(는)", "이(가)" are resolved the same way. Quotes and emphasis marks
  may stand between the placeholder and the particle ("{answer}"로, **{answer}**로); after a
  closing bracket the particle is left alone (in "이름({found})이" it belongs to 이름). The explicit
  form `{document:을}` does the same. See bot/language/particles.py for how words are read.
- `{{` and `}}` are literal braces; an unknown placeholder stays visible as `{name}`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bot import yaml_read
from bot.language import particles
from bot.memo import per_object

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
FALLBACK = "en"
VOCABULARY_AREA = "words"
"""words.<lang>.yaml: vocabulary, loaded by bot.language.lexicon, not sentences."""


@runtime_checkable
class Localised(Protocol):
    """Text in several languages; `get(lang)` gives it in one (bot.schema.LocalText is one)."""

    def get(self, lang: str, /) -> str: ...


# lang -> (is this a particle spelling?, the right form for a value)
_INFLECTORS: dict[str, tuple[Callable[[str], bool], Callable[[str, str], str]]] = {
    "ko": (particles.is_particle, particles.particle),
}
_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)(?::([^{}]*))?\}")
# Quotes may stand between a placeholder and its particle ("{answer}"로); a closing bracket may not:
# in "이름({found})이" the particle belongs to 이름, the word before the brackets.
_CLOSERS = re.compile(r"[\"'”’」』*_`]*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node).rstrip("\n")


def load_catalog(directory: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    catalog: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.*.yaml")):
        area, lang = path.stem.rsplit(".", 1)
        if area == VOCABULARY_AREA:
            continue
        texts = yaml_read.safe_load(path.read_text(encoding="utf-8")) or {}
        _flatten("", texts, catalog.setdefault(lang, {}))
    return catalog


def resolve(value: Any, lang: str) -> str:
    """A parameter as text in `lang`: localised text is resolved, anything else is str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        text = value.get(lang, value.get(FALLBACK))
        if text is None and value:
            text = next(iter(value.values()))
        return "" if text is None else str(text)
    if _is_localised(type(value)):
        return str(value.get(lang))
    return str(value)


@per_object
def _is_localised(kind: type) -> bool:
    """isinstance against a runtime-checkable Protocol inspects the class every time (30 µs, asked
    for most parameters of every message): asked once per type instead."""
    return issubclass(kind, Localised)


def render(lang: str, template: str, params: Mapping[str, Any]) -> str:
    """`template` with its placeholders filled for a reader of `lang` (see the module docstring)."""
    inflector = _INFLECTORS.get(lang)
    out: list[str] = []
    position = 0
    for slot in _slots(lang, template):
        if slot.start < position:
            continue  # inside a particle already consumed
        out.append(template[position : slot.start])
        position = slot.end
        if slot.name is None:  # {{ or }}
            out.append(slot.token[0])
            continue
        if slot.name not in params:
            out.append(slot.token)
            continue
        value = resolve(params[slot.name], lang)
        if slot.spec:
            if inflector is not None and inflector[0](slot.spec):
                out.append(value + inflector[1](value, slot.spec))
            elif particles.is_particle(slot.spec):
                out.append(value)  # a particle marker in a language without particles
            else:
                try:
                    out.append(format(params[slot.name], slot.spec))
                except (ValueError, TypeError):
                    out.append(value)
            continue
        out.append(value)
        if inflector is not None and slot.particle is not None:
            between, spelling = slot.particle
            out.append(between + inflector[1](value, spelling))
            position = slot.particle_end
    out.append(template[position:])
    return "".join(out)


@dataclass(frozen=True)
class _Slot:
    """A `{name}`, `{name:spec}`, `{{` or `}}` of a template, and the particle written after it."""

    start: int
    end: int
    token: str
    name: str | None
    spec: str | None
    particle: tuple[str, str] | None = None
    """(the quotes between, the particle's spelling): rewritten for the value in `lang`."""
    particle_end: int = 0


@functools.lru_cache(maxsize=4096)
def _slots(lang: str, template: str) -> tuple[_Slot, ...]:
    """A template read once per language: a reply renders seven or eight of them, and finding the
    fields and particles again each time was most of the work. (Templates come from bot/locales
    and rules.yaml: a bounded set.)"""
    inflector = _INFLECTORS.get(lang)
    slots: list[_Slot] = []
    for match in _FIELD.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            slots.append(_Slot(match.start(), match.end(), token, None, None))
            continue
        slot = _Slot(match.start(), match.end(), token, match.group(1), match.group(2))
        if inflector is not None and not slot.spec:
            found = _particle_after(template, match.end(), inflector[0])
            if found is not None:
                between, spelling = found
                end = match.end() + len(between) + len(spelling)
                slot = dataclasses.replace(slot, particle=found, particle_end=end)
        slots.append(slot)
    return tuple(slots)


def _particle_after(
    template: str, position: int, is_particle: Callable[[str], bool]
) -> tuple[str, str] | None:
    """The particle written right after a placeholder, with the quotes between: ("", "를")."""
    closers = _CLOSERS.match(template, position)
    after = closers.end() if closers else position
    for spelling in particles.SPELLINGS:
        end = after + len(spelling)
        fits = template.startswith(spelling, after) and not _HANGUL.match(template, end)
        if fits and is_particle(spelling):
            return template[position:after], spelling
    return None


class Translator:
    def __init__(self, catalog: dict[str, dict[str, str]] | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()

    @classmethod
    def from_directory(cls, directory: Path) -> Translator:
        return cls(load_catalog(directory))

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
        return render(lang, template, params)

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
