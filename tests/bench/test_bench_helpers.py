"""The benchmarks' arithmetic and table: summaries, spread transition times, rows. No timings."""

from __future__ import annotations

import pytest

from benchmarks.lifecycle import StepTiming
from benchmarks.stats import Summary, ratio_of_medians, spread
from benchmarks.table import MET, MISSED, Row, render, verdict


def test_summary_gives_median_spread_and_count() -> None:
    summary = Summary.of([5.0, 1.0, 3.0, 2.0, 4.0])

    assert (summary.median, summary.low, summary.high, summary.n) == (3.0, 1.0, 5.0, 5)
    assert 4.0 <= summary.p90 <= 5.0
    assert summary.describe("s", 1) == f"3.0 s (p90 {summary.p90:.1f}, 1.0-5.0, n=5)"


def test_summary_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        Summary.of([])


def test_scaled_summary_changes_units_not_count() -> None:
    assert Summary.of([2.0, 4.0, 6.0]).scaled(0.5) == Summary.of([1.0, 2.0, 3.0])


def test_ratio_of_medians() -> None:
    assert ratio_of_medians([2.0, 4.0, 100.0], [1.0, 2.0, 3.0]) == 2.0


def test_spread_covers_the_range_without_repeating_and_scrambles_the_order() -> None:
    values = spread(8, 1.0, 21.0)

    assert len(set(values)) == 8
    assert all(1.0 <= value < 21.0 for value in values)
    assert max(values) - min(values) > 15.0  # covers most of the range
    assert values != sorted(values)  # neighbours are far apart


def test_step_delay_is_answer_minus_the_moment_the_endpoint_settled() -> None:
    step = StepTiming("ep-1", "Create", transition_seconds=10.0, started_at=100.0, settled_at=110.0,
                      answered_at=112.5)

    assert step.delay == 2.5


def test_render_makes_a_markdown_table_and_escapes_pipes() -> None:
    table = render([Row("1a delay", "Create", "2.0 s", "< 5 s", verdict(True)),
                    Row("3 size", "zip | deflate", "22 KiB")])

    lines = table.splitlines()
    assert lines[0] == "| Benchmark | Measure | Result | Target | Verdict |"
    assert lines[2] == f"| 1a delay | Create | 2.0 s | < 5 s | {MET} |"
    assert lines[3] == "| 3 size | zip \\| deflate | 22 KiB | - | - |"
    assert verdict(False) == MISSED
