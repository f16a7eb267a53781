"""docs/rules.md's field reference, generated from the schema dataclasses so it cannot drift.

    python -m bot.rules_doc          rewrite the generated part of docs/rules.md
A test fails when the file and the schema differ.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from bot.rules import Rules
from bot.rules_loader import CHOICES
from bot.schema import LocalText, field_docs

START = "<!-- generated from bot/rules.py: do not edit by hand; run python -m bot.rules_doc -->"
END = "<!-- end of generated reference -->"
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def _nested(tp: Any) -> list[type]:
    found: list[type] = []
    for arg in (tp, *get_args(tp), *(a for inner in get_args(tp) for a in get_args(inner))):
        if arg is LocalText:
            continue  # documented once, as a value type, not as a section
        if dataclasses.is_dataclass(arg) and isinstance(arg, type) and get_origin(arg) is None:
            found.append(arg)
    return found


def _sections(root: type, path: str, seen: set[type], out: list[tuple[str, type]]) -> None:
    if root in seen:
        return
    seen.add(root)
    out.append((path, root))
    hints = typing.get_type_hints(root)
    for f in dataclasses.fields(root):
        if f.metadata.get("internal"):
            continue
        for child in _nested(hints[f.name]):
            origin = get_origin(hints[f.name])
            suffix = (
                "[]"
                if origin is tuple
                else (".NAME" if origin is not None and "Mapping" in str(origin) else "")
            )
            _sections(child, f"{path}.{f.name}{suffix}" if path else f"{f.name}{suffix}", seen, out)


def reference() -> str:
    sections: list[tuple[str, type]] = []
    _sections(Rules, "", set(), sections)
    lines = [START, ""]
    for path, cls in sections:
        lines.append(f"### `{path or '(top level)'}`")
        lines.append("")
        doc = (cls.__doc__ or "").strip()
        if doc and not doc.startswith(cls.__name__ + "("):
            lines += [doc, ""]
        lines.append("| field | type | default | meaning |")
        lines.append("|---|---|---|---|")
        for name, type_name, default, text in field_docs(cls, CHOICES):
            cells = (type_name, default, text)
            type_cell, default_cell, text_cell = (c.replace("|", "&#124;") for c in cells)
            lines.append(f"| `{name}` | {type_cell} | {default_cell} | {text_cell} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def render(current: str) -> str:
    """The document with its generated part replaced (the hand-written parts are kept)."""
    if START in current and END in current:
        before = current.split(START, 1)[0]
        after = current.split(END, 1)[1]
        return before + reference() + after
    return current.rstrip("\n") + "\n\n" + reference() + "\n"


def main() -> int:
    current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    DOC_PATH.write_text(render(current), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
