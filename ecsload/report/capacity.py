"""The capacity of an arrival-rate sweep: the highest rate the service sustained, and why not more.

Going up the rates, a level *holds* when it meets the run's thresholds (any
`--fail-on` that applies to it) or, without thresholds, when under 1% of its
requests failed (dropped arrivals included) and its p99 stayed within 2x the
lowest rate's. The capacity is the last rate that held before the first that
did not: a rate that holds again above a broken one is not counted on, since
it was not sustained on the way up. summary.json's `capacity`:

    rate           the capacity (requests/s), null when even the lowest rate broke
    broken_at      the first rate that did not hold, null when all held
    why            what broke there, in words (saying so when the generator was behind
                   its schedule there: then the limit may be the generator's)
    text           the line printed under the table across levels
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ecsload.report.tables import percent
from ecsload.report.thresholds import check_thresholds, failure_text

MAX_ERROR_PERCENT = 1.0
MAX_P99_RATIO = 2.0


def broken(
    level: Mapping[str, Any], lowest_p99: float | None, thresholds: Sequence[str]
) -> str | None:
    """Why `level` did not hold, or None when it held."""
    if thresholds:
        checks = check_thresholds(thresholds, [level])["thresholds"]
        failed = [check for check in checks if not check["passed"]]
        return "; ".join(f"{c['expr']} {failure_text(c)}" for c in failed) or None
    figures = level.get("all")
    if not figures or not level["requests"]:
        return "nothing was measured"
    errors = percent(figures["error"], level["requests"])
    if errors >= MAX_ERROR_PERCENT:
        dropped = f", {level['dropped']} dropped" if level.get("dropped") else ""
        return f"{errors:.1f}% errors{dropped} (limit {MAX_ERROR_PERCENT:g}%)"
    p99 = figures.get("p99")
    if p99 is None:
        return "no answer"
    if lowest_p99 and p99 > MAX_P99_RATIO * lowest_p99:
        return f"p99 {p99:.1f} ms, over {MAX_P99_RATIO:g}x the lowest rate's ({lowest_p99:.1f} ms)"
    return None


def capacity(levels: Sequence[Mapping[str, Any]], thresholds: Sequence[str]) -> dict[str, Any]:
    """summary.json's `capacity` of an arrival-rate sweep's levels, in rate order."""
    lowest_p99 = (levels[0].get("all") or {}).get("p99") if levels else None
    rule = "the thresholds" if thresholds else "errors under 1% and p99 within 2x the lowest rate's"
    held = None
    for level in levels:
        why = broken(level, lowest_p99, thresholds)
        late = level.get("lateness") or {}
        if why is not None and late.get("behind"):
            why += (
                f" (the generator was behind too, its sends' lateness p99 {late['p99']:.1f} ms: "
                "the limit may be the generator's)"
            )
        if why is not None:
            at = f"{level['rate']:g}/s"
            text = (
                f"Capacity: {held['rate']:g} requests/s ({rule}); {at} broke it: {why}"
                if held
                else f"Capacity: below the lowest rate: {at} broke {rule}: {why}"
            )
            return {
                "rate": held["rate"] if held else None,
                "broken_at": level["rate"],
                "why": why,
                "text": text,
            }
        held = level
    assert held is not None
    return {
        "rate": held["rate"],
        "broken_at": None,
        "why": None,
        "text": f"Capacity: at least {held['rate']:g} requests/s, the highest rate measured "
        f"({rule}): try higher rates",
    }
