"""Change points over the history's series: one series per (level, request type, figure)
of a target's runs, judged by Apache Otava's E-Divisive variant (`otava.analysis`).

Otava splits each series in sliding windows (E-Divisive, Matteson and James) and
keeps a change only where a t-test between the runs before and after it gives a
p-value under MAX_P_VALUE. Why Otava and these settings: docs/history.md.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ecsload.history.schema import ALL_TYPES
from ecsload.history.store import StoredRun

MAX_P_VALUE = 0.001
WINDOW_RUNS = 30
MIN_RUNS = 5  # a shorter series has no change point worth naming
# The figures judged, and whether a rise is worse (latency, errors) or better (rates).
RISE_IS_WORSE = {
    "p50": True,
    "p95": True,
    "p99": True,
    "error_percent": True,
    "rps": False,
    "goodput": False,
}


@dataclass(frozen=True)
class ChangePoint:
    """The run at which a series changed, what changed, by how much, how sure."""

    run_id: int
    label: str
    created: str
    users: int
    type: str
    figure: str
    before: float  # mean of the runs before it (since the previous change)
    after: float  # mean from it on (to the next change)
    change_percent: float | None  # None from a mean of 0 (errors appearing): no percentage
    direction: str  # "slower" or "faster" (for rates: lower is slower)
    p_value: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def short(self) -> str:
        where = f"{self.figure}@{self.users}" + ("" if self.type == ALL_TYPES else f" {self.type}")
        if self.change_percent is None:
            return f"{where} from {self.before:g} to {self.after:g} {self.direction}"
        return f"{where} {self.change_percent:+.0f}% {self.direction}"


def figure_of(figures: dict[str, Any], figure: str) -> float | None:
    if figure == "error_percent":
        requests = figures.get("requests") or 0
        return 100.0 * figures["errors"] / requests if requests else None
    value = figures.get(figure)
    return float(value) if value is not None else None


def series_of(
    runs: Sequence[StoredRun], users: int, name: str, figure: str
) -> tuple[list[StoredRun], list[float]]:
    """The runs that have the figure, and its values, in run order."""
    kept, values = [], []
    for run in runs:
        figures = run.levels.get(users, {}).get(name)
        value = figure_of(figures, figure) if figures else None
        if value is not None and math.isfinite(value):
            kept.append(run)
            values.append(value)
    return kept, values


def series_changes(
    runs: Sequence[StoredRun], users: int, name: str, figure: str
) -> list[ChangePoint]:
    kept, values = series_of(runs, users, name, figure)
    if len(kept) < MIN_RUNS or max(values) == min(values):
        return []
    # Imported here: Otava brings SciPy's stats, most of a second that every run's
    # `history append` would pay, and only `history` looks for change points.
    from otava.analysis import compute_change_points

    found, _ = compute_change_points(values, window_len=WINDOW_RUNS, max_pvalue=MAX_P_VALUE)
    changes = []
    for point in found:
        stats = point.stats
        before, after = float(stats.mean_1), float(stats.mean_2)
        change = round(100.0 * (after / before - 1), 1) if before else None
        worse = (after > before) == RISE_IS_WORSE[figure]
        run = kept[point.index]
        changes.append(
            ChangePoint(
                run_id=run.id,
                label=run.label,
                created=run.created,
                users=users,
                type=name,
                figure=figure,
                before=round(before, 3),
                after=round(after, 3),
                change_percent=change,
                direction="slower" if worse else "faster",
                p_value=float(stats.pvalue),
            )
        )
    return changes


def change_points(
    runs: Sequence[StoredRun],
    levels: Iterable[int] | None = None,
    types: Iterable[str] | None = None,
    figures: Iterable[str] = tuple(RISE_IS_WORSE),
) -> list[ChangePoint]:
    """Every change point of the runs' series (oldest run first), in run order."""
    wanted_levels = set(levels) if levels is not None else None
    wanted_types = set(types) if types is not None else None
    series = sorted(
        {
            (users, name)
            for run in runs
            for users, by_type in run.levels.items()
            for name in by_type
            if (wanted_levels is None or users in wanted_levels)
            and (wanted_types is None or name in wanted_types)
        }
    )
    order = {run.id: i for i, run in enumerate(runs)}
    found = [
        change
        for users, name in series
        for figure in figures
        for change in series_changes(runs, users, name, figure)
    ]
    return sorted(found, key=lambda c: (order[c.run_id], c.users, c.type, c.figure))
