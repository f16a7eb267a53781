"""Turn a YAML node tree into frozen dataclasses, with errors that name the file, line and field.

One generic walker serves every config class, so the docs (docs/rules.md) can be generated from the
same dataclasses and cannot drift. YAML is parsed with the safe loader only: config never runs code.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from bot import yaml_read

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        return f"{where}: {self.path + ' ' if self.path else ''}{self.message}"


class SchemaError(Exception):
    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(p.render(filename) for p in problems))


def doc(text: str, *, choices: str = "", **kwargs: Any) -> Any:
    """A dataclass field carrying its documentation (used for docs/rules.md).

    `choices` names an open set of allowed values the loader supplies (e.g. the registered step
    kinds), for fields whose values are registries rather than a fixed Literal."""
    metadata = {"doc": text, "choices": choices} if choices else {"doc": text}
    return field(metadata=metadata, **kwargs)


@dataclass(frozen=True)
class LocalText:
    """A text in several languages. In YAML: a plain string (all languages) or {en: ..., ko: ...}."""

    texts: Mapping[str, str]

    def get(self, lang: str, fallback: str = "en") -> str:
        if lang in self.texts:
            return self.texts[lang]
        if fallback in self.texts:
            return self.texts[fallback]
        return next(iter(self.texts.values()), "")

    @staticmethod
    def of(text: str) -> LocalText:
        return LocalText({"en": text})


_LANG = re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$")
_constructor = yaml.constructor.SafeConstructor()


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value) if node.tag.endswith(":str") else str(node.value)
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


class Walker:
    """Builds typed objects from nodes, collecting every problem rather than stopping at the first."""

    def __init__(self, choices: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.problems: list[Problem] = []
        self.choices = choices or {}
        """Open sets of values, by name: a field with `doc(..., choices=NAME)` must be one of them."""

    def fail(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.problems.append(Problem(_line(node) if node is not None else 0, path, message))

    def build(self, tp: Any, node: yaml.Node, path: str) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            is_null = isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")
            if is_null and type(None) in get_args(tp):
                return None
            return (
                self.build(options[0], node, path) if len(options) == 1 else self._union(options, node, path)
            )
        if origin is Literal:
            return self._literal(get_args(tp), node, path)
        if origin is tuple:
            return self._tuple(get_args(tp)[0], node, path)
        if origin in (Mapping, dict, typing.Mapping):
            return self._mapping(get_args(tp)[1], node, path)
        if tp is LocalText:
            return self._local_text(node, path)
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self._dataclass(tp, node, path)
        if tp in (str, int, bool, float):
            return self._scalar(tp, node, path)
        raise TypeError(f"schema type not supported: {tp!r}")

    def _union(self, options: list[Any], node: yaml.Node, path: str) -> Any:
        before = len(self.problems)
        for option in options:
            value = self.build(option, node, path)
            if len(self.problems) == before:
                return value
            del self.problems[before:]
        self.fail(node, path, f"has the wrong form (got {_describe(node)})")
        return None

    def _scalar(self, tp: type, node: yaml.Node, path: str) -> Any:
        names = {str: "a text", int: "a whole number", bool: "true or false", float: "a number"}
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            self.fail(node, path, f"must be {names[tp]} (got {_describe(node)})")
            return tp()
        value = _constructor.construct_object(node)
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if tp is str and isinstance(value, int | float) and not isinstance(value, bool):
            value = node.value  # ids such as Discord snowflakes may be written unquoted
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            self.fail(node, path, f"must be {names[tp]} (got {_describe(node)})")
            return tp()
        return value

    def _literal(self, choices: tuple[Any, ...], node: yaml.Node, path: str) -> Any:
        value = _constructor.construct_object(node) if isinstance(node, yaml.ScalarNode) else None
        if value not in choices:
            options = ", ".join(str(c) for c in choices)
            self.fail(node, path, f"must be one of {options} (got {_describe(node)})")
            return choices[0]
        return value

    def _tuple(self, item: Any, node: yaml.Node, path: str) -> tuple[Any, ...]:
        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            return (self.build(item, node, f"{path}[0]"),)  # a single value stands for a one-item list
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode):
                return ()
            self.fail(node, path, f"must be a list (got {_describe(node)})")
            return ()
        return tuple(self.build(item, child, f"{path}[{i}]") for i, child in enumerate(node.value))

    def _pairs(self, node: yaml.Node, path: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, path, f"must be a mapping of names to values (got {_describe(node)})")
            return []
        seen: set[str] = set()
        pairs = []
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                self.fail(key_node, f"{path}.{key}" if path else key, "is given twice")
                continue
            seen.add(key)
            pairs.append((key, key_node, value_node))
        return pairs

    def _mapping(self, item: Any, node: yaml.Node, path: str) -> dict[str, Any]:
        return {
            key: self.build(item, value, f"{path}.{key}" if path else key)
            for key, _k, value in self._pairs(node, path)
        }

    def _local_text(self, node: yaml.Node, path: str) -> LocalText:
        if isinstance(node, yaml.ScalarNode):
            return LocalText({"en": self._scalar(str, node, path)})
        texts: dict[str, str] = {}
        for lang, key_node, value in self._pairs(node, path):
            if not _LANG.match(lang):
                self.fail(key_node, f"{path}.{lang}", "is not a language code such as en or ko")
                continue
            texts[lang] = self._scalar(str, value, f"{path}.{lang}")
        if not texts:
            self.fail(node, path, "needs at least one language")
        return LocalText(texts)

    def _dataclass(self, cls: type[T], node: yaml.Node, path: str) -> T:
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        pairs = self._pairs(node, path)
        if not isinstance(node, yaml.MappingNode):
            return _defaults_or_blank(cls, fields, hints)
        for key, key_node, value_node in pairs:
            sub = f"{path}.{key}" if path else key
            if key not in fields:
                known = ", ".join(sorted(fields))
                self.fail(key_node, sub, f"is not a known setting (known here: {known})")
                continue
            values[key] = self.build(hints[key], value_node, sub)
            allowed = self.choices.get(str(fields[key].metadata.get("choices", "")))
            if allowed is not None and values[key] not in allowed:
                self.fail(
                    value_node, sub, f"must be one of {', '.join(allowed)} (got {_describe(value_node)})"
                )
        for name, f in fields.items():
            if name in values:
                continue
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(node, f"{path}.{name}" if path else name, "is required")
                values[name] = _blank(hints[name])
        values.update(_line_fields(cls, node))
        return cls(**values)


def _line_fields(cls: type, node: yaml.Node) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {"line": _line(node)} if "line" in names else {}


def _blank(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return None
    if origin is Literal:
        return get_args(tp)[0]
    if origin is tuple:
        return ()
    if origin in (Mapping, dict):
        return {}
    if tp is LocalText:
        return LocalText({"en": ""})
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        return _defaults_or_blank(tp, fields, hints)
    return tp()


def _defaults_or_blank(cls: type[T], fields: dict[str, dataclasses.Field[Any]], hints: dict[str, Any]) -> T:
    values = {
        name: _blank(hints[name])
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return cls(**values)


MAX_DEPTH = 32
"""Deepest nesting of lists and mappings accepted (rules.yaml needs 7)."""
MAX_NODES = 200_000
"""Most values accepted once aliases are expanded (a "billion laughs" file has billions)."""


def parse_yaml(text: str, filename: str) -> yaml.Node:
    """Compose (not construct) so every value keeps its line number.

    Nesting deeper than MAX_DEPTH, and aliases expanding past MAX_NODES values, are refused."""
    try:
        too_deep = yaml_read.nesting_depth_over(text, MAX_DEPTH)
        if too_deep is not None:
            message = f"nests lists and mappings more than {MAX_DEPTH} levels deep"
            raise SchemaError(filename, [Problem(too_deep, "", message)])
        node = yaml_read.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark else 0
        raise SchemaError(filename, [Problem(line, "", f"is not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise SchemaError(filename, [Problem(0, "", f"is not valid YAML: {exc}")]) from exc
    except RecursionError:
        raise SchemaError(filename, [Problem(0, "", "nests too deeply to be read")]) from None
    if node is None:
        raise SchemaError(filename, [Problem(0, "", "is empty")])
    size = _expanded_size(node, {})
    if size > MAX_NODES:
        raise SchemaError(
            filename,
            [Problem(0, "", f"expands to more than {MAX_NODES:,} values through its aliases (*name)")],
        )
    return node


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_NODES + 1  # a node reached again while being counted: an alias cycle
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[id(node)] = min(size, MAX_NODES + 1)
    return memo[id(node)]


def node_lines(node: yaml.Node, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """Each value's path (as problems name it: `steps[3].answer_pattern`) -> its line."""
    out = {} if out is None else out
    out.setdefault(path, _line(node))
    if isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            node_lines(child, f"{path}[{i}]", out)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            node_lines(value, sub, out)
    return out


def field_docs(
    cls: type, choices: Mapping[str, tuple[str, ...]] | None = None
) -> list[tuple[str, str, str, str]]:
    """(name, type, default, doc) for each documented field: the source of docs/rules.md."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("internal"):
            continue
        if f.default is not dataclasses.MISSING:
            default = _show_default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = _show_default(f.default_factory())
        else:
            default = "required"
        allowed = (choices or {}).get(str(f.metadata.get("choices", "")))
        shown = " | ".join(allowed) if allowed is not None else type_name(hints[f.name])
        rows.append((f.name, shown, default, str(f.metadata.get("doc", ""))))
    return rows


def _show_default(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        return "(see below)"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{}" if not value else str(dict(value))
    return str(value)


def type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in get_args(tp) if a is not type(None)) + " (optional)"
    if origin is Literal:
        return " | ".join(str(a) for a in get_args(tp))
    if origin is tuple:
        return f"list of {type_name(get_args(tp)[0])}"
    if origin in (Mapping, dict):
        return f"mapping of name to {type_name(get_args(tp)[1])}"
    if tp is LocalText:
        return "text (per language)"
    names: dict[Any, str] = {str: "text", int: "whole number", bool: "true/false", float: "number"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))
