"""The repeats' widening of a level's draws (analysis/intervals.py), on hand-made draws."""

import math

import numpy as np

from ecsload.analysis.intervals import interval, widened

FACTOR = math.sqrt(2)  # two repeats


def test_widening_spreads_draws_around_their_median() -> None:
    draws = np.array([[8.0], [10.0], [12.0]])
    assert widened(draws, FACTOR)[:, 0].tolist() == [10 - 2 * FACTOR, 10.0, 10 + 2 * FACTOR]


def test_a_latency_widened_stays_a_latency() -> None:
    """Repeats far apart (a draw of 1 ms beside one of 120) widened by sqrt(2) reached
    below 0 ms (-2.5); a latency's, a rate's or a share's draws stop at 0."""
    draws = np.array([[1.0, math.nan], [10.0, math.nan], [120.0, math.nan], [9.0, math.nan]])
    assert widened(draws, FACTOR)[0, 0] < 0
    spread = widened(draws, FACTOR, lowest=0.0)
    assert spread[:, 0].min() == 0.0 and spread[:, 0].max() > 120
    assert np.isnan(spread[:, 1]).all()  # a figure missing from every draw stays missing
    low, _ = interval(spread[:, 0]) or (None, None)
    assert low is not None and low >= 0


def test_a_trend_widened_may_be_negative() -> None:
    draws = np.array([[-1.0], [0.5], [2.0]])
    assert widened(draws, FACTOR)[0, 0] < -1.0
