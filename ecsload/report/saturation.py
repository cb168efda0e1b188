"""Where the service saturates, from the levels' measured figures: one sentence and its numbers.

The rule (docs/verdicts.md): going from U1 to U2 users, throughput *keeps pace*
when req/s grows by at least KEEP_PACE (half) of the users' growth: +25% users
needs +12.5% req/s. The knee is the first level after which no later level keeps
pace with it while p95 rises by LATENCY_RISE (10%) or more at the next level:
throughput stopped growing with added users and the users' requests queue
instead. Only answered requests count for the knee (a level where none was
answered is skipped): a refused request is neither throughput nor latency.
Errors start at the first level where ERRORS_START_PERCENT (1%) or more of the
measured requests failed (rate-limited ones included). When the load
generator was the busy one at the knee, the sentence says so: the knee may be
the generator's, not the service's.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ecsload.report.generator import GENERATOR_BUSY_PERCENT, generator_busy
from ecsload.report.tables import percent

KEEP_PACE = 0.5
LATENCY_RISE = 1.10
ERRORS_START_PERCENT = 1.0
LABEL = "Saturation: "


def keeps_pace(low: Mapping[str, Any], high: Mapping[str, Any]) -> bool:
    """Whether req/s grew at least KEEP_PACE as fast as the users from `low` to `high`."""
    users_growth = high["users"] / low["users"] - 1
    return high["rps"] / low["rps"] - 1 >= KEEP_PACE * users_growth


def knee(levels: Sequence[Mapping[str, Any]]) -> int | None:
    """The index of the first level that no later level keeps pace with, while p95 rises
    at the next level; None when throughput kept pace (or latency did not rise)."""
    for i, level in enumerate(levels[:-1]):
        rises = levels[i + 1]["all"]["p95"] >= LATENCY_RISE * level["all"]["p95"]
        if rises and not any(keeps_pace(level, later) for later in levels[i + 1 :]):
            return i
    return None


def answered_only(level: Mapping[str, Any]) -> dict[str, Any]:
    """The level with its req/s counting answered requests only: requests refused or cut
    at the time cap are no throughput (its percentiles are over answered ones already)."""
    unanswered = level["all"].get("no_answer", 0) / level["requests"]  # absent: an older summary
    return {**level, "rps": level["rps"] * (1 - unanswered)}


def saturation(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's `saturation`: the sentence under the table across levels (`text`) and
    the figures it names."""
    measured = [
        answered_only(level)
        for level in levels
        if level["rps"] and level["all"] and level["all"]["p95"] is not None
    ]
    result: dict[str, Any] = {
        "users": None,
        "rps": None,
        "next_users": None,
        "p95_ratio": None,
        "rps_change_percent": None,
        "errors_from_users": None,
        "error_percent": None,
        "rate_limited_percent": None,
        "generator_busy_percent": None,
        "keep_pace": KEEP_PACE,
    }
    if len(measured) < 2:
        ran = "no level was" if not measured else "one level was"
        result["text"] = f"{LABEL}{ran} measured: a sweep of two or more levels is needed to tell"
        return result
    parts = knee_sentence(measured, result)
    parts += errors_sentence([level for level in levels if level["all"]], result)
    if not parts:
        first, last = measured[0], measured[-1]
        parts = [
            f"no saturation up to {last['users']} users (req/s {first['rps']:.0f} at "
            f"{first['users']} users, {last['rps']:.0f} at {last['users']})"
        ]
    result["text"] = LABEL + "; ".join(parts)
    return result


def knee_sentence(levels: Sequence[Mapping[str, Any]], result: dict[str, Any]) -> list[str]:
    i = knee(levels)
    if i is None:
        return []
    level, after = levels[i], levels[i + 1]
    ratio = after["all"]["p95"] / level["all"]["p95"]
    change = 100 * (after["rps"] / level["rps"] - 1)
    busy = generator_busy(level)
    result.update(
        users=level["users"],
        rps=level["rps"],
        next_users=after["users"],
        p95_ratio=round(ratio, 2),
        rps_change_percent=round(change, 1),
        generator_busy_percent=busy,
    )
    sentence = (
        f"throughput stops growing at {level['users']} users (~{level['rps']:.0f} req/s); "
        f"from {level['users']} to {after['users']} users p95 x{ratio:.1f} for "
        f"{change:+.0f}% req/s"
    )
    if busy is not None and busy > GENERATOR_BUSY_PERCENT:
        sentence += (
            f" (but the load generator was busy {busy:.0f}% there: the limit may be "
            "its own; see the probe)"
        )
    return [sentence]


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
