"""The saturation rule on synthetic levels: a clear knee, none, errors starting, one level."""

from typing import Any

from ecsload.report.saturation import saturation
from ecsload.report.tables import run_table


def level(
    users: int, rps: float, p95: float, errors: int = 0, limited: int = 0, busy: float = 40
) -> dict[str, Any]:
    """The figures of a summary.json LEVEL that the rule and the table across levels read."""
    requests = 1000
    figures = {"ok": requests - errors, "error": errors, "rate_limited": limited, "no_answer": 0}
    figures |= {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.5}
    return {
        "users": users,
        "users_measured": users,
        "requests": requests,
        "seconds": requests / rps,
        "rps": rps,
        "all": figures,
        "types": {},
        "probe": None,
        "generator": {"cpu_percent_max": busy, "busy_percent_max": busy},
    }


def test_a_clear_knee_is_named_with_its_throughput_and_what_the_next_level_cost() -> None:
    levels = [level(10, 200, 5), level(15, 300, 5.2), level(20, 410, 6), level(25, 426, 18.6)]

    result = saturation(levels)

    assert result["text"] == (
        "Saturation: throughput stops growing at 20 users (~410 req/s); "
        "from 20 to 25 users p95 x3.1 for +4% req/s"
    )
    assert (result["users"], result["rps"], result["next_users"]) == (20, 410, 25)
    assert (result["p95_ratio"], result["rps_change_percent"]) == (3.1, 3.9)
    assert result["errors_from_users"] is None


def test_throughput_that_keeps_pace_is_no_saturation() -> None:
    # +50%, +33%, +25% users; req/s +40%, +20% (over half of +33%), +13% (over half of +25%)
    levels = [level(10, 200, 5), level(15, 280, 6), level(20, 336, 7), level(25, 380, 8)]

    result = saturation(levels)

    assert result["text"] == (
        "Saturation: no saturation up to 25 users (req/s 200 at 10 users, 380 at 25)"
    )
    assert result["users"] is None


def test_a_dip_that_a_later_level_recovers_from_is_no_knee() -> None:
    levels = [level(10, 400, 5), level(15, 380, 8), level(20, 800, 9)]

    assert saturation(levels)["users"] is None


def test_flat_throughput_without_rising_latency_is_no_knee() -> None:
    levels = [level(10, 400, 5), level(20, 410, 5.1)]

    assert "no saturation up to 20 users" in saturation(levels)["text"]


def test_errors_starting_are_named_with_their_share_and_the_rate_limited_part() -> None:
    levels = [level(10, 200, 5), level(20, 400, 5.5, errors=5), level(30, 590, 6, 60, 50)]

    result = saturation(levels)

    assert result["text"] == (
        "Saturation: errors start at 30 users (6.0% of the requests, 5.0% rate limited)"
    )
    assert (result["errors_from_users"], result["error_percent"]) == (30, 6.0)
    assert result["rate_limited_percent"] == 5.0


def test_a_knee_and_errors_are_both_said() -> None:
    levels = [level(10, 400, 5), level(20, 410, 12, errors=30)]

    text = saturation(levels)["text"]

    assert text.startswith("Saturation: throughput stops growing at 10 users (~400 req/s); ")
    assert text.endswith("; errors start at 20 users (3.0% of the requests, 0.0% rate limited)")


def test_a_knee_where_the_generator_was_busy_says_it_may_be_the_generators() -> None:
    levels = [level(10, 4000, 1, busy=97), level(20, 4100, 3, busy=99)]

    result = saturation(levels)

    assert (
        "(but the load generator was busy 97% there: the limit may be its own" in (result["text"])
    )
    assert result["generator_busy_percent"] == 97


def test_one_level_says_a_sweep_is_needed() -> None:
    result = saturation([level(10, 200, 5)])

    assert result["text"] == (
        "Saturation: one level was measured: a sweep of two or more levels is needed to tell"
    )
    assert result["users"] is None


def test_the_sentence_is_under_the_table_across_levels() -> None:
    levels = [level(10, 200, 5), level(20, 400, 6)]
    summary = {"endpoint": None, "levels": levels, "saturation": saturation(levels)}

    assert run_table(summary).splitlines()[-1] == summary["saturation"]["text"]
