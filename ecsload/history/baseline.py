"""Stored runs as a comparison's baseline: `last`, `label:X`, `history[:N]`.

The adapter from the history to what the comparison consumes
(ecsload.report.comparison: measured latencies and error counts by level and
request type, and the Rule's run noise). With several runs, their decoded
histograms are pooled, and the run noise is measured from the history itself:
the between-run standard deviation of log p50 of each level and type, the
median over them (at least MIN_NOISE_RUNS runs; fewer keep the assumed noise).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median, stdev
from typing import Any

import numpy as np

from ecsload.history import histograms, store
from ecsload.history.schema import ALL_TYPES
from ecsload.history_location import Reference, without_secret
from ecsload.report.baseline import BaselineError, check_common_levels
from ecsload.report.comparison.pooled import TypeSamples

MIN_NOISE_RUNS = 3


@dataclass
class StoredBaseline:
    """The comparison's inputs from stored runs."""

    runs: list[store.StoredRun]
    samples: dict[int, dict[str, TypeSamples]]
    run_noise_percent: float | None  # measured between the runs; None: too few runs
    levels: list[dict[str, Any]]  # summary.json-like levels, for the generator's note

    def description(self, location: str) -> str:
        first, last = self.runs[0], self.runs[-1]
        labels = f", label {last.label}" if len(self.runs) == 1 and last.label else ""
        if len(self.runs) == 1:
            return f"history {without_secret(location)}: run {last.id} of {last.created}{labels}"
        noise = (
            f"run noise {self.run_noise_percent:.0f}% measured between them"
            if self.run_noise_percent is not None
            else f"under {MIN_NOISE_RUNS} runs with a p50: the assumed run noise"
        )
        return (
            f"history {without_secret(location)}: {len(self.runs)} runs {first.created} … "
            f"{last.created} "
            f"pooled ({noise})"
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


def check_stored_baseline(
    location: str, target: str, reference: Reference, this_run: tuple[str, Sequence[int]]
) -> list[store.StoredRun]:
    """The stored runs a reference names when they fit this run (`this_run`: its model,
    "closed" or "open", and its level keys): checked by the plan before the first level.
    NoStoredRun when there is none; a BaselineError when they are of the other kind of level
    or have no level in common."""
    runs = chosen_runs(location, target, reference)
    for run in runs:
        models = set(run.models.values()) or {"closed"}
        model = "open" if "open" in models else "closed"
        try:
            check_common_levels((model, list(run.levels)), this_run)
        except BaselineError as error:
            raise BaselineError(f"run {run.id} of {run.created}: {error}") from None
    return runs


def between_run_noise(runs: Sequence[store.StoredRun]) -> float | None:
    """The median over (level, type) of the between-run SD of log p50, in percent."""
    if len(runs) < MIN_NOISE_RUNS:
        return None
    series: dict[tuple[int, str], list[float]] = {}
    for run in runs:
        for users, types in run.levels.items():
            for name, figures in types.items():
                if name != ALL_TYPES and figures.get("p50"):
                    series.setdefault((users, name), []).append(math.log(figures["p50"]))
    spreads = [stdev(values) for values in series.values() if len(values) >= MIN_NOISE_RUNS]
    return round(100 * median(spreads), 1) if spreads else None


def pooled_samples(
    runs: Sequence[store.StoredRun], encoded: Mapping[int, Mapping[int, Mapping[str, bytes]]]
) -> dict[int, dict[str, TypeSamples]]:
    """Each level's and type's latencies of all the runs together, and their errors."""
    values: dict[int, dict[str, list[np.ndarray]]] = {}
    errors: dict[int, dict[str, int]] = {}
    requests: dict[int, dict[str, int]] = {}
    for run in runs:
        for users, types in (encoded.get(run.id) or {}).items():
            for name, histogram in types.items():
                if name == ALL_TYPES:
                    continue
                values.setdefault(users, {}).setdefault(name, []).append(
                    histograms.decode(histogram)
                )
                stored = run.levels.get(users, {}).get(name) or {}
                for total, key in ((errors, "errors"), (requests, "requests")):
                    counts = total.setdefault(users, {})
                    counts[name] = counts.get(name, 0) + int(stored.get(key) or 0)
    pooled: dict[int, dict[str, TypeSamples]] = {}
    for users, latencies in values.items():
        pooled[users] = {}
        for name, arrays in latencies.items():
            answered = np.concatenate(arrays)  # histograms hold answered requests only
            no_answer = max(0, requests[users][name] - len(answered))
            pooled[users][name] = TypeSamples(answered, errors[users][name], no_answer)
    return pooled


def stored_baseline(location: str, target: str, reference: Reference) -> StoredBaseline:
    runs = chosen_runs(location, target, reference)
    with store.transaction(location, create=False) as connection:
        encoded = store.histograms(connection, [run.id for run in runs])
    samples = pooled_samples(runs, encoded)
    if not samples:
        raise store.HistoryError(
            f"history {without_secret(location)}: {reference.describe()} of "
            f"{target or 'the local ECS node'} "
            "has no stored histograms to compare with"
        )
    shares: dict[int, float] = {}
    for run in runs:
        for users, share in run.generator_share.items():
            if share is not None:
                shares[users] = max(share, shares.get(users, 0.0))
    levels = [
        {"users": users, "generator": {"cpu_percent_max": share}}
        for users, share in sorted(shares.items())
    ]
    return StoredBaseline(runs, samples, between_run_noise(runs), levels)
