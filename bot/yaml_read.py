"""YAML read through libyaml's C parser when PyYAML was built with it (the wheels are), else PyYAML's
pure-Python one: the same documents, the same nodes and marks, about twenty times faster. The bot
reads rules.yaml and its locale files at every start and reload, so this is start-up time."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BaseLoader: type[yaml.BaseLoader] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def safe_load(text: str) -> Any:
    """yaml.safe_load, in C when it can be."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


def base_load(text: str) -> Any:
    """Every scalar a string ("yes", "no", "on" stay words, not booleans), in C when it can be."""
    return yaml.load(text, Loader=BaseLoader)  # noqa: S506 - BaseLoader builds only strings, lists, maps


def nesting_depth_over(text: str, limit: int) -> int | None:
    """The line (1-based) where lists and mappings first nest deeper than `limit`, else None.

    Reads the parser's events, which never recurse, so a hostile file cannot exhaust the stack
    here; a composer (which recurses) is then only given documents known to be shallow."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > limit:
                    return int(event.start_mark.line) + 1 if event.start_mark else 0
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # libyaml looks ahead inside [ ] and { }, and stops itself at its own limit (1,000 levels)
        if "nesting depth" not in str(exc.problem):
            raise
        mark = exc.problem_mark or exc.context_mark
        return int(mark.line) + 1 if mark else 0
    return None


def compose(text: str) -> yaml.Node | None:
    """yaml.compose (every value keeps its line), in C when it can be."""
    return yaml.compose(text, Loader=SafeLoader)
