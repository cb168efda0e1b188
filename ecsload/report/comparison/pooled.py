"""A baseline from the history (issue 22) against this run: the rule for pooled latencies.

Stored runs keep each level's and type's latencies as histograms, without their times,
so the windows and repeats that ecsload.report.comparison.statistics measures its noise
from are not there. A history baseline is judged by this rule instead: a bootstrap of
the pooled samples, widened by a between-run noise that the history measures itself
from three or more stored runs (ecsload.history.baseline), else ASSUMED_RUN_NOISE_PERCENT.
The rest of this docstring is the rule as it was:

This run against a baseline run: level by level, type by type, slower / faster / same.

A percentile counts as changed only when its change is both beyond the tolerance
and meaningful, that is when the whole 95% interval of the change lies beyond
the tolerance band `max(tolerance * before, FLOOR_MS)`. The interval is SciPy's
bootstrap interval of the percentile difference on the two runs' measured samples,
widened by the between-run noise: two identical runs here differ far more than
their samples suggest (the machine, not the service), so each run's percentile is
taken to wobble by `run_noise * value` (a relative standard deviation measured
with repeated identical runs, bench/bench_false_alarms.py), and the tails by more
(TAIL_NOISE: p95 1.5 times, p99 twice as much). The two half-widths add in
quadrature. Errors count too: a type whose error share rose by more than
max(ERROR_FLOOR_POINTS, tolerance * before) points, by Fisher's exact test, is
slower. docs/verdicts.md tells how the defaults were measured.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from tabulate import tabulate

from ecsload.report.baseline import measured_samples, run_summary
from ecsload.report.comparison.text import not_compared_lines
from ecsload.report.stats import NO_ANSWER
from ecsload.report.tables import framed
from ecsload.setting_rows import DEFAULT_TOLERANCE_PERCENT

ASSUMED_RUN_NOISE_PERCENT = 20  # with under three stored runs and no --run-noise
COMPARED_PERCENTILES = (50, 95, 99)
TAIL_NOISE = (1.0, 1.5, 2.0)  # run_noise's multiple for each compared percentile
FLOOR_MS = 1.0  # a change under a millisecond is never a regression
ERROR_FLOOR_POINTS = 1.0  # percentage points of requests
MIN_SAMPLES = 10  # of a type in each run, for its percentiles to be compared
CONFIDENCE = 0.95
RESAMPLES = 999
SEED = 12  # the bootstrap's resamples: the same two runs always get the same verdicts
RESAMPLED_VALUES = 4_000_000  # per batch of resamples: bounds the bootstrap's memory
BOOTSTRAP_SAMPLES = 10_000  # of each run, at most: bounds the bootstrap's time
SLOWER, FASTER, SAME = "slower", "faster", "same"


@dataclass(frozen=True)
class Rule:
    """What counts as a change: the settings `tolerance` and `run_noise`, in percent."""

    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    run_noise_percent: float = 20.0

    def as_json(self) -> dict[str, Any]:
        return {
            "tolerance_percent": self.tolerance_percent,
            "run_noise_percent": self.run_noise_percent,
            "run_noise_multiples": dict(
                zip((f"p{p}" for p in COMPARED_PERCENTILES), TAIL_NOISE, strict=True)
            ),
            "floor_ms": FLOOR_MS,
            "error_floor_points": ERROR_FLOOR_POINTS,
            "confidence": CONFIDENCE,
            "min_samples": MIN_SAMPLES,
        }


@dataclass(frozen=True)
class TypeSamples:
    """One request type's measured samples at one level of a run: the latencies of its
    answered requests, its errors, and its requests that got no answer (errors too, never
    a latency: ecsload.report.stats)."""

    response_time_ms: np.ndarray
    errors: int
    no_answer: int = 0

    @property
    def count(self) -> int:
        """The answered requests: the samples of the percentiles."""
        return len(self.response_time_ms)

    @property
    def requests(self) -> int:
        return self.count + self.no_answer

    @property
    def error_percent(self) -> float:
        return 100.0 * self.errors / self.requests


def level_samples(run_dir: Path) -> dict[int, dict[str, TypeSamples]]:
    """Every level's measured samples of a run folder (the levels its summary.json names),
    by users, then by request type; read as the plan read the baseline (a BaselineError
    when they cannot be)."""
    levels = {}
    summary_levels = [level["users"] for level in run_summary(run_dir)["levels"]]
    for users, measured in measured_samples(run_dir, summary_levels).items():
        answered = measured.status != NO_ANSWER
        levels[users] = {
            name: TypeSamples(
                measured.response_time_ms[selected & answered],
                int(np.count_nonzero(~measured.ok[selected])),
                int(np.count_nonzero(selected & ~answered)),
            )
            for code, name in enumerate(measured.type_names)
            if np.any(selected := measured.type_code == code)
        }
    return levels


def verdict_of(changes: list[str]) -> str:
    """Slower if anything is slower; faster if something is faster and nothing slower."""
    if SLOWER in changes:
        return SLOWER
    return FASTER if FASTER in changes else SAME


def percentile_changes(
    before: np.ndarray, now: np.ndarray, rule: Rule, rng: np.random.Generator
) -> dict[str, dict[str, Any]]:
    """p50, p95, p99 before → now: the change, its interval (ms) and its verdict (none when
    either run has no answered request: the error share says what changed)."""
    if not (len(before) and len(now)):
        return {f"p{p}": unmeasured_change() for p in COMPARED_PERCENTILES}
    values_before = np.percentile(before, COMPARED_PERCENTILES)
    values_now = np.percentile(now, COMPARED_PERCENTILES)
    enough = min(len(before), len(now)) >= MIN_SAMPLES
    if enough:
        low, high = change_interval(before, now, values_before, values_now, rule, rng)
    changes = {}
    for i, p in enumerate(COMPARED_PERCENTILES):
        b, a = float(values_before[i]), float(values_now[i])
        change: dict[str, Any] = {
            "before": round(b, 3),
            "now": round(a, 3),
            "change_percent": round(100 * (a - b) / b, 1) if b > 0 else None,
            "interval_ms": None,
            "verdict": SAME,
        }
        if enough:
            band = max(rule.tolerance_percent / 100 * b, FLOOR_MS)
            change["interval_ms"] = [round(float(low[i]), 3), round(float(high[i]), 3)]
            if low[i] > band:
                change["verdict"] = SLOWER
            elif high[i] < -band:
                change["verdict"] = FASTER
        changes[f"p{p}"] = change
    return changes


def unmeasured_change() -> dict[str, Any]:
    return {
        "before": None,
        "now": None,
        "change_percent": None,
        "interval_ms": None,
        "verdict": SAME,
    }


def change_interval(
    before: np.ndarray,
    now: np.ndarray,
    values_before: np.ndarray,
    values_now: np.ndarray,
    rule: Rule,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The interval of `now - before` for each compared percentile: the bootstrap's
    (sampling) widened by the between-run noise of the two runs' values.

    Past BOOTSTRAP_SAMPLES a run's samples are drawn at random to that many for the
    bootstrap: its interval only widens (the verdict errs towards "same"), and at that
    size the sampling part is small beside the between-run part anyway.
    """

    def difference(b: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
        return np.percentile(a, COMPARED_PERCENTILES, axis=axis) - np.percentile(
            b, COMPARED_PERCENTILES, axis=axis
        )

    drawn = [
        rng.choice(values, BOOTSTRAP_SAMPLES, replace=False)
        if len(values) > BOOTSTRAP_SAMPLES
        else values
        for values in (before, now)
    ]
    result = stats.bootstrap(
        drawn,
        difference,
        n_resamples=RESAMPLES,
        batch=max(1, RESAMPLED_VALUES // sum(map(len, drawn))),
        vectorized=True,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=rng,
    )
    centre = difference(drawn[0], drawn[1], axis=-1)
    observed = values_now - values_before
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2)
    noise = rule.run_noise_percent / 100 * np.array(TAIL_NOISE)
    between = z * noise * np.hypot(values_before, values_now)
    low = observed - np.hypot(centre - result.confidence_interval.low, between)
    high = observed + np.hypot(result.confidence_interval.high - centre, between)
    return low, high


def error_change(before: TypeSamples, now: TypeSamples, rule: Rule) -> dict[str, Any]:
    """The error share before → now (percent of the type's requests) and its verdict."""
    b, a = before.error_percent, now.error_percent
    change = {"before": round(b, 2), "now": round(a, 2), "p_value": None, "verdict": SAME}
    if before.errors or now.errors:
        table = [
            [before.errors, before.requests - before.errors],
            [now.errors, now.requests - now.errors],
        ]
        p_value = float(stats.fisher_exact(table).pvalue)
        change["p_value"] = round(p_value, 6)
        band = max(rule.tolerance_percent / 100 * b, ERROR_FLOOR_POINTS)
        if p_value < 1 - CONFIDENCE and abs(a - b) > band:
            change["verdict"] = SLOWER if a > b else FASTER
    return change


def compare_type(
    before: TypeSamples, now: TypeSamples, rule: Rule, rng: np.random.Generator
) -> dict[str, Any]:
    """One type at one level: its percentiles, its errors and their verdict."""
    changes: dict[str, Any] = percentile_changes(
        before.response_time_ms, now.response_time_ms, rule, rng
    )
    changes["error_percent"] = error_change(before, now, rule)
    return {
        "samples": [before.count, now.count],
        **changes,
        "verdict": verdict_of([c["verdict"] for c in changes.values()]),
    }


def compare(
    baseline: Mapping[int, Mapping[str, TypeSamples]],
    current: Mapping[int, Mapping[str, TypeSamples]],
    rule: Rule,
) -> dict[str, Any]:
    """comparison.json's figures: each level both runs have, each type both levels sent;
    what only one run has is listed, not judged."""
    rng = np.random.default_rng(SEED)
    levels: list[dict[str, Any]] = []
    for users in sorted(set(baseline) & set(current)):
        before, now = baseline[users], current[users]
        types = {
            name: compare_type(before[name], now[name], rule, rng)
            for name in sorted(set(before) & set(now))
        }
        levels.append(
            {
                "users": users,
                "verdict": verdict_of([t["verdict"] for t in types.values()]),
                "types": types,
                "types_only_in_baseline": sorted(set(before) - set(now)),
                "types_only_in_run": sorted(set(now) - set(before)),
            }
        )
    return {
        "rule": rule.as_json(),
        "verdict": verdict_of([level["verdict"] for level in levels]),
        "levels": levels,
        "levels_only_in_baseline": sorted(set(baseline) - set(current)),
        "levels_only_in_run": sorted(set(current) - set(baseline)),
    }


def change_cell(change: Mapping[str, Any], digits: int = 2) -> str:
    """`1.20 → 1.31 (+9%)`; `-` for no figure (no answer)."""
    before, now = (
        "-" if change[key] is None else f"{change[key]:.{digits}f}" for key in ("before", "now")
    )
    text = f"{before} → {now}"
    if change.get("change_percent") is not None:
        text += f" ({change['change_percent']:+.0f}%)"
    return text


def verdict_cell(figures: Mapping[str, Any]) -> str:
    """The type's verdict and, when changed, which figures changed: `slower (p95, p99)`."""
    changed = [
        key.removesuffix("_percent")
        for key, change in figures.items()
        if isinstance(change, dict) and change["verdict"] != SAME
    ]
    if figures["verdict"] == SAME and min(figures["samples"]) < MIN_SAMPLES:
        return f"same (under {MIN_SAMPLES} samples)"
    return figures["verdict"] + (f" ({', '.join(changed)})" if changed else "")


def comparison_table(comparison: Mapping[str, Any]) -> str:
    """comparison.txt: one row per level and type, before → now, and the verdicts."""
    rule = comparison["rule"]
    rows = [
        [
            level["users"] if i == 0 else "",
            name,
            *(change_cell(figures[f"p{p}"]) for p in COMPARED_PERCENTILES),
            change_cell(figures["error_percent"], digits=1).removesuffix(" (+0%)"),
            verdict_cell(figures),
        ]
        for level in comparison["levels"]
        for i, (name, figures) in enumerate(sorted(level["types"].items()))
    ]
    headers = ["Users", "Request Type", *(f"p{p} ms" for p in COMPARED_PERCENTILES)]
    headers += ["Error %", "Verdict"]
    title = f"Comparison with the baseline {comparison['baseline']}: {comparison['verdict']}"
    lines = [
        framed(title),
        tabulate(rows, headers=headers, disable_numparse=True, colalign=("right",)),
        f"A percentile changed when the {100 * rule['confidence']:.0f}% interval of its "
        "change (bootstrap of the samples, widened by a run noise of "
        f"{rule['run_noise_percent']:g}%, more for the tails) lies beyond "
        f"{rule['tolerance_percent']:g}% (and {rule['floor_ms']:g} ms); docs/verdicts.md",
    ]
    queueing = (
        "its own queueing is in those latencies and varies from run to run more than the "
        "run noise allows"
    )
    return "\n".join(lines + not_compared_lines(comparison, queueing))
