"""Exact latency statistics of a set of samples: percentiles, and the trend during a level.

Locust buckets its percentiles (at loopback latencies they read 0 or 1 ms);
these are computed over every answered sample, with numpy's default linear
interpolation. A request with no answer (status 0: refused, reset, cut at the
time cap) is an error, counted, but never a latency: its "response time" is how
long it waited for nothing, and a fast refusal would pull the percentiles down.
"""

import numpy as np

from ecsload.vocabulary import PERCENTILES

RATE_LIMITED = 503
NO_ANSWER = 0  # the status of a request that got no answer


def percent(part: int, whole: int) -> float:
    """`part` as a percentage of `whole` (0 of nothing)."""
    return 100.0 * part / whole if whole else 0.0


def trend(seconds: np.ndarray, response_time_ms: np.ndarray) -> tuple[float, float]:
    """Least-squares slope m (ms per second) and intercept b (ms) of latency against time.

    m > 0 means responses got slower as the level went on. With a single instant
    there is no slope: m = 0 and b is the mean.
    """
    x_mean = seconds.mean()
    y_mean = response_time_ms.mean()
    dx = seconds - x_mean
    sxx = float(dx @ dx)
    if sxx == 0.0:
        return 0.0, float(y_mean)
    m = float(dx @ (response_time_ms - y_mean)) / sxx
    return m, float(y_mean - m * x_mean)


def group_statistics(
    ok: np.ndarray, status: np.ndarray, response_time_ms: np.ndarray, seconds: np.ndarray
) -> dict[str, float | int | None]:
    """Counts of one group of samples (at least one), and min, percentiles, max (ms) and
    trend of its answered ones (None when none was answered).

    The keys are those of summary.json's per-type objects.
    """
    n_ok = int(np.count_nonzero(ok))
    answered = status != NO_ANSWER
    result: dict[str, float | int | None] = {
        "ok": n_ok,
        "error": len(ok) - n_ok,
        "rate_limited": int(np.count_nonzero(status == RATE_LIMITED)),
        "no_answer": len(ok) - int(np.count_nonzero(answered)),
    }
    times = response_time_ms[answered]
    if not len(times):
        keys = ("min", "mean", *(f"p{p}" for p in PERCENTILES), "max", "m", "b")
        return result | dict.fromkeys(keys)
    m, b = trend(seconds[answered], times)
    result["min"] = round(float(times.min()), 3)
    result["mean"] = round(float(times.mean()), 3)
    result.update(percentiles(times, PERCENTILES))
    result["m"] = round(m, 6)
    result["b"] = round(b, 3)
    return result


def percentiles(response_time_ms: np.ndarray, which: tuple[int, ...]) -> dict[str, float]:
    """`{"p50": …, …, "max": …}` in ms over every value (at least one)."""
    values = np.percentile(response_time_ms, which)
    result = {f"p{p}": round(float(value), 3) for p, value in zip(which, values, strict=True)}
    result["max"] = round(float(response_time_ms.max()), 3)
    return result
