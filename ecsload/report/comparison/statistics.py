"""Whether each figure changed, judged against the noise the two runs themselves show.

Each run's figures get bootstrap draws (ecsload.report.intervals: time windows inside
each repeat, and the repeats), whose spread is the figure's standard error, between
windows and between repeats alike. A figure's change is tested like Welch's test: on the
log scale for p50, p95, p99 (per request type and over all) and goodput (OK answers per
second), in percentage points for the error share, z = change / sqrt(se_before² +
se_now² + floor²), where the floor is the optional `--run-noise` (a relative standard
deviation of each run's figure; 0 by default). The p-values of every figure of every
type at every level compared are corrected together with Holm's step-down method, so the
whole comparison keeps its false alarms under 1 - CONFIDENCE. A figure changed when its
test rejects and its change is beyond the tolerance (and FLOOR_MS / ERROR_FLOOR_POINTS).
Per level, `could_see` is the smallest change of p95 and goodput the test could have
detected at the strictest Holm level (or the tolerance, when larger). A percentile p is
compared only with 10 / (1 - p) samples or more in each run (p50: 20, p95: 200, p99:
1,000): below that a bootstrap of its few samples (the maximum, for p99) cannot tell its
noise, and a paced type's handful of requests would alarm.

A level is judged only when each run has MIN_REPEATS repeats of it (or a `--run-noise`
floor is given): a level measured once cannot show the drift between runs minutes apart,
which is slower than its windows. Measured here (bench/bench_false_alarms.py, a quiet
machine): six default sweeps (-n 1000, one repeat, 1-2 s levels), each against the one
before, changed by 11-48% with p-values under 1e-3 in 5 of 5 pairs, while 6 runs of
-d 10 --repeat 3 alarmed in 1 of 15 A/A pairs. Such a level's figures are shown, not
judged (NOT_JUDGED), and a comparison with no level judged never passes a gate.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ecsload.report.intervals import INTERVAL_PERCENTILES, LevelDraws, level_draws
from ecsload.report.samples import Samples
from ecsload.report.stats import NO_ANSWER
from ecsload.setting_rows import DEFAULT_RUN_NOISE_PERCENT, DEFAULT_TOLERANCE_PERCENT

FLOOR_MS = 1.0  # a latency change under a millisecond is never a regression
ERROR_FLOOR_POINTS = 1.0  # percentage points of requests
MIN_SAMPLES = 10  # of a type in each run, for its percentiles to be compared
TAIL_SAMPLES = 10  # a percentile p is compared with 10 / (1 - p) samples or more in each run
CONFIDENCE = 0.95
MIN_REPEATS = 2  # of a level in each run, for it to be judged without a --run-noise floor
SLOWER, FASTER, SAME, NOT_JUDGED = "slower", "faster", "same", "not judged"
ALL = ""  # the group of every request


@dataclass(frozen=True)
class Rule:
    """What counts as a change: the settings `tolerance` and `run_noise`, in percent."""

    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    run_noise_percent: float = DEFAULT_RUN_NOISE_PERCENT

    def as_json(self) -> dict[str, Any]:
        return {
            "tolerance_percent": self.tolerance_percent,
            "run_noise_percent": self.run_noise_percent,
            "floor_ms": FLOOR_MS,
            "error_floor_points": ERROR_FLOOR_POINTS,
            "confidence": CONFIDENCE,
            "min_samples": MIN_SAMPLES,
            "method": "Welch-type z test on bootstrap standard errors (time windows, repeats), "
            "Holm-corrected across levels, types and figures",
        }


@dataclass(frozen=True)
class Test:
    """One figure's comparison before the correction: where it goes in the result."""

    where: tuple[int, str, str]  # users, group (ALL or a type), figure
    before: float
    now: float
    z: float
    se: float  # of the change, on the figure's scale (log or points)
    log_scale: bool


def point(samples: Samples, group: str, figure: str) -> float:
    """A figure's value in a level's measured samples: a percentile (ms) of a group, the
    goodput (OK/s) or the error share (%)."""
    if figure == "goodput":
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
    return draws.groups[group].percentiles[:, INTERVAL_PERCENTILES.index(int(figure[1:]))]


