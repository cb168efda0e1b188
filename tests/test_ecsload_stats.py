"""Exact percentiles and the latency trend, against hand-computed values and numpy."""

import numpy as np
import pytest

from ecsload.analysis.stats import group_statistics, trend
from ecsload.vocabulary import PERCENTILES


def test_percentiles_by_hand() -> None:
    rt = np.array([4.0, 1.0, 3.0, 2.0])
    stats = group_statistics(np.ones(4, bool), np.full(4, 200), rt, np.arange(4.0))
    # Linear interpolation over the sorted values 1 2 3 4: position (n - 1) * p / 100.
    assert stats["min"] == 1.0
    assert stats["p50"] == 2.5
    assert stats["p60"] == 2.8
    assert stats["p90"] == 3.7
    assert stats["p99"] == 3.97
    assert stats["max"] == 4.0


def test_percentiles_match_numpy_on_many_samples() -> None:
    rng = np.random.default_rng(7)
    rt = rng.lognormal(1.0, 0.8, 100_001)
    stats = group_statistics(np.ones(len(rt), bool), np.full(len(rt), 200), rt, np.zeros(len(rt)))
    for p in PERCENTILES:
        assert stats[f"p{p}"] == pytest.approx(np.percentile(rt, p), abs=5e-4)


def test_trend_by_hand() -> None:
    assert trend(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])) == (2.0, 1.0)
    m, b = trend(np.array([0.0, 0.0, 2.0, 2.0]), np.array([1.0, 3.0, 2.0, 4.0]))
    assert (m, b) == (pytest.approx(0.5), pytest.approx(2.0))


def test_trend_matches_numpy_polyfit() -> None:
    rng = np.random.default_rng(3)
    seconds = np.sort(rng.uniform(0, 60, 10_000))
    rt = 5.0 + 0.25 * seconds + rng.normal(0, 2, len(seconds))
    m, b = trend(seconds, rt)
    expected_m, expected_b = np.polyfit(seconds, rt, 1)
    assert m == pytest.approx(expected_m, rel=1e-9)
    assert b == pytest.approx(expected_b, rel=1e-9)
    assert m == pytest.approx(0.25, abs=0.01)


def test_trend_of_one_instant_is_flat_at_the_mean() -> None:
    assert trend(np.array([3.0]), np.array([7.0])) == (0.0, 7.0)
    assert trend(np.array([1.0, 1.0]), np.array([2.0, 4.0])) == (0.0, 3.0)


def test_counts() -> None:
    ok = np.array([True, False, False, True, False])
    status = np.array([200, 503, 0, 200, 503])
    stats = group_statistics(ok, status, np.ones(5), np.arange(5.0))
    assert (stats["ok"], stats["error"], stats["rate_limited"]) == (2, 3, 2)
    assert list(stats) == [
        "ok",
        "error",
        "rate_limited",
        "no_answer",
        "min",
        "mean",
        *(f"p{p}" for p in PERCENTILES),
        "max",
        "m",
        "b",
    ]
