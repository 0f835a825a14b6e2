"""The results table: one row per figure, with its target and whether the figure meets it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MET, MISSED = "met", "MISSED"


@dataclass(frozen=True)
class Row:
    """One figure. `verdict` is MET, MISSED or "" when the figure has no target."""

    benchmark: str
    measure: str
    result: str
    target: str = ""
    verdict: str = ""


def verdict(ok: bool) -> str:
    return MET if ok else MISSED


def render(rows: Sequence[Row]) -> str:
    """A markdown table of the rows."""
    lines = ["| Benchmark | Measure | Result | Target | Verdict |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [row.benchmark, row.measure, row.result, row.target or "-", row.verdict or "-"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
