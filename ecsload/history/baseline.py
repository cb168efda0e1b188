"""Stored runs as a comparison's baseline (`last`, `label:X`, `history[:N]`), and the drift
between runs that a run measured once is judged against, for every baseline source.

The adapter from the history to what the comparison consumes
(ecsload.analysis.comparison): each level's measured samples, decoded from the
windows the history stores (ecsload.history.windows), so a stored run is judged exactly
as its folder would be. With several runs, each run's repeats are repeats of the
baseline (the drift between them is in its spread).

The drift floor: the standard deviation, between the stored runs of the target (the last
DRIFT_RUNS, of the same kind of level), of each figure of each level and type (log scale;
points for the error share), the median over those series, per figure (p99's drift from
p99). With under MIN_DRIFT_RUNS runs the comparison keeps its documented default.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median, stdev
from typing import Any

from ecsload.analysis.baseline import BaselineError, check_common_levels
from ecsload.analysis.samples import Samples
from ecsload.history import store, windows
from ecsload.history.schema import ALL_TYPES
from ecsload.history_location import DEFAULT_HISTORY_RUNS, Reference, without_secret
from ecsload.vocabulary import HEADLINE_KEYS

MIN_DRIFT_RUNS = 3
DRIFT_RUNS = DEFAULT_HISTORY_RUNS
LOG_FIGURES = (*HEADLINE_KEYS, "goodput")


@dataclass
class StoredBaseline:
    """The comparison's inputs from stored runs."""

    runs: list[store.StoredRun]
    samples: dict[int, Samples]
    levels: list[dict[str, Any]]  # summary.json-like levels, for the generator's and the
    # other sweeps' notes

    def description(self, location: str) -> str:
        first, last = self.runs[0], self.runs[-1]
        labels = f", label {last.label}" if len(self.runs) == 1 and last.label else ""
        if len(self.runs) == 1:
            return f"history {without_secret(location)}: run {last.id} of {last.created}{labels}"
        return (
            f"history {without_secret(location)}: {len(self.runs)} runs {first.created} … "
            f"{last.created}, their repeats pooled"
        )


def chosen_runs(location: str, target: str, reference: Reference) -> list[store.StoredRun]:
    """The stored runs a reference names; HistoryError when there is none."""
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, target, last=reference.runs, label=reference.label)
    if not runs:
        where = target or "the local ECS node"
        raise store.NoStoredRun(
            f"history {without_secret(location)}: it has no run of {where} for --baseline "
            f"{reference.text} ({reference.describe()}): run once without it first"
        )
    return runs


def model_of(run: store.StoredRun) -> str:
    return "open" if "open" in run.models.values() else "closed"


def check_stored_baseline(
    location: str, target: str, reference: Reference, this_run: tuple[str, Sequence[int]]
) -> list[store.StoredRun]:
    """The stored runs a reference names when they fit this run (`this_run`: its model,
    "closed" or "open", and its level keys): checked by the plan before the first level.
    NoStoredRun when there is none; a BaselineError when one is of the other kind of
    level, has no level in common, or was stored without its windows (an older ecs-load)."""
    runs = chosen_runs(location, target, reference)
    with store.transaction(location, create=False) as connection:
        stored = store.level_windows(connection, [run.id for run in runs])
    for run in runs:
        try:
            check_common_levels((model_of(run), list(run.levels)), this_run)
        except BaselineError as error:
            raise BaselineError(f"run {run.id} of {run.created}: {error}") from None
        if not stored.get(run.id):
            raise BaselineError(
                f"run {run.id} of {run.created} was stored by an older ecs-load, without the "
                "time windows a comparison reads: record a new run first (or give its folder)"
            )
    return runs


