"""Where the service saturates, from the levels' goodput and its intervals: one sentence and its
numbers.

The rule (docs/verdicts.md), on goodput (OK answers per second) and its 95% interval:

- the knee is the smallest level that no later level beats beyond the intervals: no later
  level's low end is above the knee's reach, the higher of its interval's high end and its
  goodput plus WITHIN_PERCENT of the highest goodput measured (a level without an interval
  is judged by that margin alone). Both intervals count: a level whose
  interval overlaps the best level's is not beaten by it, however the point estimates
  fall;
- it is said to "stop growing at N" only when a later level was measured (and none beat
  it); a knee at the highest level is "still growing at the highest level", and at the first
  "saturates at or before N" (what happened below the first level was not measured).

A level's goodput swings 20-30% between identical short runs, so a one-step rule judges
noise: this one judges levels against the best one, within the noise each level shows.
With USL_MIN_LEVELS or more levels, Gunther's Universal Scalability Law
X(N) = lambdaN / (1 + sigma(N-1) + kappaN(N-1)) is fitted to the goodputs, and its peak
N* = sqrt((1-sigma)/kappa) given with a parametric bootstrap interval (each level's goodput
drawn from its interval). Little's law (users = req/s x (response time + think time))
is checked per level: a level off by more than LITTLE_MISS is a generator artefact
(users not all sending, time lost in the generator). Errors start at the first level
where ERRORS_START_PERCENT (1%) or more of the measured requests failed.
"""

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecsload.analysis.generator import GENERATOR_BUSY_PERCENT, generator_busy
from ecsload.analysis.stats import percent
from ecsload.model import PACED_KINDS, PACED_TYPES, PACED_WAIT_SECONDS
from ecsload.vocabulary import ERRORS_START_PERCENT

WITHIN_PERCENT = 5.0
USL_MIN_LEVELS = 5
USL_RESAMPLES = 100
USL_SEED = 21
LITTLE_MISS = 0.20
LABEL = "Saturation: "
Z_95 = 1.96


def bounds(level: Mapping[str, Any]) -> tuple[float, float]:
    """The level's goodput interval (its value twice when it has none)."""
    ci = (level.get("ci") or {}).get("goodput")
    value = level["goodput"]
    return (ci[0], ci[1]) if ci else (value, value)


def knee(levels: Sequence[Mapping[str, Any]]) -> int:
    """The index of the knee (see the module's docstring); the last level always qualifies."""
    margin = WITHIN_PERCENT / 100 * max(level["goodput"] for level in levels)
    for i, level in enumerate(levels):
        reach = max(bounds(level)[1], level["goodput"] + margin)
        if not any(bounds(later)[0] > reach for later in levels[i + 1 :]):
            return i
    raise AssertionError("no level follows the last one")


