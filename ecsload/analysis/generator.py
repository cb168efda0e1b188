"""When the load generator itself is too busy to trust its latencies: one threshold, one reading.

The tables' warning, the saturation verdict, the charts' line and the comparison's
note all use these, so they never disagree about when a Locust process was busy.
"""

from collections.abc import Mapping
from typing import Any

GENERATOR_BUSY_PERCENT = 85  # a Locust process above this queues requests itself


def generator_busy(level: Mapping[str, Any]) -> float | None:
    """The busiest Locust process's share of the measured phase: CPU or busy, the higher."""
    generator = level.get("generator") or {}
    known = [generator.get(key) for key in ("cpu_percent_max", "busy_percent_max")]
    return max((value for value in known if value is not None), default=None)
