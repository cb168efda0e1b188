"""The comparison rule on synthetic samples: noise is same, a clear change is slower or faster."""

import numpy as np
import pytest

from ecsload.report.comparison import (
    FASTER,
    MIN_SAMPLES,
    SAME,
    SLOWER,
    Rule,
    TypeSamples,
    compare,
    comparison_table,
)

RNG = np.random.default_rng(7)


def latencies(median_ms: float, n: int = 2000, spread: float = 0.4) -> np.ndarray:
    """Log-normal response times around `median_ms`, as a service's look."""
    return median_ms * RNG.lognormal(0.0, spread, n)


def one_type(before: np.ndarray, now: np.ndarray, rule: Rule, errors: tuple[int, int] = (0, 0)):
    """The comparison of one type at one level."""
    result = compare(
        {10: {"NoOp": TypeSamples(before, errors[0])}},
        {10: {"NoOp": TypeSamples(now, errors[1])}},
        rule,
    )
    return result["levels"][0]["types"]["NoOp"]


def test_two_draws_of_the_same_service_are_the_same() -> None:
    figures = one_type(latencies(20), latencies(20), Rule(run_noise_percent=0))

    assert figures["verdict"] == SAME
    assert {figures[f"p{p}"]["verdict"] for p in (50, 95, 99)} == {SAME}


def test_a_service_three_times_slower_is_slower_even_with_the_run_noise() -> None:
    figures = one_type(latencies(20), latencies(60), Rule())

    assert figures["verdict"] == SLOWER
    assert figures["p50"]["verdict"] == SLOWER
    assert figures["p50"]["change_percent"] == pytest.approx(200, abs=15)
    low, high = figures["p50"]["interval_ms"]
    assert 2 < low < 40 < high


def test_the_tails_need_a_larger_change_than_the_median() -> None:
    # x2.5: beyond the run noise of the median (20%), within those of p95 and p99 (30%, 40%)
    figures = one_type(latencies(20, 5000), latencies(50, 5000), Rule())

    assert [figures[f"p{p}"]["verdict"] for p in (50, 95, 99)] == [SLOWER, SAME, SAME]


def test_a_service_three_times_faster_is_faster() -> None:
    assert one_type(latencies(60), latencies(20), Rule())["verdict"] == FASTER


def test_a_change_within_the_tolerance_is_the_same_however_many_samples() -> None:
    # +5% on 20,000 samples a run is significant, but under the 10% tolerance.
    rule = Rule(run_noise_percent=0)
    assert one_type(latencies(20, 20_000), latencies(21, 20_000), rule)["verdict"] == SAME
    # +30% is beyond it: without run noise, slower...
    assert one_type(latencies(20, 20_000), latencies(26, 20_000), rule)["verdict"] == SLOWER
    # ...but within what two runs of the same service differ by here (run noise 20%).
    assert one_type(latencies(20, 20_000), latencies(26, 20_000), Rule())["verdict"] == SAME


def test_under_a_millisecond_is_never_a_change() -> None:
    rule = Rule(run_noise_percent=0)
    assert one_type(latencies(0.2, 20_000), latencies(0.5, 20_000), rule)["verdict"] == SAME


def test_too_few_samples_are_not_judged() -> None:
    few = MIN_SAMPLES - 1
    figures = one_type(latencies(20, few), latencies(200, few), Rule(run_noise_percent=0))

    assert figures["verdict"] == SAME
    assert figures["p50"]["interval_ms"] is None
    assert figures["samples"] == [few, few]


def test_errors_that_start_are_slower_and_a_few_more_are_not() -> None:
    same_times = latencies(20)
    started = one_type(same_times, same_times, Rule(), errors=(0, 200))
    assert started["verdict"] == SLOWER
    assert started["error_percent"]["verdict"] == SLOWER
    assert started["error_percent"]["now"] == 10.0
    assert one_type(same_times, same_times, Rule(), errors=(0, 3))["verdict"] == SAME


def test_the_same_runs_always_get_the_same_verdicts() -> None:
    before, now = latencies(20), latencies(23)
    rule = Rule(run_noise_percent=0)
    assert one_type(before, now, rule) == one_type(before, now, rule)


def test_levels_and_types_in_one_run_only_are_listed_not_judged() -> None:
    times = TypeSamples(latencies(20), 0)
    baseline = {10: {"NoOp": times, "Version": times}, 20: {"NoOp": times}}
    current = {10: {"NoOp": times, "Health-Check-Quick": times}, 30: {"NoOp": times}}

    result = compare(baseline, current, Rule())

    assert [level["users"] for level in result["levels"]] == [10]
    assert (result["levels_only_in_baseline"], result["levels_only_in_run"]) == ([20], [30])
    level = result["levels"][0]
    assert list(level["types"]) == ["NoOp"]
    assert level["types_only_in_baseline"] == ["Version"]
    assert level["types_only_in_run"] == ["Health-Check-Quick"]
    assert result["verdict"] == SAME

    table = comparison_table({"baseline": "results/A", "generator_busy_levels": [], **result})
    assert table.splitlines()[1] == "Comparison with the baseline results/A: same"
    assert "Levels only in this run (not compared): 30 users" in table
    assert "Levels only in the baseline (not compared): 20 users" in table
    assert "At 10 users, only in the baseline (not compared): Version" in table


def test_the_table_says_which_figures_changed() -> None:
    baseline = {10: {"Tasks-Happy-Path": TypeSamples(latencies(20), 0)}}
    current = {10: {"Tasks-Happy-Path": TypeSamples(latencies(80), 0)}}
    result = compare(baseline, current, Rule(run_noise_percent=0))

    table = comparison_table({"baseline": "results/A", "generator_busy_levels": [10], **result})

    row = next(line for line in table.splitlines() if "Tasks-Happy-Path" in line)
    assert row.endswith("slower (p50, p95, p99)")
    assert "NOTE: the load generator was busy over 85% at 10 users" in table
