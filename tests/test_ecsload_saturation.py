"""The saturation rule on hand-made levels whose right answer is known: the issue's misjudged
sweep, steady growth, a plateau, a noisy non-monotonic series, errors, the USL, Little's law."""

from typing import Any

import pytest

from ecsload.analysis.saturation import saturation
from ecsload.model import PACED_KINDS, PACED_TYPES
from ecsload.report.tables import run_table


def level(
    users: int,
    goodput: float,
    spread: float = 0.05,
    errors: int = 0,
    limited: int = 0,
    busy: float = 40,
    p50: float = 5.0,
) -> dict[str, Any]:
    """The figures of a summary.json LEVEL that the rule and the table read; goodput's 95%
    interval is ±`spread` of it. Its requests are all Tasks (no think time)."""
    seconds = 10.0
    requests = round(goodput * seconds) + errors
    figures = {"ok": requests - errors, "error": errors, "rate_limited": limited}
    figures |= {"p50": p50, "p95": p50 * 2, "p99": p50 * 3, "mean": p50}
    return {
        "users": users,
        "users_measured": users,
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds,
        "goodput": goodput,
        "error_percent": 100 * errors / requests,
        "ci": {"goodput": [goodput * (1 - spread), goodput * (1 + spread)]},
        "all": figures,
        "types": {"Tasks-Happy-Path": figures},
        "probe": None,
        "generator": {"cpu_percent_max": busy, "busy_percent_max": busy},
    }


def series(users: list[int], goodputs: list[float], spread: float) -> list[dict[str, Any]]:
    return [level(u, g, spread) for u, g in zip(users, goodputs, strict=True)]


def test_the_issues_sweep_is_not_said_to_stop_at_its_first_level() -> None:
    """514/612/523/658 at 10/15/20/25 users, each ±10%: 25 users gave +28% over 10."""
    result = saturation(series([10, 15, 20, 25], [514, 612, 523, 658], 0.10))

    assert "stops growing at 10" not in result["text"]
    assert "at or before 10" not in result["text"]
    assert result["users"] == 15  # 658 is within 612's interval, and none beats 612's
    assert result["text"].startswith("Saturation: throughput stops growing at 15 users")


def test_steady_growth_is_still_growing_at_the_last_level() -> None:
    goodputs = [500 * 1.15**i for i in range(4)]  # +15% a step, intervals ±3%

    result = saturation(series([10, 15, 20, 25], goodputs, 0.03))

    assert result["state"] == "highest"
    assert result["text"].startswith("Saturation: throughput still growing at the highest level")


def test_a_clear_plateau_is_named_at_its_first_level() -> None:
    result = saturation(series([10, 20, 30, 40, 50], [200, 400, 600, 610, 605], 0.03))

    assert (result["users"], result["state"]) == (30, "stops")
    assert "stops growing at 30 users (~600 ±18 OK/s)" in result["text"]


def test_a_flat_series_saturates_at_or_before_its_first_level() -> None:
    result = saturation(series([10, 15, 20, 25], [500, 505, 498, 502], 0.05))

    assert result["state"] == "first"
    assert "saturates at or before 10 users" in result["text"]


def test_a_noisy_non_monotonic_series_names_no_knee_below_a_level_that_beats_it() -> None:
    goodputs = [300, 520, 470, 540, 480, 700, 650]  # 700 at 35 beats 520-540 beyond ±8%
    levels = series([5, 10, 15, 20, 25, 35, 45], goodputs, 0.08)

    result = saturation(levels)

    knee = result["users"]
    high = next(lv for lv in levels if lv["users"] == knee)["ci"]["goodput"][1]
    assert not any(lv["ci"]["goodput"][0] > high for lv in levels if lv["users"] > knee)
    assert knee == 35


def test_wide_intervals_make_a_smaller_level_the_knee_only_when_nothing_beats_it() -> None:
    # 560 is within its ±15% of 600, but 600 ±1% at 30 does not beat 560's high end (644)
    result = saturation([level(10, 300, 0.02), level(20, 560, 0.15), level(30, 600, 0.01)])

    assert result["users"] == 20


def interval_level(users: int, goodput: float, half: float) -> dict[str, Any]:
    """A level whose goodput interval is ±`half` OK/s."""
    return level(users, goodput, half / goodput)


def test_a_level_inside_the_best_levels_interval_is_not_beaten_by_it() -> None:
    """The README's idle sweep: 398 ±20, 355 ±17, 411 ±38, 422 ±29 OK/s at 10-25 users. 422 is
    24 OK/s (6%) above 398, but their intervals overlap (392 to 418): no later level beats 10
    users beyond the intervals, so the knee is the first level, not 20."""
    levels = [
        interval_level(10, 397.7, 20.3),
        interval_level(15, 355.2, 16.7),
        interval_level(20, 411.3, 37.9),
        interval_level(25, 421.5, 29.1),
    ]

    result = saturation(levels)

    assert (result["users"], result["state"]) == (10, "first")
    assert result["text"].startswith("Saturation: saturates at or before 10 users (~398 ±20 OK/s)")


def test_a_narrow_best_beats_a_level_whose_interval_ends_below_it() -> None:
    # 400 ±10 ends at 410; 440 ±5 starts at 435: beaten (by 7.5% of the best, over the 5%)
    levels = [interval_level(10, 400, 10), interval_level(20, 440, 5), interval_level(30, 436, 5)]

    result = saturation(levels)

    assert (result["users"], result["state"]) == (20, "stops")


