"""comparison.txt: per level what changed, and how small a change the comparison could see."""

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from ecsload.analysis.comparison import MIN_SAMPLES, NOT_JUDGED, SAME
from ecsload.analysis.generator import GENERATOR_BUSY_PERCENT, generator_busy
from ecsload.report.tables import framed
from ecsload.vocabulary import HEADLINE_KEYS

WIDTH = 100  # the notes are wrapped to this


def busy_generator_levels(*runs: Sequence[Mapping[str, Any]]) -> list[int]:
    """The users of the levels (summary.json's) at which either run's load generator was busy
    over GENERATOR_BUSY_PERCENT: its own queueing is in their latencies."""
    return levels_where(lambda level: (generator_busy(level) or 0) > GENERATOR_BUSY_PERCENT, *runs)


def shared_machine_levels(*runs: Sequence[Mapping[str, Any]]) -> list[int]:
    """The users of the levels at which either run ran beside another sweep on its machine
    (summary.json's `other_sweeps`): their figures are not that run's alone."""
    return levels_where(lambda level: bool(level.get("other_sweeps")), *runs)


def levels_where(
    test: Callable[[Mapping[str, Any]], bool], *runs: Sequence[Mapping[str, Any]]
) -> list[int]:
    return sorted({level["users"] for levels in runs for level in levels if test(level)})


def change_cell(change: Mapping[str, Any] | None, digits: int = 1, relative: bool = False) -> str:
    """`1.2→1.3`, with `relative` `200→120 -40%`; "-" where the figure was not compared."""
    if change is None:
        return "-"
    text = f"{change['before']:.{digits}f}→{change['now']:.{digits}f}"
    if relative and change.get("change_percent") is not None:
        text += f" {change['change_percent']:+.0f}%"
    return text


def verdict_cell(figures: Mapping[str, Any]) -> str:
    """The verdict and, when changed, which figures changed: `slower (p95, p99)`."""
    changed = [
        key.removesuffix("_percent")
        for key, change in figures.items()
        if isinstance(change, dict) and change["verdict"] not in (SAME, NOT_JUDGED)
    ]
    if figures["verdict"] == SAME and min(figures.get("samples") or [MIN_SAMPLES]) < MIN_SAMPLES:
        return f"same (under {MIN_SAMPLES} samples)"
    return figures["verdict"] + (f" ({', '.join(changed)})" if changed else "")


def level_name(level: Mapping[str, Any]) -> str:
    """`10 users` or `200 req/s`."""
    return f"{level['users']} {level.get('unit', 'users')}"


def comparison_answer(comparison: Mapping[str, Any], title: str, file_name: str) -> str:
    """The terminal's answer (-q and the default): comparison.txt's title, and how small a
    change it could have seen at its least sensitive level, so that a `same` never reads
    as more than it is: `…: same (could see: p95 ±21%, goodput ±26%; comparison.txt)`."""
    widest: dict[str, float] = {}
    for level in comparison["levels"]:
        for key in ("p95", "goodput"):
            if key in level["could_see"]:
                widest[key] = max(widest.get(key, 0.0), level["could_see"][key])
    seen = ", ".join(f"{key} ±{value:g}%" for key, value in widest.items())
    return f"{title} ({f'could see: {seen}; ' if seen else ''}{file_name})"


def level_line(level: Mapping[str, Any]) -> str:
    """`At 10 users: goodput 200→120 -40% OK/s, errors 0.0→0.0%; could see: p95 ±12%,
    goodput ±9%, errors ±1 points`, and for a level a run measured once the drift floor
    it was judged against."""
    overall, seen = level["all"], level["could_see"]
    parts = [f"{key} ±{seen[key]:g}%" for key in ("p95", "goodput") if key in seen]
    if "error_percent" in seen:
        parts.append(f"errors ±{seen['error_percent']:g} points")
    line = (
        f"At {level_name(level)}: goodput {change_cell(overall.get('goodput'), 0, True)} OK/s, "
        f"errors {change_cell(overall.get('error_percent'), 1)}%; could see: "
        + (", ".join(parts) or "nothing (too few time windows)")
    )
    if level.get("drift_floor"):
        repeats = " and ".join(map(str, level["repeats"]))
        drift = level["drift_floor"]
        line += (
            f" (measured in {repeats} repeat(s): judged against the drift between runs, p50 "
            f"±{drift['p50']:g}%, p95 ±{drift['p95']:g}%, p99 ±{drift['p99']:g}%, goodput "
            f"±{drift['goodput']:g}%; a change within what it could see is not judged)"
        )
    return line


