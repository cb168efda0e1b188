"""Whether each figure changed, judged against the noise the two runs themselves show.

One rule for every baseline source: a folder, `last`, `label:X`, `history[:N]` (a stored
run's windows are decoded back into its samples, ecsload.history.windows; N runs are
pooled as the repeats of one baseline, so the drift between them is in its spread).

Each run's figures get bootstrap draws (ecsload.analysis.intervals: time windows inside
each repeat, and the repeats), whose spread is the figure's standard error, between
windows and between repeats alike. A figure's change (FIGURES: goodput and p50, p95, p99
per request type and over all on the log scale, the error share in percentage points) is
tested like Welch's test, z = change / sqrt(se_before² + se_now² + floor²). The p-values
of every figure of every type at every level compared are corrected together with
Holm's step-down method, so the whole comparison keeps its false alarms under
1 - CONFIDENCE. A figure changed when its test rejects and its change is beyond the
tolerance (and the figure's absolute floor: FLOOR_MS, ERROR_FLOOR_POINTS).

The floor: a run with repeats (MIN_REPEATS or more) shows its own drift in the spread of
its repeats; a run that measured a level once cannot, and runs minutes apart drift more
than one run's windows show. Each side measured once adds the drift between runs to
floor² (the `drift` of the Rule, per figure: p99's from p99, measured between three or
more stored runs of the target, ecsload.history.baseline, else DEFAULT_DRIFT). So a gross
change is judged even from one repeat, and a change that its test cannot tell from that
drift is `not judged` (never `same`): `could_see` says the smallest change it could have
seen. `--run-noise PCT` replaces the drift with one floor on both sides, for every level
(its changes within it are `same`). A percentile p is compared only with 10 / (1 - p)
samples or more in each run (p50: 20, p95: 200, p99: 1,000): below that a bootstrap of
its few samples cannot tell its noise.

A latency of 0 ms or less (a clock that stepped, a hand-made baseline) is read as
LOWEST_MS: a change from it is judged, never silently `same`.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from ecsload.analysis.baseline import level_of, measured_samples, run_summary
from ecsload.analysis.intervals import LevelDraws, answer_rates, level_draws
from ecsload.analysis.samples import Samples
from ecsload.analysis.stats import NO_ANSWER
from ecsload.setting_rows import DEFAULT_RUN_NOISE_PERCENT, DEFAULT_TOLERANCE_PERCENT
from ecsload.vocabulary import HEADLINE

FLOOR_MS = 1.0  # a latency change under a millisecond is never a regression
ERROR_FLOOR_POINTS = 1.0  # percentage points of requests
LOWEST_MS = 0.001  # a latency of 0 ms or less is read as one microsecond
LOWEST_RATE = 0.001  # OK answers per second: a goodput of 0 is read as this
MIN_SAMPLES = 10  # of a type in each run, for its percentiles to be compared
TAIL_SAMPLES = 10  # a percentile p is compared with 10 / (1 - p) samples or more in each run
CONFIDENCE = 0.95
MIN_REPEATS = 2  # of a level in a run, for the run to show its own drift
SLOWER, FASTER, SAME, NOT_JUDGED = "slower", "faster", "same", "not judged"
ALL = ""  # the group of every request


@dataclass(frozen=True)
class Figure:
    """A figure the comparison judges: its scale, which way is worse, the absolute change
    under which it never counts, and the drift assumed between two runs when the history
    cannot measure it (percent on the log scale; points for a share). A new figure is one
    row of FIGURES, its value in `point` and its draws in `draws_of`."""

    name: str
    log_scale: bool
    higher_is_worse: bool
    per_type: bool  # compared for each request type too, not only over all requests
    floor: float  # ms for a latency, points for a share; 0: none
    default_drift: float


# The default drift: two identical runs minutes apart on the development machine, one
# repeat each (DESIGN.md, bench/bench_false_alarms.py): p95 moved 21-44% and req/s 20-32%
# (standard deviation of the log). A history with three or more runs of the target
# measures its own.
FIGURES = (
    Figure("goodput", True, False, False, 0.0, 25.0),
    Figure("error_percent", False, True, False, ERROR_FLOOR_POINTS, 1.0),
    *(
        Figure(f"p{p}", True, True, True, FLOOR_MS, drift)
        for p, drift in zip(HEADLINE, (20.0, 30.0, 40.0), strict=True)
    ),
)
BY_NAME = {figure.name: figure for figure in FIGURES}
DEFAULT_DRIFT = {figure.name: figure.default_drift for figure in FIGURES}


@dataclass(frozen=True)
class Rule:
    """What counts as a change: the settings `tolerance` and `run_noise` (percent), and the
    drift between runs per figure (percent, points for error_percent) with where it was
    measured."""

    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    run_noise_percent: float = DEFAULT_RUN_NOISE_PERCENT
    drift: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DRIFT))
    drift_source: str = "the default (measured on the development machine)"

    def as_json(self) -> dict[str, Any]:
        return {
            "tolerance_percent": self.tolerance_percent,
            "run_noise_percent": self.run_noise_percent,
            "drift_percent": {name: round(value, 1) for name, value in self.drift.items()},
            "drift_source": self.drift_source,
            "floor_ms": FLOOR_MS,
            "error_floor_points": ERROR_FLOOR_POINTS,
            "confidence": CONFIDENCE,
            "min_samples": MIN_SAMPLES,
            "min_repeats": MIN_REPEATS,
            "method": "Welch-type z test on bootstrap standard errors (time windows, repeats), "
            "a drift floor for a run measured once, Holm-corrected across levels, types and "
            "figures",
        }

    def floor_variance(self, figure: str, once: int) -> float:
        """floor² of a figure's change: --run-noise on both sides, else the drift for each
        of the `once` sides that measured the level once."""
        log_scale = BY_NAME[figure].log_scale
        if self.run_noise_percent > 0:
            floor = math.log1p(self.run_noise_percent / 100) if log_scale else 0.0
            return 2 * floor * floor
        drift = self.drift.get(figure, DEFAULT_DRIFT[figure])
        drift = math.log1p(drift / 100) if log_scale else drift
        return once * drift * drift


@dataclass(frozen=True)
class Test:
    """One figure's comparison before the correction: where it goes in the result."""

    where: tuple[int, str, str]  # level, group (ALL or a type), figure
    before: float
    now: float
    z: float
    se: float  # of the change, on the figure's scale (log or points)
    log_scale: bool
    floored: bool  # judged against the drift floor: within it, not judged


