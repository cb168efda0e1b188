"""Exact latency statistics of a set of samples: percentiles, and the trend during a level.

Locust buckets its percentiles (at loopback latencies they read 0 or 1 ms);
these are computed over every sample, with numpy's default linear interpolation.
"""

import numpy as np

PERCENTILES = (50, 60, 70, 80, 90, 95, 99)
PROBE_PERCENTILES = (50, 95, 99)
RATE_LIMITED = 503


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
) -> dict[str, float | int]:
    """Counts, min, percentiles, max (ms) and trend of one group of samples (at least one).

    The keys are those of summary.json's per-type objects.
    """
    n_ok = int(np.count_nonzero(ok))
    m, b = trend(seconds, response_time_ms)
    result: dict[str, float | int] = {
        "ok": n_ok,
        "error": len(ok) - n_ok,
        "rate_limited": int(np.count_nonzero(status == RATE_LIMITED)),
        "min": round(float(response_time_ms.min()), 3),
    }
    result.update(percentiles(response_time_ms, PERCENTILES))
    result["m"] = round(m, 6)
    result["b"] = round(b, 3)
    return result


def percentiles(response_time_ms: np.ndarray, which: tuple[int, ...]) -> dict[str, float]:
    """`{"p50": …, …, "max": …}` in ms over every value (at least one)."""
    values = np.percentile(response_time_ms, which)
    result = {f"p{p}": round(float(value), 3) for p, value in zip(which, values, strict=True)}
    result["max"] = round(float(response_time_ms.max()), 3)
    return result