def comparison_table(comparison: Mapping[str, Any]) -> str:
    """comparison.txt: one row per level and type, before→now (ms), the verdicts; per level its
    goodput and errors and the smallest changes it could have seen."""
    rule = comparison["rule"]
    rows = []
    for level in comparison["levels"]:
        rows.append(
            [
                level_name(level),
                "All",
                *(change_cell(level["all"].get(p)) for p in HEADLINE_KEYS),
                verdict_cell(level["all"]),
            ]
        )
        rows += [
            ["", name, *(change_cell(figures.get(p)) for p in HEADLINE_KEYS), verdict_cell(figures)]
            for name, figures in sorted(level["types"].items())
        ]
    headers = ["Level", "Request Type", *(f"{p} ms" for p in HEADLINE_KEYS), "Verdict"]
    title = f"Comparison with the baseline {comparison['baseline']}: {comparison['verdict']}"
    noise = f", with a run noise floor of {rule['run_noise_percent']:g}%" * bool(
        rule["run_noise_percent"]
    )
    rule_text = (
        f"A figure changed when the noise both runs show (between their time windows and "
        f"repeats{noise}) makes the change unlikely at {100 * rule['confidence']:.0f}% over "
        f"all {comparison['tests']} figures compared (Holm), and it is beyond "
        f"{rule['tolerance_percent']:g}% (and {rule['floor_ms']:g} ms); docs/verdicts.md"
    )
    if any(level.get("drift_floor") for level in comparison["levels"]):
        rule_text += (
            f". A run that measured a level once adds the drift between runs: "
            f"{rule['drift_source']} (--repeat {rule['min_repeats']} measures a run's own)"
        )
    lines = [
        framed(title),
        tabulate(rows, headers=headers, disable_numparse=True, colalign=("right",)),
        *(
            line
            for level in comparison["levels"]
            for line in textwrap.wrap(level_line(level), WIDTH, subsequent_indent="  ")
        ),
        *textwrap.wrap(rule_text, WIDTH),
    ]
    return "\n".join(
        lines + not_compared_lines(comparison, "its own queueing is in those latencies")
    )


def not_compared_lines(comparison: Mapping[str, Any], queueing: str) -> list[str]:
    """What comparison.txt lists apart: the levels and types only one run has, the levels
    whose generator was busy (`queueing`: what that does to the verdicts) and those that
    ran beside another sweep."""
    only = (
        ("levels_only_in_run", "Levels only in this run (not compared): {} {unit}"),
        ("levels_only_in_baseline", "Levels only in the baseline (not compared): {} {unit}"),
    )
    lines = [
        text.format(", ".join(map(str, comparison[key])), unit=comparison.get("unit", "users"))
        for key, text in only
        if comparison[key]
    ]
    if comparison["generator_busy_levels"]:
        users = ", ".join(map(str, comparison["generator_busy_levels"]))
        lines += textwrap.wrap(
            f"NOTE: the load generator was busy over {GENERATOR_BUSY_PERCENT}% at {users} "
            f"{comparison.get('unit', 'users')} in one run or both: {queueing}; compare the "
            "probe's figures or run with "
            "--processes N",
            WIDTH,
        )
    if comparison.get("shared_machine_levels"):
        users = ", ".join(map(str, comparison["shared_machine_levels"]))
        lines += textwrap.wrap(
            f"NOTE: at {users} {comparison.get('unit', 'users')} one run or both ran beside "
            "another ecs-load sweep on its machine (the level's WARNING says which): the two "
            "shared the cores, so a change there may be the other sweep's, not the service's",
            WIDTH,
        )
    for level in comparison["levels"]:
        for key, where in (
            ("types_only_in_run", "this run"),
            ("types_only_in_baseline", "the baseline"),
        ):
            if level[key]:
                lines.append(
                    f"At {level_name(level)}, only in {where} (not compared): "
                    + ", ".join(level[key])
                )
    return lines
