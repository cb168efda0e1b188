"""The text tables an operator reads: one per level, one across levels (tabulate).

They are rendered from summary.json's documents (ecsload.summary), so the text
and the JSON always say the same thing. Times are in ms; m is in ms per second.
"""

from collections.abc import Callable, Mapping
from typing import Any

from tabulate import tabulate

from ecsload.report.stats import PERCENTILES

RATE_LIMIT_WARNING_RATIO = 0.01
LEVEL_COLUMNS = ("Request Type", "Ok", "Error", "m", "b", "Min", *map(str, PERCENTILES), "Max")
LEVEL_FORMATS = ("", "d", "d", ".3f", ".2f", ".2f", *[".2f"] * len(PERCENTILES), ".2f")


def framed(title: str) -> str:
    rule = "=" * len(title)
    return f"{rule}\n{title}\n{rule}"


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def level_table(level: Mapping[str, Any]) -> str:
    """The level's title, its table (one row per request type, by name) and what to note."""
    title = (
        f"{level['requests']} @ {level['concurrency']} from {level['started']} to {level['ended']}"
    )
    rows = [
        [
            name,
            t["ok"],
            t["error"],
            t["m"],
            t["b"],
            t["min"],
            *(t[f"p{p}"] for p in PERCENTILES),
            t["max"],
        ]
        for name, t in sorted(level["types"].items())
    ]
    table = tabulate(rows, headers=LEVEL_COLUMNS, floatfmt=LEVEL_FORMATS, intfmt="d")
    return "\n".join([framed(title), table, *level_notes(level)])


def level_notes(level: Mapping[str, Any]) -> list[str]:
    """Throughput and rate limiting, then anything that makes the numbers less than they seem."""
    requests, every = level["requests"], level["all"]
    rps = "n/a" if level["rps"] is None else f"{level['rps']:.1f}"
    limited = every["rate_limited"]
    notes = [
        f"Requests/s: {rps} ({requests} requests in {level['seconds']:.1f} s)",
        f"Rate limited: {limited} ({percent(limited, requests):.1f}% answered 503)",
    ]
    if limited > RATE_LIMIT_WARNING_RATIO * requests:
        notes.append(
            f"WARNING: {percent(limited, requests):.1f}% of the requests were rate limited, so "
            "these numbers mostly measure the rate limiter: raise the deployment's "
            "api_rate_limiting (see deployment.json.example) for load tests."
        )
    target = level.get("target_requests")
    if level.get("stopped_by") == "time":
        notes.append(
            f"NOTE: the level hit its time cap of {level['time_cap_seconds']} s "
            f"after {requests} of {target} requests."
        )
    elif level.get("stopped_by") == "other":
        notes.append(
            f"NOTE: the level was stopped early (interrupted or Locust quit) after "
            f"{requests} of {target} requests."
        )
    counted = level.get("locust_requests")
    workers = level.get("workers")
    if workers:
        notes.append(
            f"Workers: {workers['finished']} of {workers['joined']} sent all their "
            f"samples; {requests} samples received, Locust counted {counted} requests"
        )
    if workers and workers["lost"]:
        notes.append(
            f"NOTE: {workers['lost']} of {workers['joined']} workers lost mid-level: "
            "their last samples and statistics never arrived"
            + (
                f"; {target - requests} of the {target} requests have no sample."
                if target and requests < target
                else "."
            )
        )
    elif counted is not None and counted != requests:
        notes.append(
            f"NOTE: {requests} samples were recorded but Locust counted {counted} requests."
        )
    return notes


def run_table(summary: Mapping[str, Any]) -> str:
    """One column per level, one row per figure: each figure's trend as load grows reads
    left to right (volume, errors, rate limiting, overall and per-type latency)."""
    levels = summary["levels"]
    names = sorted({name for level in levels for name in level["types"]})
    figures: list[tuple[str, str, Callable[[Mapping[str, Any]], Any]]] = [
        ("Requests", "d", lambda lv: lv["requests"]),
        ("Seconds", ".1f", lambda lv: lv["seconds"]),
        ("Requests/s", ".1f", lambda lv: lv["rps"]),
        ("Error %", ".2f", lambda lv: percent(lv["all"]["error"], lv["requests"])),
        ("Rate limited %", ".2f", lambda lv: percent(lv["all"]["rate_limited"], lv["requests"])),
        *((f"p{p}", ".2f", lambda lv, p=p: lv["all"][f"p{p}"]) for p in (50, 95, 99)),
        *(
            (f"p95 {name}", ".2f", lambda lv, name=name: lv["types"].get(name, {}).get("p95"))
            for name in names
        ),
    ]
    rows = [
        [label, *(cell(value(level), fmt) for level in levels)] for label, fmt, value in figures
    ]
    headers = ["Users", *(str(level["concurrency"]) for level in levels)]
    title = f"{len(levels)} level(s) against {summary['endpoint'] or 'the local ECS node'}"
    table = tabulate(
        rows, headers=headers, disable_numparse=True, colalign=("left", *["right"] * len(levels))
    )
    return "\n".join([framed(title), table])


def cell(value: Any, fmt: str) -> str:
    """A figure as text; "-" where a level has none (a type it never sent, no duration)."""
    return "-" if value is None else format(value, fmt)
