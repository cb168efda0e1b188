"""A finished run folder as the history's rows: the run, its levels, its figures.

Figures come from summary.json (with their 95% intervals and corrected
percentiles where the run has them, else null); histograms and each level's
windows (ecsload.history.windows: what a comparison with this run as its baseline
reads) from each level's measured samples, the same samples a comparison with the
run folder reads (ecsload.analysis.comparison).
"""

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ecsload.analysis.baseline import read_object
from ecsload.analysis.documents import level_key
from ecsload.analysis.generator import generator_busy
from ecsload.analysis.samples import SampleFileError, Samples, read_level
from ecsload.analysis.stats import NO_ANSWER
from ecsload.history import histograms, windows
from ecsload.history.schema import ALL_TYPES, FIGURES
from ecsload.run_folder import (
    RunFolder,
    read_comparison,
    read_plan,
    read_summary,
)
from ecsload.vocabulary import HEADLINE_KEYS


class RecordError(Exception):
    """A folder that is not a finished run."""


def verdict_text(summary: Mapping[str, Any], comparison: Mapping[str, Any]) -> str:
    """`pass`/`fail` of the thresholds, the comparison's verdict, or both; "" if neither."""
    parts = []
    if summary.get("verdict"):
        parts.append("pass" if summary["verdict"].get("passed") else "fail")
    if comparison.get("verdict"):
        parts.append(str(comparison["verdict"]))
    return ", ".join(parts)


def interval(figures: Mapping[str, Any], key: str) -> dict[str, float | None]:
    ci = (figures.get("ci") or {}).get(key) or [None, None]
    return {f"{key}_low": ci[0], f"{key}_high": ci[1]}


def type_row(
    users: int, name: str, stats: Mapping[str, Any], seconds: float | None, encoded: bytes | None
) -> dict[str, Any]:
    requests = int(stats["ok"]) + int(stats["error"])
    corrected = stats.get("corrected") or {}
    row: dict[str, Any] = {
        "users": users,
        "type": name,
        "requests": requests,
        "errors": int(stats["error"]),
        "rate_limited": int(stats.get("rate_limited") or 0),
        "p50": stats.get("p50"),
        "p95": stats.get("p95"),
        "p99": stats.get("p99"),
        "rps": round(requests / seconds, 3) if seconds else None,
        "goodput": round(int(stats["ok"]) / seconds, 3) if seconds else None,
        "histogram": encoded,
        **{f"corrected_{p}": corrected.get(p) for p in HEADLINE_KEYS},
    }
    for key in FIGURES:
        row.update(interval(stats, key))
    return row


def measured_of(folder: Path) -> Samples | None:
    """A level's measured samples over every repeat; None when they cannot be read."""
    try:
        samples = read_level(folder)
    except SampleFileError:
        return None
    return samples.where(samples.measured)


def level_histograms(folder: Path, measured: Samples | None = None) -> dict[str, bytes]:
    """Each request type's measured latencies (and all of them, over every repeat) as
    encoded histograms: answered requests only, since a request with no answer has no
    latency (its count is in the figures' requests)."""
    measured = measured_of(folder) if measured is None else measured
    if measured is None:
        return {}
    measured = measured.where(measured.status != NO_ANSWER)
    if not len(measured):
        return {}
    found = {ALL_TYPES: histograms.encode(measured.response_time_ms)}
    for code, name in enumerate(measured.type_names):
        selected = measured.type_code == code
        if np.any(selected):
            found[name] = histograms.encode(measured.response_time_ms[selected])
    return found


def level_rows(
    run_dir: Path, level: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    users, seconds = int(level_key(level)), level.get("seconds")  # users, or a rate
    folder = RunFolder(run_dir).level(users).path
    measured = measured_of(folder)
    encoded = level_histograms(folder, measured)
    probe = level.get("probe") or {}
    level_row = {
        "users": users,
        "windows": windows.encode(measured) if measured is not None else None,
        "model": level.get("model"),
        "seconds": seconds,
        "generator_share": generator_busy(level),
        "other_sweeps": None if level.get("other_sweeps") is None else len(level["other_sweeps"]),
        "probe_count": probe.get("count"),
        "probe_errors": probe.get("errors"),
        **{f"probe_{p}": probe.get(p) for p in HEADLINE_KEYS},
    }
    rows = []
    if level.get("all"):
        all_row = type_row(users, ALL_TYPES, level["all"], seconds, encoded.get(ALL_TYPES))
        all_row["rps"] = level.get("rps", all_row["rps"])
        all_row["goodput"] = level.get("goodput", all_row["goodput"])
        all_row.update(interval(level, "rps"), **interval(level, "goodput"))
        rows.append(all_row)
    for name, stats in sorted((level.get("types") or {}).items()):
        rows.append(type_row(users, name, stats, seconds, encoded.get(name)))
    return level_row, rows


def run_key(run_dir: Path, created: str) -> str:
    """One run's identity: its folder's absolute path and its plan's time, hashed. Two
    sweeps of the same second under two results folders are two runs; importing a
    folder twice finds it."""
    return hashlib.sha256(f"{run_dir.resolve()}\0{created}".encode()).hexdigest()


def run_record(
    run_dir: Path, label: str | None = None, branch: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(run, levels, figures) rows of a finished run folder; RecordError if it is not one.
    The label and branch default to those in its plan.json."""
    files = RunFolder(run_dir)
    plan = read_object(files.plan, read_plan, RecordError)
    summary = read_object(files.summary, read_summary, RecordError)
    if not summary.get("levels"):
        raise RecordError("its summary.json has no level")
    try:
        comparison = read_object(files.comparison, read_comparison, RecordError)
    except RecordError:
        comparison = {}
    levels, rows = [], []
    for level in summary["levels"]:
        level_row, type_rows = level_rows(run_dir, level)
        levels.append(level_row)
        rows += type_rows
    started = [lv["started"] for lv in summary["levels"] if lv.get("started")]
    ended = [lv["ended"] for lv in summary["levels"] if lv.get("ended")]
    created = str(plan.get("created") or min(started, default=""))
    run = {
        "run_key": run_key(run_dir, created),
        "target": plan.get("endpoint") or "",
        "endpoint": summary.get("endpoint"),
        "label": label if label is not None else plan.get("label") or "",
        "branch": branch if branch is not None else plan.get("branch") or "",
        "created": created,
        "started": min(started, default=None),
        "ended": max(ended, default=None),
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_dir": str(run_dir.resolve()),
        "verdict": verdict_text(summary, comparison),
        "plan": json.dumps(plan, sort_keys=True),
        **capacity_columns(summary.get("capacity") if plan.get("search") else None),
    }
    return run, levels, rows


def capacity_columns(found: Mapping[str, Any] | None) -> dict[str, Any]:
    """A capacity search's answer as the runs' columns (all null for a sweep)."""
    found = found or {}
    low, high = found.get("interval") or (None, None)
    return {
        "capacity": found.get("rate"),
        "capacity_low": low,
        "capacity_high": high,
        "capacity_limited_by": found.get("limited_by"),
    }
