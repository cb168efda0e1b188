"""The comparison on hand-made runs whose right answer is known: A/A is same, a shifted copy
beyond what it could see is slower, goodput down 40% with equal latencies is slower."""

import numpy as np

from ecsload.report.comparison.statistics import (
    FASTER,
    MIN_SAMPLES,
    NOT_JUDGED,
    SAME,
    SLOWER,
    Rule,
    compare,
    holm,
)
from ecsload.report.comparison.text import comparison_table
from ecsload.report.samples import Samples

TYPES = ("NoOp", "Tasks-Happy-Path")


def run(
    seed: int,
    median_ms: float = 20.0,
    rate: float = 200.0,
    seconds: float = 20.0,
    repeats: int = 2,
    errors: float = 0.0,
    types: tuple[str, ...] = TYPES,
) -> Samples:
    """A level's measured samples: `rate` requests/s for `seconds` in each repeat, log-normal
    response times around `median_ms`, a share `errors` failed; types in turn."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    parts = []
    for r in range(repeats):
        start = 1_700_000_000_000 + r * 100_000
        sent = np.sort(start + rng.uniform(0, seconds * 1000, n)).astype(np.int64)
        parts.append((sent, np.full(n, r + 1)))
    timestamps = np.concatenate([p[0] for p in parts])
    total = len(timestamps)
    ok = rng.random(total) >= errors
    return Samples(
        timestamp_ms=timestamps,
        type_code=(np.arange(total) % len(types)).astype(np.int16),
        type_names=types,
        user_id=np.arange(total) % 10,
        ok=ok,
        status=np.where(ok, 200, 500).astype(np.int16),
        response_time_ms=median_ms * rng.lognormal(0.0, 0.4, total),
        measured=np.ones(total, dtype=bool),
        error=np.full(total, b""),
        late_ms=np.zeros(total),
        repeat=np.concatenate([p[1] for p in parts]).astype(np.int16),
    )


def compared(before: Samples, now: Samples, rule: Rule | None = None) -> dict:
    return compare({10: before}, {10: now}, rule or Rule())


def test_an_a_a_pair_of_identical_distributions_is_same() -> None:
    for seed in range(5):
        result = compared(run(seed), run(100 + seed))
        assert result["verdict"] == SAME, result["levels"][0]


def test_a_shifted_copy_beyond_the_detectable_change_is_slower() -> None:
    result = compared(run(1), run(2, median_ms=30))  # +50%
    level = result["levels"][0]

    assert level["could_see"]["p95"] < 50
    assert result["verdict"] == SLOWER
    assert level["all"]["p50"]["verdict"] == SLOWER
    assert level["types"]["Tasks-Happy-Path"]["verdict"] == SLOWER


def test_goodput_down_40_percent_with_equal_latencies_is_slower() -> None:
    result = compared(run(1), run(2, rate=120))
    overall = result["levels"][0]["all"]

    assert overall["goodput"]["verdict"] == SLOWER
    assert overall["goodput"]["change_percent"] < -35
    assert overall["p50"]["verdict"] == SAME
    assert result["verdict"] == SLOWER


def test_a_faster_service_is_faster() -> None:
    assert compared(run(1, median_ms=30), run(2))["verdict"] == FASTER


def test_a_change_within_the_tolerance_is_the_same() -> None:
    # +5% with many samples: within the 10% tolerance whatever the test says
    result = compared(run(1, rate=2000), run(2, median_ms=21, rate=2000))
    assert result["verdict"] == SAME


def test_the_run_noise_floor_widens_what_counts_as_noise() -> None:
    before, now = run(1), run(2, median_ms=26)  # +30%
    assert compared(before, now)["verdict"] == SLOWER
    assert compared(before, now, Rule(run_noise_percent=40))["verdict"] == SAME


def test_a_level_measured_once_is_shown_not_judged_unless_a_floor_stands_for_the_drift() -> None:
    """One repeat cannot show the drift between runs: even a +50% copy is not called slower
    from its windows alone (default sweeps alarmed in 5 of 5 A/A pairs that way)."""
    before, now = run(1, repeats=1), run(2, median_ms=30, repeats=2)
    result = compared(before, now)
    [level] = result["levels"]
    assert result["verdict"] == level["verdict"] == NOT_JUDGED
    assert level["could_see"] == {}
    assert level["not_judged"] == "measured in 1 and 2 repeat(s)"
    assert level["all"]["p50"]["change_percent"] > 40  # shown: before, now, the change
    assert level["all"]["p50"]["verdict"] == NOT_JUDGED
    assert level["types"]["Tasks-Happy-Path"]["verdict"] == NOT_JUDGED
    assert result["tests"] == 0  # nothing judged: the family is empty
    text = comparison_table({**result, "baseline": "A", "generator_busy_levels": []})
    assert "not judged (measured in 1 and 2 repeat(s))" in text
    assert "NOTE: a level is not judged when one repeat cannot show" in " ".join(text.split())
    floored = compared(before, now, Rule(run_noise_percent=10))
    assert floored["verdict"] == SLOWER and floored["levels"][0]["not_judged"] is None


def test_judged_levels_keep_their_verdict_beside_one_that_is_not() -> None:
    result = compare(
        {10: run(1), 20: run(3, repeats=1)}, {10: run(2, median_ms=30), 20: run(4)}, Rule()
    )
    assert [level["verdict"] for level in result["levels"]] == [SLOWER, NOT_JUDGED]
    assert result["verdict"] == SLOWER


def test_errors_that_start_are_slower() -> None:
    result = compared(run(1), run(2, errors=0.10))
    assert result["levels"][0]["all"]["error_percent"]["verdict"] == SLOWER


def test_too_few_samples_of_a_type_are_not_judged() -> None:
    rare = ("NoOp",) + ("Tasks-Happy-Path",) * 999
    result = compared(run(1, rate=20, types=rare), run(2, rate=20, types=rare))
    noop = result["levels"][0]["types"]["NoOp"]
    assert min(noop["samples"]) < MIN_SAMPLES
    assert "p50" not in noop


def test_holm_is_step_down() -> None:
    assert holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert holm([0.01, 0.02, 0.03], 0.1) == [True, True, True]


def test_the_same_runs_always_get_the_same_verdicts() -> None:
    before, now = run(1), run(2, median_ms=23)
    assert compared(before, now) == compared(before, now)


def test_the_table_says_what_changed_and_what_it_could_see() -> None:
    result = compared(run(1), run(2, median_ms=60))
    baseline = {"baseline": "results/A", "generator_busy_levels": [10]}
    table = comparison_table({**baseline, **result})

    row = next(line for line in table.splitlines() if "Tasks-Happy-Path" in line)
    assert row.endswith("slower (p50, p95, p99)")
    assert any(
        line.startswith("At 10 users: goodput") and "could see: p95 ±" in line
        for line in table.splitlines()
    )
    assert "NOTE: the load generator was busy over 85% at 10 users" in table
    assert max(map(len, table.splitlines())) <= 100


def test_levels_in_one_run_only_are_listed_not_judged() -> None:
    result = compare({10: run(1), 20: run(2)}, {10: run(3), 30: run(4)}, Rule())

    assert [level["users"] for level in result["levels"]] == [10]
    assert (result["levels_only_in_baseline"], result["levels_only_in_run"]) == ([20], [30])