def stored_baseline(location: str, target: str, reference: Reference) -> StoredBaseline:
    """The stored runs a reference names, their levels decoded and pooled; a HistoryError
    or BaselineError when they cannot be."""
    runs = chosen_runs(location, target, reference)
    with store.transaction(location, create=False) as connection:
        stored = store.level_windows(connection, [run.id for run in runs])
    by_level: dict[int, list[Samples]] = {}
    for run in runs:
        for key, encoded in sorted((stored.get(run.id) or {}).items()):
            try:
                by_level.setdefault(key, []).append(windows.decode(encoded))
            except windows.WindowsError as error:
                raise BaselineError(f"run {run.id} of {run.created}: {error}") from None
    if not by_level:
        raise BaselineError(
            f"{reference.describe()} of {target or 'the local ECS node'} has no stored windows "
            "to compare with (stored by an older ecs-load): record a new run first"
        )
    shares: dict[int, float] = {}
    beside: dict[int, int] = {}  # the most other sweeps a stored run saw at the level
    for run in runs:
        for key, share in run.generator_share.items():
            if share is not None:
                shares[key] = max(share, shares.get(key, 0.0))
        for key, count in run.other_sweeps.items():
            beside[key] = max(count or 0, beside.get(key, 0))
    levels = [  # summary.json-like, for the comparison's notes: each other sweep unnamed
        {
            "users": key,
            "generator": {"cpu_percent_max": shares.get(key)},
            "other_sweeps": [{"pid": None, "run": None, "started": None}] * beside.get(key, 0),
        }
        for key in sorted(shares.keys() | beside.keys())
    ]
    samples = {key: windows.pooled(parts) for key, parts in by_level.items()}
    return StoredBaseline(runs, samples, levels)


def figure_series(runs: Sequence[store.StoredRun]) -> dict[str, list[list[float]]]:
    """Each figure's values run after run, one series per level and type (ALL_TYPES for
    goodput and the error share); latencies and goodput as logs."""
    series: dict[tuple[str, int, str], list[float]] = {}
    for run in runs:
        for key, types in run.levels.items():
            for name, figures in types.items():
                wanted = LOG_FIGURES if name == ALL_TYPES else LOG_FIGURES[:3]
                for figure in wanted:
                    value = figures.get(figure)
                    if value is not None and value > 0:
                        series.setdefault((figure, key, name), []).append(math.log(value))
                if name == ALL_TYPES and figures.get("requests"):
                    share = 100 * figures["errors"] / figures["requests"]
                    series.setdefault(("error_percent", key, name), []).append(share)
    found: dict[str, list[list[float]]] = {}
    for (figure, _, _), values in series.items():
        found.setdefault(figure, []).append(values)
    return found


def drift_between(runs: Sequence[store.StoredRun]) -> dict[str, float]:
    """Per figure, the median over levels and types of its SD between the runs: percent
    (exp of the log's SD, less one) or points; a figure with no series of MIN_DRIFT_RUNS
    values is left out."""
    drift = {}
    for figure, all_series in figure_series(runs).items():
        spreads = [stdev(values) for values in all_series if len(values) >= MIN_DRIFT_RUNS]
        if spreads:
            middle = median(spreads)
            drift[figure] = 100 * math.expm1(middle) if figure in LOG_FIGURES else middle
    return drift


def measured_drift(
    location: str, target: str, model: str, defaults: Mapping[str, float]
) -> tuple[dict[str, float], str]:
    """The drift floor per figure and where it comes from: measured between the last
    DRIFT_RUNS stored runs of the target of this kind of level when there are
    MIN_DRIFT_RUNS or more, else `defaults`."""
    try:
        with store.transaction(location, create=False) as connection:
            runs = store.run_rows(connection, target, last=DRIFT_RUNS)
    except store.HistoryError:
        runs = []
    runs = [run for run in runs if model_of(run) == model]
    measured = drift_between(runs) if len(runs) >= MIN_DRIFT_RUNS else {}
    if not measured:
        return dict(defaults), (
            "the default drift (measured on the development machine; under "
            f"{MIN_DRIFT_RUNS} stored runs of the target)"
        )
    return {**defaults, **measured}, f"the drift measured between {len(runs)} stored runs"
