"""One benchmark row's numbers: throughput and latency percentiles from raw samples."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(sorted_ms: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of an ascending list; NaN when empty."""
    if not sorted_ms:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


@dataclass
class RowResult:
    """What one row measured. Latencies in milliseconds, throughput in requests per second."""

    row: int
    name: str
    tool: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def from_samples(
        cls, row: int, name: str, tool: str, latencies_ms: list[float], errors: int, seconds: float
    ) -> RowResult:
        ordered = sorted(latencies_ms)
        return cls(
            row=row,
            name=name,
            tool=tool,
            requests=len(ordered),
            errors=errors,
            seconds=seconds,
            p50_ms=percentile(ordered, 50),
            p99_ms=percentile(ordered, 99),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rps"] = round(self.rps, 1)
        return data
