"""thresholds.txt and the terminal's answer: each check of the thresholds (`--fail-on`) made
by ecsload.analysis.thresholds, with its limit, the figure and pass or FAIL."""

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from ecsload.analysis.sample_size import MARK
from ecsload.analysis.thresholds import failure_text, unit
from ecsload.report.tables import framed
from ecsload.values import parse_threshold


def at_level(check: Mapping[str, Any]) -> str:
    """The check's level as words: `20 users`, `200/s` (a verdict without labels: users)."""
    level = check["level"]
    if check.get("label") or isinstance(level, str):  # a label, or the search's answer
        return str(check.get("label") or f"the {level}")
    return f"{level:g} users"


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
                "not measured"
                if measured is None
                else f"{measured:.2f}{MARK if check.get('few') else ''}",
                "pass" if check["passed"] else "FAIL",
            ]
        )
    rates = any(str(check.get("label", "")).endswith("/s") for check in checks)
    headers = ["Threshold", "Rate /s" if rates else "Users", "Limit", "Measured", "Result"]
    table = tabulate(rows, headers=headers, disable_numparse=True, colalign=("left", "right"))
    few = [f"{MARK}: a percentile from too few answers to rely on (see the level's table)"]
    reasons = [
        f"Not measured: {check['expr']} at {at_level(check)}: {check['not_measured']}"
        for check in checks
        if check["measured"] is None
    ]
    marked = few if any(c.get("few") for c in checks) else []
    return "\n".join([framed(title), table, *reasons, *marked])


SHORT_FAILURES = 3  # failed checks the terminal's answer names; the rest are in thresholds.txt


def thresholds_answer(verdict: Mapping[str, Any]) -> str:
    """The terminal's answer: the thresholds' title and, when some failed, the first few
    in a line each (every check is in thresholds.txt)."""
    checks = verdict["thresholds"]
    failed = [check for check in checks if not check["passed"]]
    if not failed:
        return f"Thresholds: all {len(checks)} checks passed"
    lines = [f"Thresholds: {len(failed)} of {len(checks)} checks FAILED (thresholds.txt)"]
    lines += [
        f"  FAIL {check['expr']} at {at_level(check)}: {failure_text(check)}"
        for check in failed[:SHORT_FAILURES]
    ]
    if len(failed) > SHORT_FAILURES:
        lines.append(f"  … and {len(failed) - SHORT_FAILURES} more")
    return "\n".join(lines)