def spread(values: np.ndarray, log_scale: bool) -> float:
    known = values[np.isfinite(values) & (values > 0 if log_scale else True)]
    if len(known) < len(values) / 2:
        return math.nan
    return float(np.std(np.log(known) if log_scale else known, ddof=1))


def make_test(
    where: tuple[int, str, str],
    samples: tuple[Samples, Samples],
    draws: tuple[LevelDraws, LevelDraws],
    rule: Rule,
) -> Test | None:
    """One figure's test; None where it cannot be told (no spread, a zero percentile)."""
    _, group, figure = where
    before, now = (point(s, group, figure) for s in samples)
    log_scale = figure != "error_percent"
    ses = [spread(draws_of(d, group, figure), log_scale) for d in draws]
    if any(math.isnan(se) for se in ses) or (log_scale and min(before, now) <= 0):
        return None
    floor = math.log1p(rule.run_noise_percent / 100) if log_scale else 0.0
    if not log_scale:  # a share that never moved in a run still has its binomial noise
        pooled = (before + now) / 200
        ses += [100 * math.sqrt(pooled * (1 - pooled) / len(s)) for s in samples]
    se = math.sqrt(sum(v * v for v in ses) + 2 * floor * floor)
    change = math.log(now / before) if log_scale else now - before
    if se == 0:
        return Test(where, before, now, 0.0 if change == 0 else math.inf, se, log_scale)
    return Test(where, before, now, change / se, se, log_scale)