def point(samples: Samples, group: str, figure: str, open_model: bool = False) -> float:
    """A figure's value in a level's measured samples: a percentile (ms) of a group, the
    goodput (OK/s; an arrival-rate level's, its OK answers as they arrived) or the error
    share (%)."""
    if figure == "goodput":
        rates = answer_rates(samples) if open_model else None
        if rates is not None:
            return rates[1]
        return float(np.count_nonzero(samples.ok)) / span_seconds(samples)
    if figure == "error_percent":
        return 100 * float(np.count_nonzero(~samples.ok)) / len(samples)
    selected = answered(samples)  # a request with no answer is no latency
    if group != ALL:
        selected &= samples.type_code == samples.type_names.index(group)
    return float(np.percentile(samples.response_time_ms[selected], int(figure.removeprefix("p"))))


def answered(samples: Samples) -> np.ndarray:
    return samples.status != NO_ANSWER


def span_seconds(samples: Samples) -> float:
    ends = samples.timestamp_ms + samples.response_time_ms
    return sum(
        (ends[samples.repeat == r].max() - samples.timestamp_ms[samples.repeat == r].min()) / 1000
        for r in np.unique(samples.repeat)
    )


def draws_of(draws: LevelDraws, group: str, figure: str) -> np.ndarray:
    if figure == "goodput":
        return draws.goodput
    if figure == "error_percent":
        return draws.error_percent
    return draws.groups[group].percentiles[:, HEADLINE.index(int(figure[1:]))]


def lowest(figure: str) -> float:
    """The smallest value a log-scale figure is read as (0 or less would have no log)."""
    return LOWEST_RATE if figure == "goodput" else LOWEST_MS


def spread(values: np.ndarray, log_scale: bool, least: float = LOWEST_MS) -> float:
    known = values[np.isfinite(values)]
    if len(known) < len(values) / 2:
        return math.nan
    if log_scale:
        known = np.log(np.maximum(known, least))
    return float(np.std(known, ddof=1))


