"""Summaries of repeated measurements: median, spread and count, never a single sample."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Median, 90th percentile, minimum and maximum of n samples."""

    median: float
    p90: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        if not samples:
            raise ValueError("no samples to summarise")
        ordered = sorted(samples)
        p90 = statistics.quantiles(ordered, n=10, method="inclusive")[-1] if len(ordered) > 1 else ordered[0]
        return cls(statistics.median(ordered), p90, ordered[0], ordered[-1], len(ordered))

    def scaled(self, factor: float) -> Summary:
        """The same summary in other units (every figure multiplied by factor)."""
        return Summary(self.median * factor, self.p90 * factor, self.low * factor, self.high * factor, self.n)

    def describe(self, unit: str = "", digits: int = 2) -> str:
        """e.g. "1.23 s (p90 2.00, 0.10-2.50, n=8)"."""
        def shown(value: float) -> str:
            return f"{value:.{digits}f}"
        suffix = f" {unit}" if unit else ""
        return (f"{shown(self.median)}{suffix} (p90 {shown(self.p90)}, "
                f"{shown(self.low)}-{shown(self.high)}, n={self.n})")


def ratio_of_medians(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """median(numerator) / median(denominator)."""
    return statistics.median(numerator) / statistics.median(denominator)


def spread(count: int, low: float, high: float) -> list[float]:
    """`count` values spread evenly over [low, high) in a scrambled order (golden-ratio sequence),
    so that consecutive values are far apart and every phase of a periodic schedule is hit."""
    golden = (5 ** 0.5 - 1) / 2
    return [low + (high - low) * ((index * golden) % 1.0) for index in range(count)]