def holm(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, family-wise at `alpha`."""
    order = np.argsort(p_values)
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


def judged(test: Test, rejected: bool, rule: Rule, z_strict: float) -> dict[str, Any]:
    """A figure's entry: before, now, change, p-value, smallest detectable change, verdict."""
    figure = test.where[2]
    tolerance = rule.tolerance_percent / 100
    entry: dict[str, Any] = {
        "before": round(test.before, 3),
        "now": round(test.now, 3),
        "change_percent": round(100 * (test.now / test.before - 1), 1) if test.before else None,
        "p_value": float(2 * stats.norm.sf(abs(test.z))),
        "detectable_percent": None,
        "verdict": SAME,
    }
    if test.log_scale:
        entry["detectable_percent"] = round(100 * max(math.expm1(z_strict * test.se), tolerance), 1)
        beyond = abs(test.now / test.before - 1) > tolerance
        if figure != "goodput":
            beyond = beyond and abs(test.now - test.before) > FLOOR_MS
        worse = test.now < test.before if figure == "goodput" else test.now > test.before
    else:
        band = max(tolerance * test.before, ERROR_FLOOR_POINTS)
        entry["detectable_percent"] = round(max(z_strict * test.se, band), 2)
        beyond = abs(test.now - test.before) > band
        worse = test.now > test.before
    if rejected and beyond:
        entry["verdict"] = SLOWER if worse else FASTER
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


def unjudged_reason(pair: tuple[Samples, Samples], rule: Rule) -> str | None:
    """Why a level cannot be judged (None: it can): a level measured once in a run shows no
    drift between runs, unless a --run-noise floor stands for it."""
    counts = [repeats(s) for s in pair]
    if min(counts) >= MIN_REPEATS or rule.run_noise_percent > 0:
        return None
    return f"measured in {counts[0]} and {counts[1]} repeat(s)"


NOT_JUDGED_WHY = (
    "one repeat cannot show how far runs minutes apart drift (5 of 5 pairs of default sweeps "
    f"alarmed on a quiet machine): run both with --repeat {MIN_REPEATS} or more (e.g. -d 10 "
    "--repeat 3), or give --run-noise PCT"
)


def shown_only(test: Test) -> dict[str, Any]:
    """A figure of a level that is not judged: before, now and the change, no verdict."""
    return {
        "before": round(test.before, 3),
        "now": round(test.now, 3),
        "change_percent": round(100 * (test.now / test.before - 1), 1) if test.before else None,
        "p_value": None,
        "detectable_percent": None,
        "verdict": NOT_JUDGED,
    }


def compare(
    baseline: Mapping[int, Samples], current: Mapping[int, Samples], rule: Rule
) -> dict[str, Any]:
    """comparison.json's figures: each level both runs have, each type both levels sent
    (MIN_SAMPLES or more in each); what only one run has is listed, not judged."""
    common = sorted(set(baseline) & set(current))
    tests: list[Test] = []
    shown: list[Test] = []  # the figures of levels that are not judged
    counts: dict[tuple[int, str], list[int]] = {}
    reasons: dict[int, str] = {}
    for users in common:
        pair = (baseline[users], current[users])
        if reason := unjudged_reason(pair, rule):
            reasons[users] = reason
        draws = tuple(level_draws(s) for s in pair)
        names = sorted(set(pair[0].type_names) & set(pair[1].type_names))
        for name in names:
            counts[(users, name)] = [  # answered: the samples of its percentiles
                int(np.count_nonzero((s.type_code == s.type_names.index(name)) & answered(s)))
                for s in pair
            ]
        if draws[0] is None or draws[1] is None:
            continue
        sizes = {ALL: min(int(np.count_nonzero(answered(s))) for s in pair)}
        sizes |= {n: min(counts[(users, n)]) for n in names}
        wheres = [(users, ALL, "goodput"), (users, ALL, "error_percent")]
        wheres += [
            (users, group, f"p{p}")
            for group, size in sizes.items()
            for p in INTERVAL_PERCENTILES
            if size >= max(MIN_SAMPLES, TAIL_SAMPLES / (1 - p / 100))
        ]
        for where in wheres:
            if where[1] != ALL and where[1] not in draws[0].groups | draws[1].groups:
                continue
            test = make_test(where, pair, (draws[0], draws[1]), rule)
            if test is not None:
                (shown if users in reasons else tests).append(test)
    alpha = 1 - CONFIDENCE
    p_values = [float(2 * stats.norm.sf(abs(t.z))) for t in tests]
    rejected = holm(p_values, alpha)
    z_strict = float(stats.norm.isf(alpha / (2 * max(len(tests), 1))))
    entries = {t.where: judged(t, r, rule, z_strict) for t, r in zip(tests, rejected, strict=True)}
    entries |= {t.where: shown_only(t) for t in shown}
    levels = [
        level_result(users, baseline[users], current[users], entries, counts, reasons.get(users))
        for users in common
    ]
    return {
        "rule": rule.as_json(),
        "tests": len(tests),
        "verdict": verdict_of([level["verdict"] for level in levels]),
        "levels": levels,
        "levels_only_in_baseline": sorted(set(baseline) - set(current)),
        "levels_only_in_run": sorted(set(current) - set(baseline)),
    }


def level_result(
    users: int,
    before: Samples,
    now: Samples,
    entries: Mapping[tuple[int, str, str], dict[str, Any]],
    counts: Mapping[tuple[int, str], list[int]],
    not_judged: str | None,
) -> dict[str, Any]:
    """One level's part: its own figures, its types' and what it could have seen (nothing,
    with the reason, for a level that is not judged)."""

    def figures(group: str, keys: list[str]) -> dict[str, Any]:
        found = {
            key: entries[(users, group, key)] for key in keys if (users, group, key) in entries
        }
        verdict = NOT_JUDGED if not_judged else verdict_of([e["verdict"] for e in found.values()])
        return {**found, "verdict": verdict}

    percentiles = [f"p{p}" for p in INTERVAL_PERCENTILES]
    overall = figures(ALL, ["goodput", "error_percent", *percentiles])
    types = {
        name: {"samples": count, **figures(name, percentiles)}
        for (level, name), count in sorted(counts.items())
        if level == users
    }
    could_see = {
        key: entries[(users, ALL, key)]["detectable_percent"]
        for key in ("p95", "goodput", "error_percent")
        if (users, ALL, key) in entries and not not_judged
    }
    return {
        "users": users,
        "verdict": verdict_of([overall["verdict"], *(t["verdict"] for t in types.values())]),
        "not_judged": not_judged,
        "could_see": could_see,
        "all": overall,
        "types": types,
        "types_only_in_baseline": sorted(set(before.type_names) - set(now.type_names)),
        "types_only_in_run": sorted(set(now.type_names) - set(before.type_names)),
    }
