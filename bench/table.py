"""The one table every benchmark prints: measure | value | goal | ratio.

A goal is a bound on the value (`≤ 150 MB`, `< 50 ms`, `= 0`); the ratio is value / bound, so a
ratio ≤ 1 (or < 1 for a strict bound) means the goal is met. Rows without a goal (context, such as a
store size per request) leave goal and ratio empty.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

_BOUNDS: Final[dict[str, Callable[[float, float], bool]]] = {
    "≤": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}


@dataclass(frozen=True, slots=True)
class Row:
    measure: str
    value: float
    unit: str = ""
    bound: str = ""  # "≤", "<", "=" or "" (no goal)
    goal: float | None = None
    digits: int = 0

    @property
    def met(self) -> bool | None:
        if not self.bound or self.goal is None:
            return None
        return _BOUNDS[self.bound](self.value, self.goal)

    def cells(self) -> tuple[str, str, str, str]:
        unit = f" {self.unit}" if self.unit else ""
        value = f"{self.value:.{self.digits}f}{unit}"
        if not self.bound or self.goal is None:
            return self.measure, value, "", ""
        goal = f"{self.bound} {self.goal:g}{unit}"
        if self.goal == 0:
            ratio = "met" if self.met else "missed"
        else:
            ratio = f"{self.value / self.goal:.2f}" + ("" if self.met else " (missed)")
        return self.measure, value, goal, ratio


def render(rows: Iterable[Row]) -> str:
    """A Markdown table of the rows, columns padded to line up in a terminal too."""
    table = [("measure", "value", "goal", "ratio"), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    out = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        for line in table
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
