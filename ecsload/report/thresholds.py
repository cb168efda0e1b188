"""The thresholds (`--fail-on`) checked against each level's measured figures, and their table.

Every figure is summary.json's (the measured phase only), so the table, the
JSON and junit.xml say what the tables above them say. A figure a level does
not have (a type it never sent, no probe answer) fails its check: a check that
could not be made has not passed. The expressions were checked by the plan
(ecsload.values.parse_threshold).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

from ecsload.report.documents import level_key
from ecsload.report.sample_size import MARK, marked
from ecsload.report.tables import framed, percent
from ecsload.values import PROBE, TOP_LEVEL, Threshold, parse_threshold


def unit(metric: str) -> str:
    if metric.endswith("%"):
        return "%"
    return " req/s" if metric == "rps" else " ms"


def applies(threshold: Threshold, users: float, top: float) -> bool:
    """Whether the threshold is checked at the level of `users` (`top`: the sweep's last)."""
    if threshold.level is None:
        return True
    return users == (top if threshold.level == TOP_LEVEL else threshold.level)


def measured_value(threshold: Threshold, level: Mapping[str, Any]) -> float | None:
    """The level's figure that the threshold reads; None when the level has none."""
    metric = threshold.metric
    if threshold.scope == PROBE:
        probe = level["probe"] or {}
        if metric == "error%":
            return percent(probe["errors"], probe["count"]) if probe.get("count") else None
        return probe.get(metric)
    if metric == "rps":
        return level["rps"]
    figures = level["all"] if threshold.scope is None else level["types"].get(threshold.scope)
    if not figures:
        return None
    count = figures["ok"] + figures["error"]
    if metric == "error%":
        return percent(figures["error"], count)
    if metric == "rate_limited%":
        return percent(figures["rate_limited"], count)
    if metric.endswith("c"):  # corrected; an arrival-rate level's own are timed from schedule
        if level.get("model") == "open":
            return figures.get(metric[:-1])
        return (figures.get("corrected") or {}).get(metric[:-1])
    return figures[metric]


def few_answers(threshold: Threshold, level: Mapping[str, Any]) -> bool:
    """Whether the percentile a threshold reads came from too few answers to rely on
    (ecsload.report.sample_size): the check stands, and its row is marked."""
    metric = threshold.metric.removesuffix("c")
    if not metric.startswith("p") or not metric[1:].isdigit():
        return False
    if threshold.scope == PROBE:
        return marked(level.get("probe"), metric)
    figures = level["all"] if threshold.scope is None else level["types"].get(threshold.scope)
    return marked(figures, metric)


def check_thresholds(texts: Sequence[str], levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's `verdict`: every threshold at every level it applies to, level by level."""
    thresholds = [parse_threshold(text) for text in texts]
    top = max(level_key(level) for level in levels)
    checks = []
    for level in levels:
        for threshold in thresholds:
            if not applies(threshold, level_key(level), top):
                continue
            measured = measured_value(threshold, level)
            checks.append(
                {
                    "expr": threshold.text,
                    "level": level_key(level),
                    "measured": None if measured is None else round(measured, 3),
                    "few": few_answers(threshold, level),
                    "passed": measured is not None and threshold.holds(measured),
                }
            )
    return {"passed": all(check["passed"] for check in checks), "thresholds": checks}


def failure_text(check: Mapping[str, Any]) -> str:
    """Why a check failed, in words: `measured 62.10 ms, limit < 50 ms`."""
    threshold = parse_threshold(check["expr"])
    limit = f"limit {threshold.operator} {threshold.limit:g}{unit(threshold.metric)}"
    if check["measured"] is None:
        what = threshold.scope or "request"
        return f"not measured (no {what} figure at {check['level']} users), {limit}"
    return f"measured {check['measured']:.2f}{unit(threshold.metric)}, {limit}"


def thresholds_table(verdict: Mapping[str, Any]) -> str:
    """thresholds.txt: one row per threshold and level, its limit, the figure, pass or FAIL."""
    checks = verdict["thresholds"]
    failed = sum(not check["passed"] for check in checks)
    title = (
        f"Thresholds: all {len(checks)} checks passed"
        if not failed
        else f"Thresholds: {failed} of {len(checks)} checks FAILED"
    )
    rows = []
    for check in checks:
        threshold = parse_threshold(check["expr"])
        measured = check["measured"]
        rows.append(
            [
                check["expr"],
                check["level"],
                f"{threshold.operator} {threshold.limit:g}{unit(threshold.metric)}",
                "-" if measured is None else f"{measured:.2f}{MARK if check.get('few') else ''}",
                "pass" if check["passed"] else "FAIL",
            ]
        )
    headers = ["Threshold", "Users", "Limit", "Measured", "Result"]
    table = tabulate(rows, headers=headers, disable_numparse=True, colalign=("left", "right"))
    few = [f"{MARK}: a percentile from too few answers to rely on (see the level's table)"]
    return "\n".join([framed(title), table, *(few if any(c.get("few") for c in checks) else [])])