def make_test(
    where: tuple[int, str, str],
    samples: tuple[Samples, Samples],
    draws: tuple[LevelDraws, LevelDraws],
    rule: Rule,
    once: int,
    open_model: bool = False,
) -> Test | None:
    """One figure's test; None where its noise cannot be told (half the draws empty).
    `once`: how many of the two runs measured the level once (each adds the drift)."""
    _, group, figure = where
    before, now = (point(s, group, figure, open_model) for s in samples)
    log_scale = BY_NAME[figure].log_scale
    if log_scale:  # a latency of 0 ms or less is a change from its resolution, not none
        before, now = (max(value, lowest(figure)) for value in (before, now))
    ses = [spread(draws_of(d, group, figure), log_scale, lowest(figure)) for d in draws]
    if any(math.isnan(se) for se in ses):
        return None
    if not log_scale:  # a share that never moved in a run still has its binomial noise
        pooled = (before + now) / 200
        ses += [100 * math.sqrt(pooled * (1 - pooled) / len(s)) for s in samples]
    floored = once > 0 and rule.run_noise_percent == 0
    se = math.sqrt(sum(v * v for v in ses) + rule.floor_variance(figure, once))
    change = math.log(now / before) if log_scale else now - before
    z = (0.0 if change == 0 else math.copysign(math.inf, change)) if se == 0 else change / se
    return Test(where, before, now, z, se, log_scale, floored)


def holm(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, family-wise at `alpha`."""
    order = np.argsort(p_values)
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


def two_sided_p(z: float) -> float:
    """The normal test's two-sided p-value, 2·P(Z > |z|), exact in the far tail too (erfc,
    not 1 - cdf). The standard library's: SciPy's stats take most of a second to import,
    which every verdict and report would pay for two normal quantiles."""
    return math.erfc(abs(z) / math.sqrt(2))


def judged(test: Test, rejected: bool, rule: Rule, z_strict: float) -> dict[str, Any]:
    """A figure's entry: before, now, change, p-value, smallest detectable change, verdict."""
    figure = BY_NAME[test.where[2]]
    tolerance = rule.tolerance_percent / 100
    entry: dict[str, Any] = {
        "before": round(test.before, 3),
        "now": round(test.now, 3),
        "change_percent": round(100 * (test.now / test.before - 1), 1) if test.before else None,
        "p_value": two_sided_p(test.z),
        "detectable_percent": None,
        "verdict": NOT_JUDGED if test.floored else SAME,
    }
    if test.log_scale:
        entry["detectable_percent"] = round(100 * max(math.expm1(z_strict * test.se), tolerance), 1)
        beyond = abs(test.now / test.before - 1) > tolerance
    else:
        band = max(tolerance * test.before, figure.floor)
        entry["detectable_percent"] = round(max(z_strict * test.se, band), 2)
        beyond = abs(test.now - test.before) > band
    beyond = beyond and abs(test.now - test.before) > figure.floor
    higher = test.now > test.before
    if rejected and beyond:
        entry["verdict"] = SLOWER if higher == figure.higher_is_worse else FASTER
    return entry


def verdict_of(changes: list[str]) -> str:
    """Slower if anything is slower; faster if something is faster and nothing slower; not
    judged when nothing was (and same when nothing is left to judge)."""
    if SLOWER in changes:
        return SLOWER
    if FASTER in changes:
        return FASTER
    return NOT_JUDGED if changes and set(changes) == {NOT_JUDGED} else SAME


def repeats(samples: Samples) -> int:
    return len(np.unique(samples.repeat))


