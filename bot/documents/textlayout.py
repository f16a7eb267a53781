"""Lines rebuilt from positioned text: the "layout" reading of a page.

pypdf's plain extraction follows the order in which the producer drew the text. Producers draw in
their own order: all labels then all values (a filled-in form), table cells column by column, a page
backwards. Sorting the text runs by their position on the page and grouping those on one baseline gives
the lines a reader sees. Runs that follow each other in the stream keep pypdf's own spacing; runs
brought together by position are joined with a space.

Loaded by the sandboxed worker by file path: standard library only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_FRAGMENTS = 50_000


@dataclass(frozen=True)
class Fragment:
    """One run of text: its index in the stream, origin (user space), effective font size, direction
    (quarter turns, 0 = left to right) and text."""

    index: int
    x: float
    y: float
    size: float
    turns: int
    text: str


def fragment(index: int, text: str, cm: Sequence[float], tm: Sequence[float], font_size: float) -> Fragment:
    """A Fragment from pypdf's visitor arguments (current matrix, text matrix, font size)."""
    a = tm[0] * cm[0] + tm[1] * cm[2]
    b = tm[0] * cm[1] + tm[1] * cm[3]
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    scale = math.hypot(a, b) or 1.0
    size = abs(font_size * scale) or 1.0
    turns = round(math.atan2(b, a) / (math.pi / 2)) % 4 if (a or b) else 0
    return Fragment(index, x, y, min(size, 500.0), turns, text)


def _reading_coords(frag: Fragment, turns: int) -> tuple[float, float]:
    """(along the text, up the page) for text turned `turns` quarter turns."""
    x, y = frag.x, frag.y
    if turns == 1:
        return y, -x
    if turns == 2:
        return -x, -y
    if turns == 3:
        return -y, x
    return x, y


def page_lines(fragments: Sequence[Fragment]) -> list[str]:
    """The page's lines, top to bottom, each left to right, in the page's main text direction (text in
    other directions follows, as its own lines)."""
    pieces: list[Fragment] = []
    for frag in fragments[:MAX_FRAGMENTS]:
        if "\n" in frag.text:
            for k, part in enumerate(frag.text.split("\n")):
                if part.strip():
                    y = frag.y - k * frag.size * 1.2
                    pieces.append(Fragment(frag.index, frag.x, y, frag.size, frag.turns, part))
        elif frag.text.strip():
            pieces.append(frag)
    if not pieces:
        return []
    weight = [0, 0, 0, 0]
    for frag in pieces:
        weight[frag.turns] += len(frag.text)
    order = sorted(range(4), key=lambda t: -weight[t])
    lines: list[str] = []
    for turns in order:
        group = [f for f in pieces if f.turns == turns]
        if group:
            lines.extend(_lines(group, turns))
    return lines


def _lines(group: Sequence[Fragment], turns: int) -> list[str]:
    placed = sorted(
        ((*_reading_coords(f, turns), f) for f in group), key=lambda item: (-item[1], item[0], item[2].index)
    )
    rows: list[list[tuple[float, Fragment]]] = []
    row_v = 0.0
    for u, v, frag in placed:
        tolerance = 0.45 * frag.size
        if rows and abs(v - row_v) <= tolerance:
            rows[-1].append((u, frag))
        else:
            rows.append([(u, frag)])
            row_v = v
    out = []
    for row in rows:
        row.sort(key=lambda item: (item[0], item[1].index))
        text = row[0][1].text
        for (prev_u, prev), (u, frag) in itertools.pairwise(row):
            # Without glyph widths, an average of half an em per character tells a gap from none.
            gap = u - (prev_u + len(prev.text) * prev.size * 0.5)
            follows = frag.index in (prev.index, prev.index + 1)
            if follows and gap < 0.3 * frag.size:
                text += frag.text  # drawn in this order, close together: pypdf's spacing is right
            elif text.endswith(" ") or frag.text.startswith(" "):
                text += frag.text
            else:
                text += " " + frag.text
        out.append(text.strip())
    return [line for line in out if line]
