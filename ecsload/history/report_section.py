"""The report's "History" section: p95 and goodput per level over the target's last runs,
this run highlighted, change points marked; nothing while the history has one run."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecsload.history import store
from ecsload.history.changes import change_points
from ecsload.history.schema import ALL_TYPES
from ecsload.history.trend import (
    BESIDE_NOTE,
    CHANGE_MARK,
    any_beside,
    figure,
    level_cell,
    level_named,
    levels_of,
    sparkline,
)
from ecsload.history_location import (
    NO_PASSWORD,
    hidden_password,
    history_location,
    without_secret,
)

SECTION_RUNS = 20
SECTION_FIGURES = ("p95", "goodput")


def history_section(folder: Path, plan: Mapping[str, Any]) -> dict[str, Any] | None:
    """The section's title, table and trend lines; None without a history of 2 runs or
    more. A history that cannot be read is a one-line note instead of the section."""
    location = history_location(plan, os.environ)
    if not location:
        return None
    if hidden_password(location):
        return {"note": f"The history cannot be shown: {NO_PASSWORD}"}
    target = plan.get("endpoint") or ""
    try:
        with store.transaction(location, create=False) as connection:
            runs = store.run_rows(connection, target, last=SECTION_RUNS)
    except store.HistoryError as error:
        return {"note": f"The history cannot be shown: {error}"}
    if len(runs) < 2:
        return None
    here = str(folder.resolve())
    changes = change_points(runs, types=[ALL_TYPES], figures=SECTION_FIGURES)
    shown = levels_of(runs, None)
    headers = ["Run", "Time (UTC)", "Label", "Verdict"]
    headers += [
        f"{name} @{level_named(runs, users).removesuffix(' users')}"
        for users in shown
        for name in ("p95 ms", "goodput/s")
    ]
    headers.append("Change points")
    rows = []
    for run in runs:
        cells = [str(run.id), run.created.replace("T", " ")[:16], run.label or "-"]
        cells.append(run.verdict or "-")
        cells += [
            level_cell(run, users, ALL_TYPES, key) for users in shown for key in SECTION_FIGURES
        ]
        marks = [f"{CHANGE_MARK} {c.short()}" for c in changes if c.run_id == run.id]
        cells.append("; ".join(marks))
        rows.append({"cells": cells, "this_run": run.run_dir == here})
    trends = []
    for users in shown:
        for key, unit in (("p95", "p95 ms"), ("goodput", "goodput/s")):
            values = [figure(run, users, ALL_TYPES, key) for run in runs]
            marked = {c.run_id for c in changes if c.users == users and c.figure == key}
            trends.append(
                f"{level_named(runs, users):>11} {unit:<9} "
                f"{sparkline(values, [run.id in marked for run in runs])}"
            )
    return {
        "title": f"The last {len(runs)} runs of {target or 'the local ECS node'} in "
        f"{without_secret(location)}, all requests; this run highlighted; {CHANGE_MARK} a "
        "change point (Apache Otava, p < 0.001)"
        + (f"; {BESIDE_NOTE}" if any_beside(runs, shown) else ""),
        "headers": headers,
        "rows": rows,
        "trends": "\n".join(trends),
        "note": "",
    }
