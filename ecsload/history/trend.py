"""The `history` command's views of a target's runs: a table with sparklines, or JSON."""

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from ecsload.history.changes import ChangePoint
from ecsload.history.schema import ALL_TYPES
from ecsload.history.store import StoredRun

BARS = "▁▂▃▄▅▆▇█"
CHANGE_MARK = "◆"
BESIDE_MARK = "†"
BESIDE_NOTE = (
    f"{BESIDE_MARK} measured beside another ecs-load sweep on its machine (the level's "
    "WARNING): not the service's figure alone"
)


def sparkline(values: Sequence[float | None], marks: Sequence[bool] = ()) -> str:
    """One bar per value (a space where it is missing), CHANGE_MARK before a marked one."""
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    line = ""
    for i, value in enumerate(values):
        if i < len(marks) and marks[i]:
            line += CHANGE_MARK
        if value is None:
            line += " "
        else:
            step = 0 if high == low else round((value - low) / (high - low) * (len(BARS) - 1))
            line += BARS[step]
    return line


def cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def figure(run: StoredRun, users: int, name: str, key: str) -> float | None:
    return (run.levels.get(users, {}).get(name) or {}).get(key)


def level_cell(run: StoredRun, users: int, name: str, key: str) -> str:
    """A level's figure as the history shows it: marked BESIDE_MARK where the level ran
    beside another sweep."""
    text = cell(figure(run, users, name, key))
    return text + BESIDE_MARK if text != "-" and run.other_sweeps.get(users) else text


def any_beside(runs: Sequence[StoredRun], levels: Sequence[int]) -> bool:
    return any(run.other_sweeps.get(users) for run in runs for users in levels)


def level_named(runs: Sequence[StoredRun], level: int) -> str:
    """`10 users`, or `200/s` where the runs measured the level as an arrival rate."""
    rate = any(run.models.get(level) == "open" for run in runs)
    return f"{level}/s" if rate else f"{level} users"


def levels_of(runs: Sequence[StoredRun], wanted: Sequence[int] | None) -> list[int]:
    found = sorted({users for run in runs for users in run.levels})
    return [users for users in found if not wanted or users in wanted]


def history_table(
    target_name: str,
    runs: Sequence[StoredRun],
    changes: Sequence[ChangePoint],
    levels: Sequence[int] | None = None,
    name: str = ALL_TYPES,
) -> str:
    """One row per run (time, label, verdict, a capacity search's answer, per level p95 and
    req/s, change points), then a sparkline of the capacity, and a p95 and a req/s one per
    level."""
    shown = levels_of(runs, levels)
    by_run: dict[int, list[ChangePoint]] = {}
    for change in changes:
        by_run.setdefault(change.run_id, []).append(change)
    headers = ["Run", "Time (UTC)", "Label", "Verdict"]
    searched = any(run.capacity for run in runs)
    if searched:
        headers.append("Capacity req/s")
    for users in shown:
        at = level_named(runs, users).removesuffix(" users")
        headers += [f"p95 ms @{at}", f"req/s @{at}"]
    headers.append("Change points")
    rows = []
    for run in runs:
        row = [run.id, run.created.replace("T", " ").removesuffix("Z")[:16], run.label or "-"]
        row.append(run.verdict or "-")
        if searched:
            row.append(capacity_cell(run))
        for users in shown:
            row += [level_cell(run, users, name, "p95"), level_cell(run, users, name, "rps")]
        marks = [f"{CHANGE_MARK} {c.short()}" for c in by_run.get(run.id, [])]
        row.append("; ".join(marks))
        rows.append(row)
    kind = "all requests" if name == ALL_TYPES else name
    lines = [
        f"History of {target_name}: {len(runs)} run(s), {kind}",
        tabulate(rows, headers=headers, disable_numparse=True),
    ]
    if len(runs) > 1:
        lines.append("")
        if searched:
            values = [capacity_of(run) for run in runs]
            known = [v for v in values if v is not None]
            span = f"{cell(min(known))} to {cell(max(known))}" if known else "-"
            lines.append(f"{'capacity':>11} {'req/s':<7} {sparkline(values)}  {span}")
        for users in shown:
            for key, unit in (("p95", "p95 ms"), ("rps", "req/s")):
                values = [figure(run, users, name, key) for run in runs]
                marked = {c.run_id for c in changes if c.users == users and c.figure == key}
                flags = [run.id in marked for run in runs]
                known = [v for v in values if v is not None]
                span = f"{cell(min(known))} to {cell(max(known))}" if known else "-"
                named = level_named(runs, users)
                lines.append(f"{named:>11} {unit:<7} {sparkline(values, flags)}  {span}")
    if changes:
        lines.append(
            f"{CHANGE_MARK} a change point (Apache Otava, p < 0.001): the figure's mean "
            "from that run on differs from before it; docs/history.md"
        )
    if any_beside(runs, shown):
        lines.append(BESIDE_NOTE)
    return "\n".join(lines)


def capacity_of(run: StoredRun) -> float | None:
    return (run.capacity or {}).get("rate")


def capacity_cell(run: StoredRun) -> str:
    """`372 [372, 390] service`; `-` for a sweep, `below 50` when no rate held."""
    if not run.capacity:
        return "-"
    low, high = (None if v is None else f"{v:.0f}" for v in run.capacity["interval"])
    limited = run.capacity["limited_by"]
    if run.capacity["rate"] is None:
        return f"below {high} {limited}"
    if high is None:
        return f"at least {run.capacity['rate']:.0f} {limited}"
    return f"{run.capacity['rate']:.0f} [{low}, {high}] {limited}"


def history_json(
    location: str, target: str, runs: Sequence[StoredRun], changes: Sequence[ChangePoint]
) -> dict[str, Any]:
    return {
        "history": location,
        "target": target,
        "runs": [
            {
                "id": run.id,
                "created": run.created,
                "label": run.label,
                "branch": run.branch,
                "verdict": run.verdict,
                "endpoint": run.endpoint,
                "run_dir": run.run_dir,
                "capacity": run.capacity,
                "other_sweeps": {
                    str(users): count for users, count in sorted(run.other_sweeps.items())
                },
                "levels": {
                    str(users): {
                        name: {
                            k: v for k, v in figures.items() if k not in ("run_id", "users", "type")
                        }
                        for name, figures in by_type.items()
                    }
                    for users, by_type in sorted(run.levels.items())
                },
            }
            for run in runs
        ],
        "change_points": [change.as_json() for change in changes],
    }