def compare(
    baseline: Mapping[int, Samples],
    current: Mapping[int, Samples],
    rule: Rule,
    unit: str = "users",
) -> dict[str, Any]:
    """comparison.json's figures: each level both runs have (by users, or by rate: `unit`
    req/s, whose goodput is its OK answers as they arrived), each type both levels sent
    (MIN_SAMPLES or more in each); what only one run has is listed, not judged."""
    open_model = unit == "req/s"
    common = sorted(set(baseline) & set(current))
    tests: list[Test] = []
    counts: dict[tuple[int, str], list[int]] = {}
    for key in common:
        pair = (baseline[key], current[key])
        once = sum(repeats(s) < MIN_REPEATS for s in pair)
        draws = tuple(level_draws(s, open_model=open_model) for s in pair)
        names = sorted(set(pair[0].type_names) & set(pair[1].type_names))
        for name in names:
            counts[(key, name)] = [  # answered: the samples of its percentiles
                int(np.count_nonzero((s.type_code == s.type_names.index(name)) & answered(s)))
                for s in pair
            ]
        if draws[0] is None or draws[1] is None:
            continue
        sizes = {ALL: min(int(np.count_nonzero(answered(s))) for s in pair)}
        sizes |= {n: min(counts[(key, n)]) for n in names}
        wheres = [(key, ALL, f.name) for f in FIGURES if not f.name.startswith("p")]
        wheres += [
            (key, group, f"p{p}")
            for group, size in sizes.items()
            for p in HEADLINE
            if size >= max(MIN_SAMPLES, TAIL_SAMPLES / (1 - p / 100))
        ]
        for where in wheres:
            if where[1] != ALL and where[1] not in draws[0].groups | draws[1].groups:
                continue
            test = make_test(where, pair, (draws[0], draws[1]), rule, once, open_model)
            if test is not None:
                tests.append(test)
    alpha = 1 - CONFIDENCE
    p_values = [two_sided_p(t.z) for t in tests]
    rejected = holm(p_values, alpha)
    z_strict = NormalDist().inv_cdf(1 - alpha / (2 * max(len(tests), 1)))
    entries = {t.where: judged(t, r, rule, z_strict) for t, r in zip(tests, rejected, strict=True)}
    levels = [
        level_result(key, (baseline[key], current[key]), entries, counts, rule, unit)
        for key in common
    ]
    return {
        "rule": rule.as_json(),
        "tests": len(tests),
        "unit": unit,
        "verdict": verdict_of([level["verdict"] for level in levels]),
        "levels": levels,
        "levels_only_in_baseline": sorted(set(baseline) - set(current)),
        "levels_only_in_run": sorted(set(current) - set(baseline)),
    }


def level_result(
    key: int,
    pair: tuple[Samples, Samples],
    entries: Mapping[tuple[int, str, str], dict[str, Any]],
    counts: Mapping[tuple[int, str], list[int]],
    rule: Rule,
    unit: str,
) -> dict[str, Any]:
    """One level's part: its own figures, its types', what it could have seen and, for a
    run that measured it once, the drift floor it was judged against."""
    before, now = pair
    counted = [repeats(s) for s in pair]
    floored = min(counted) < MIN_REPEATS and rule.run_noise_percent == 0

    def figures(group: str, keys: list[str]) -> dict[str, Any]:
        found = {
            name: entries[(key, group, name)] for name in keys if (key, group, name) in entries
        }
        verdict = verdict_of([e["verdict"] for e in found.values()])
        if floored and verdict == SAME:  # nothing it could compare: never same from one repeat
            verdict = NOT_JUDGED
        return {**found, "verdict": verdict}

    overall = figures(ALL, [f.name for f in FIGURES])
    percentiles = [f.name for f in FIGURES if f.per_type]
    types = {
        name: {"samples": count, **figures(name, percentiles)}
        for (level, name), count in sorted(counts.items())
        if level == key
    }
    could_see = {
        name: entries[(key, ALL, name)]["detectable_percent"]
        for name in ("p95", "goodput", "error_percent")
        if (key, ALL, name) in entries
    }
    return {
        "users": key,
        "unit": unit,
        "repeats": counted,
        "verdict": verdict_of([overall["verdict"], *(t["verdict"] for t in types.values())]),
        "drift_floor": rule.as_json()["drift_percent"] if floored else None,
        "could_see": could_see,
        "all": overall,
        "types": types,
        "types_only_in_baseline": sorted(set(before.type_names) - set(now.type_names)),
        "types_only_in_run": sorted(set(now.type_names) - set(before.type_names)),
    }


def level_samples(run_dir: Path) -> dict[int, Samples]:
    """Every level's measured samples of a run folder (the levels its summary.json names,
    each over its repeats), by users (or arrival rate); read as the plan read the baseline
    (a BaselineError when they cannot be)."""
    keys = [level_of(level) for level in run_summary(run_dir)["levels"]]
    return measured_samples(run_dir, keys)