def test_levels_without_intervals_are_judged_by_five_percent_of_the_best() -> None:
    """5% of 447 is 22.35 OK/s: 445 beats 400 and 419 by more; 447 does not beat 445."""
    levels = [level(u, g, 0) for u, g in ((10, 400), (20, 419), (30, 445), (40, 447))]

    result = saturation(levels)

    assert (result["users"], result["state"]) == (30, "stops")


def test_errors_starting_are_named_with_their_share_and_the_rate_limited_part() -> None:
    levels = [level(10, 200), level(20, 400, errors=20), level(30, 590, errors=400, limited=300)]

    result = saturation(levels)

    assert result["text"].endswith(
        "; errors start at 30 users (6.3% of the requests, 4.8% rate limited)"
    )
    assert result["errors_from_users"] == 30


def test_a_knee_where_the_generator_was_busy_says_it_may_be_the_generators() -> None:
    result = saturation([level(10, 4000, busy=97), level(20, 4010, busy=99)])

    assert (
        "(but the load generator was busy 97% there: the limit may be its own" in (result["text"])
    )


def test_a_knee_measured_beside_another_sweep_says_the_limit_may_be_the_machines() -> None:
    """The two default sweeps run at once on this machine: each about 200 OK/s at every level
    (436-492 alone), so each read a knee at its first levels."""
    beside = [{"pid": 4321, "run": "/ci/b/20240501-120000", "started": None}]
    levels = series([10, 15, 20, 25], [204, 197, 235, 222], 0.1)
    for lv in levels[1:]:
        lv["other_sweeps"] = beside
    result = saturation(levels)
    assert result["shared_machine_levels"] == [15, 20, 25]
    assert result["text"].endswith(
        "(but another ecs-load sweep ran on this machine at 15, 20, 25 users: they shared "
        "its cores, so the limit may be the machine's, not the service's)"
    )
    alone = saturation(series([10, 15, 20, 25], [204, 197, 235, 222], 0.1))
    assert alone["shared_machine_levels"] == [] and "sweep" not in alone["text"]


def test_one_level_says_a_sweep_is_needed() -> None:
    result = saturation([level(10, 200)])

    assert result["text"] == (
        "Saturation: one level was measured: a sweep of two or more levels is needed to tell"
    )
    assert result["users"] is None


def test_the_usl_peak_is_found_on_a_usl_curve_with_five_levels() -> None:
    users = [5, 10, 20, 30, 40, 60]
    goodputs = [100 * n / (1 + 0.05 * (n - 1) + 0.0005 * n * (n - 1)) for n in users]
    true_peak = ((1 - 0.05) / 0.0005) ** 0.5  # 43.6 users

    result = saturation(series(users, goodputs, 0.02))

    usl = result["usl"]
    assert usl["peak_users"] == pytest.approx(true_peak, rel=0.05)
    low, high = usl["peak_users_ci"]
    assert low <= true_peak <= high
    assert any(line.startswith("USL fit: sigma 0.050") for line in result["notes"])


def test_the_usl_needs_five_levels() -> None:
    assert saturation(series([10, 20, 30, 40], [100, 180, 240, 260], 0.02))["usl"] is None


def test_littles_law_flags_a_level_whose_users_did_not_all_send() -> None:
    # 10 users of Tasks at 5 ms each make 2000 req/s; 600 req/s accounts for only 3 users
    levels = [level(10, 2000, p50=5.0), level(20, 600, p50=5.0)]

    result = saturation(levels)

    assert [c["off"] for c in result["little"]] == [False, True]
    assert any("Little's law misses by over 20% at 20 users" in n for n in result["notes"])


def mixed_level(seconds: float, extra_per_paced_user: int) -> dict[str, Any]:
    """10 users, 4 of them paced (think 0.75 s, answers in 25 ms: one request per 0.775 s),
    6 Tasks users (25 ms each, no think); each paced user sent `extra_per_paced_user`
    requests more than its rate says, as the edges of a short window allow."""
    paced = round(seconds / 0.775) + extra_per_paced_user
    tasks = round(6 * seconds / 0.025)
    figures = {"ok": paced, "error": 0, "p50": 25.0, "mean": 25.0}
    level_ = level(10, (4 * paced + tasks) / seconds, p50=25.0)
    level_ |= {"seconds": seconds, "users_by_kind": dict.fromkeys(PACED_KINDS, 1)}
    level_["users_by_kind"]["TasksUser"] = 6
    level_["types"] = {name: figures for name in PACED_TYPES}
    level_["types"]["Tasks-Happy-Path"] = {"ok": tasks, "error": 0, "p50": 25.0, "mean": 25.0}
    return level_


def test_littles_law_allows_a_short_windows_edges_not_a_long_ones() -> None:
    """A paced user with one request more in a 2 s window is the window's edge, not the
    generator (12.2 of 10 users accounted for); about as much over 30 s (12.6) is."""
    short, long_ = mixed_level(2.0, 1), mixed_level(30.0, 25)

    checks = saturation([short, long_])["little"]
    assert [c["off"] for c in checks] == [False, True]
    assert 12 < checks[0]["accounted"] < checks[1]["accounted"] < 13


def test_the_sentence_is_under_the_table_across_levels() -> None:
    levels = [level(10, 200), level(20, 400)]
    summary = {"endpoint": None, "levels": levels, "saturation": saturation(levels)}

    assert summary["saturation"]["text"] in run_table(summary).splitlines()