def saturation(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's `saturation`: the sentence under the table across levels (`text`) and
    the figures it names."""
    measured = [
        lv
        for lv in levels
        if lv.get("goodput") is not None and lv["all"] and lv["all"]["p95"] is not None
    ]  # goodput counts answered requests only; a level with none answered is skipped
    result: dict[str, Any] = {
        "users": None,
        "goodput": None,
        "goodput_ci": None,
        "state": None,
        "best_users": None,
        "best_goodput": None,
        "errors_from_users": None,
        "error_percent": None,
        "rate_limited_percent": None,
        "generator_busy_percent": None,
        "shared_machine_levels": [lv["users"] for lv in levels if lv.get("other_sweeps")],
        "within_percent": WITHIN_PERCENT,
        "usl": None,
        "little": little_checks(measured),
    }
    if len(measured) < 2:
        ran = "no level was" if not measured else "one level was"
        result["text"] = f"{LABEL}{ran} measured: a sweep of two or more levels is needed to tell"
        result["notes"] = [line for line in (little_text(result["little"]),) if line]
        return result
    parts = [knee_sentence(measured, result)]
    parts += errors_sentence([level for level in levels if level["all"]], result)
    result["usl"] = usl_fit(measured)
    result["text"] = LABEL + "; ".join(parts)
    result["notes"] = [
        line for line in (usl_text(result["usl"]), little_text(result["little"])) if line
    ]
    return result


def knee_sentence(levels: Sequence[Mapping[str, Any]], result: dict[str, Any]) -> str:
    i = knee(levels)
    level = levels[i]
    best = max(levels, key=lambda lv: lv["goodput"])
    busy = generator_busy(level)
    state = "first" if i == 0 else "highest" if i == len(levels) - 1 else "stops"
    result.update(
        users=level["users"],
        goodput=level["goodput"],
        goodput_ci=(level.get("ci") or {}).get("goodput"),
        state=state,
        best_users=best["users"],
        best_goodput=best["goodput"],
        generator_busy_percent=busy,
    )
    figure = f"{level['users']} users (~{plus_minus_text(level)} OK/s)"
    if state == "highest":
        sentence = f"throughput still growing at the highest level, {figure}"
    elif state == "first":
        sentence = f"saturates at or before {figure}: no later level beats it beyond the intervals"
    else:
        sentence = (
            f"throughput stops growing at {figure}: no later level beats it beyond the "
            f"intervals (best {best['goodput']:.0f} OK/s at {best['users']} users)"
        )
    if busy is not None and busy > GENERATOR_BUSY_PERCENT:
        sentence += (
            f" (but the load generator was busy {busy:.0f}% there: the limit may be "
            "its own; see the probe)"
        )
    if result["shared_machine_levels"]:
        shared = ", ".join(map(str, result["shared_machine_levels"]))
        sentence += (
            f" (but another ecs-load sweep ran on this machine at {shared} users: they "
            "shared its cores, so the limit may be the machine's, not the service's)"
        )
    return sentence


def plus_minus_text(level: Mapping[str, Any]) -> str:
    low, high = bounds(level)
    half = max(level["goodput"] - low, high - level["goodput"])
    return f"{level['goodput']:.0f}" + (f" ±{half:.0f}" if half else "")


def errors_sentence(levels: Sequence[Mapping[str, Any]], result: dict[str, Any]) -> list[str]:
    for level in levels:
        errors = percent(level["all"]["error"], level["requests"])
        if errors >= ERRORS_START_PERCENT:
            limited = percent(level["all"]["rate_limited"], level["requests"])
            result.update(
                errors_from_users=level["users"],
                error_percent=round(errors, 2),
                rate_limited_percent=round(limited, 2),
            )
            return [
                f"errors start at {level['users']} users ({errors:.1f}% of the requests, "
                f"{limited:.1f}% rate limited)"
            ]
    return []


def usl(n: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    """The Universal Scalability Law's throughput at n users."""
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def fit(users: np.ndarray, goodput: np.ndarray) -> tuple[float, float, float] | None:
    """lambda, sigma, kappa by least squares (sigma in [0, 1], kappa >= 0); None on failure.
    SciPy's optimizer is imported here: it takes a third of a second, which every level's
    summary would pay (run_load_test.sh summarises each level in a new process), and only
    a run of USL_MIN_LEVELS levels fits."""
    from scipy.optimize import OptimizeWarning, curve_fit

    start = (goodput[0] / users[0], 0.05, 0.001)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (lam, sigma, kappa), _ = curve_fit(
                usl, users, goodput, p0=start, bounds=([0, 0, 0], [np.inf, 1, np.inf])
            )
    except (RuntimeError, ValueError):
        return None
    return float(lam), float(sigma), float(kappa)


def peak(sigma: float, kappa: float) -> float:
    """N* = sqrt((1-sigma)/kappa), the users where throughput peaks; inf for kappa 0."""
    return math.sqrt((1 - sigma) / kappa) if kappa > 0 else math.inf


def usl_fit(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The USL's sigma, kappa and N* with N*'s 95% interval, from USL_MIN_LEVELS levels or more."""
    if len(levels) < USL_MIN_LEVELS:
        return None
    users = np.array([lv["users"] for lv in levels], dtype=float)
    goodput = np.array([lv["goodput"] for lv in levels], dtype=float)
    fitted = fit(users, goodput)
    if fitted is None:
        return None
    lam, sigma, kappa = fitted
    spread = np.array([(bounds(lv)[1] - bounds(lv)[0]) / (2 * Z_95) for lv in levels])
    rng = np.random.default_rng(USL_SEED)
    peaks = []
    for _ in range(USL_RESAMPLES):
        refit = fit(users, np.maximum(goodput + rng.normal(0, 1, len(levels)) * spread, 1e-9))
        if refit is not None:
            peaks.append(peak(refit[1], refit[2]))
    finite = np.array(peaks)
    low, high = np.percentile(finite, (2.5, 97.5)) if len(finite) else (math.inf, math.inf)
    n_star = peak(sigma, kappa)
    return {
        "lambda": round(lam, 3),
        "sigma": round(sigma, 4),
        "kappa": round(kappa, 6),
        "peak_users": None if math.isinf(n_star) else round(n_star, 1),
        "peak_users_ci": [None if math.isinf(v) else round(float(v), 1) for v in (low, high)],
    }


def usl_text(fitted: Mapping[str, Any] | None) -> str | None:
    """The USL's line under the saturation sentence."""
    if fitted is None:
        return None
    low, high = fitted["peak_users_ci"]
    if fitted["peak_users"] is None:
        where = "no peak in sight (kappa = 0)"
    else:
        interval = f"[{low:.0f}, {'∞' if high is None else f'{high:.0f}'}]"
        where = f"peak near {fitted['peak_users']:.0f} users {interval}"
    return (
        f"USL fit: sigma {fitted['sigma']:.3f} (contention), kappa {fitted['kappa']:.5f} "
        f"(coherency), {where}"
    )


def little_checks(levels: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Little's law per level: the users that the measured req/s, response times and think
    times account for, against the level's users; `off` when they differ by over LITTLE_MISS."""
    think = sum(PACED_WAIT_SECONDS) / 2
    checks = []
    for level in levels:
        seconds = level["seconds"]
        if not seconds or not level["types"]:
            continue
        busy = sum(
            (t["ok"] + t["error"])
            / seconds
            * (t.get("mean", t["p50"]) / 1000 + (think if name in PACED_TYPES else 0))
            for name, t in level["types"].items()
        )
        allowed = LITTLE_MISS * level["users"] + edge_users(level, think)
        checks.append(
            {
                "users": level["users"],
                "accounted": round(busy, 2),
                "off": abs(busy - level["users"]) > allowed,
            }
        )
    return checks


def edge_users(level: Mapping[str, Any], think: float) -> float:
    """The users that the measured window's two edges alone can add or take: a user may have
    sent up to one request more or fewer at each edge than its rate says, one cycle
    (response time + think time) each. In a level of a few seconds a paced user's cycle
    (~0.75 s) is a large part of it, so this keeps the check from blaming the generator for
    what is only the window's length."""
    response = ((level.get("all") or {}).get("mean") or 0) / 1000
    cycles = sum(
        users * (response + (think if kind in PACED_KINDS else 0))
        for kind, users in (level.get("users_by_kind") or {}).items()
    )
    return 2 * cycles / level["seconds"]


def little_text(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """A NOTE naming the levels where Little's law fails by more than LITTLE_MISS."""
    off = [c for c in checks if c["off"]]
    if not off:
        return None
    levels = ", ".join(f"{c['users']} users ({c['accounted']:.1f} accounted for)" for c in off)
    return (
        f"NOTE: Little's law misses by over {100 * LITTLE_MISS:.0f}% at {levels}: req/s x "
        "(response time + think time) does not make the level's users, so some users did not "
        "send (or time went into the generator): a generator artefact, not the service"
    )
