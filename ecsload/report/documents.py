"""The summaries of a level and of a run, as the JSON documents that CI reads.

Both files share one shape, `{"version": 2, "endpoint": URL, "levels": [LEVEL, …]}`;
a level's summary.json holds one level, the run's holds them all in concurrency
order. The tables are rendered from these documents, so text and JSON never
disagree. The contract, with every key of LEVEL, is docs/summary-json.md.

Every figure of a level is over its measured phase only: the requests sent once
all of its users were running. The ramp is summarised apart (`ramp`).
"""

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ecsload.report import omission
from ecsload.report.sample_size import too_few
from ecsload.report.samples import Samples
from ecsload.report.stats import (
    NO_ANSWER,
    PERCENTILES,
    PROBE_PERCENTILES,
    group_statistics,
    percentiles,
)
from ecsload.run_folder import SUMMARY_VERSION, SummaryDocument
from ecsload.timestamps import iso_utc

OK_STATUS = 200  # of the probe's GET _noop


def level_summary(
    samples: Samples,
    users: int,
    level_info: Mapping[str, Any],
    probe: np.ndarray | None = None,
    probe_rate: float | None = None,
) -> dict[str, Any]:
    """One LEVEL of summary.json from a level's samples, its level.json and the probe's rows."""
    measured = samples.where(samples.measured)
    ramp = samples.where(~samples.measured)
    window = measured_window(measured)
    ramp_info = level_info.get("ramp") or {}
    level: dict[str, Any] = {
        "concurrency": users,
        "users": users,
        "users_measured": int(np.unique(measured.user_id).size),
        "users_by_kind": level_info.get("users_by_kind"),
        "requests": len(measured),
        **span_figures(window, len(measured)),
        "stopped_by": level_info.get("stopped_by"),
        "target_requests": level_info.get("target_requests"),
        "time_cap_seconds": level_info.get("time_cap_seconds"),
        "samples": len(samples),
        "unanswered": level_info.get("unanswered", 0),
        "locust_requests": level_info.get("locust_requests"),
        "ramp": {
            "seconds": ramp_info.get("seconds"),
            "requests": len(ramp),
            "completed": ramp_info.get("completed", True),
            "users_started": ramp_info.get("users_started"),
        },
        "generator": generator_summary(level_info.get("generator")),
        "workers": level_info.get("workers"),
        "connections": level_info.get("connections"),
        "tls": level_info.get("tls"),
    }
    level["probe"] = None if probe is None else probe_summary(probe, probe_rate, window)
    level["all"], level["types"] = type_statistics(measured)
    level.update(model_figures(measured, level_info, level["all"], level["types"], window))
    level["no_answer_errors"] = no_answer_errors(measured)
    return level


def model_figures(
    measured: Samples,
    level_info: Mapping[str, Any],
    everything: dict[str, Any] | None,
    types: dict[str, Any],
    window: tuple[float, float] | None,
) -> dict[str, Any]:
    """What the load model changes (ecsload.report.omission): `model`, and for a closed level
    the corrected percentiles (`corrected` in `all` and each type), for an arrival-rate one
    its `rate`, service times, lateness and dropped arrivals; `stalls` for both. Every group
    of figures also says how many answers its percentiles came from (`answers`, `few`)."""
    rate = level_info.get("arrival_rate")
    if rate is not None and float(rate).is_integer():
        rate = int(rate)
    figures: dict[str, Any] = {
        "model": "open" if rate else "closed",
        "rate": rate,
        "arrivals": level_info.get("arrivals"),
        "max_in_flight": level_info.get("max_in_flight"),
        "dropped": omission.dropped(measured) if rate else None,
        "lateness": omission.lateness(measured) if rate else None,
        "stalls": None,
    }
    if everything is None or window is None:
        return figures
    groups = {name: measured.type_code == measured.type_names.index(name) for name in types}
    for name, selected in (("all", slice(None)), *groups.items()):
        group = everything if name == "all" else types[name]
        count = int(np.count_nonzero(omission.answered(measured)[selected]))
        group["answers"] = count
        group["few"] = too_few(count, (f"p{p}" for p in PERCENTILES))
    if rate:
        everything["service"] = omission.service_times(measured)
    else:
        intervals = omission.expected_intervals(measured)
        for name, selected in (("all", slice(None)), *groups.items()):
            group = everything if name == "all" else types[name]
            group["corrected"] = omission.corrected(measured, intervals, selected)
    figures["stalls"] = omission.stalls(measured, everything.get("p50"), window)
    return figures


def no_answer_errors(measured: Samples) -> dict[str, int]:
    """Why measured requests got no answer: error name → count, most frequent first."""
    names, counts = np.unique(measured.error[measured.status == NO_ANSWER], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return {names[i].decode(errors="replace"): int(counts[i]) for i in order}


def measured_window(measured: Samples) -> tuple[float, float] | None:
    """The measured phase in ms since the epoch: first request sent, last answer (or stop)."""
    if not len(measured):
        return None
    started_ms = float(measured.timestamp_ms.min())
    return started_ms, float((measured.timestamp_ms + measured.response_time_ms).max())


def span_figures(window: tuple[float, float] | None, requests: int) -> dict[str, Any]:
    """started, ended, seconds and rps of the measured phase (null when nothing was measured)."""
    if window is None:
        return {"started": None, "ended": None, "seconds": None, "rps": None}
    started_ms, ended_ms = window
    seconds = (ended_ms - started_ms) / 1000
    return {
        "started": iso_utc(started_ms),
        "ended": iso_utc(ended_ms),
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 3) if seconds > 0 else None,
    }


def type_statistics(measured: Samples) -> tuple[Any, dict[str, Any]]:
    """The statistics of every measured request (`all`) and of each request type (`types`)."""
    if not len(measured):
        return None, {}
    since_start = (measured.timestamp_ms - measured.timestamp_ms.min()) / 1000

    def stats_of(selected: Any) -> dict[str, float | int | None]:
        return group_statistics(
            measured.ok[selected],
            measured.status[selected],
            measured.response_time_ms[selected],
            since_start[selected],
        )

    present = sorted(
        (name, code)
        for code, name in enumerate(measured.type_names)
        if np.any(measured.type_code == code)
    )
    types = {name: stats_of(measured.type_code == code) for name, code in present}
    return stats_of(slice(None)), types


def generator_summary(generator: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """level.json's generator, with the busiest process's figures (what the warning reads)."""
    if not generator:
        return None
    return {
        "processes": generator["processes"],
        "cpu_percent_max": highest(generator["cpu_percent"]),
        "busy_percent_max": highest(generator["busy_percent"]),
        "cpu_percent": generator["cpu_percent"],
        "busy_percent": generator["busy_percent"],
    }


def highest(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def probe_summary(
    rows: np.ndarray, rate: float | None, window: tuple[float, float] | None
) -> dict[str, Any] | None:
    """The probe's requests sent during the measured phase: count, errors, percentiles."""
    if window is None:
        return None
    started_ms, ended_ms = window
    during = rows[(rows["timestamp_ms"] >= started_ms) & (rows["timestamp_ms"] <= ended_ms)]
    answered = during[during["status"] == OK_STATUS]
    summary: dict[str, Any] = {
        "rate": rate,
        "count": len(during),
        "errors": len(during) - len(answered),
    }
    times = answered["response_time_ms"]
    summary.update(percentiles(times, PROBE_PERCENTILES) if len(times) else {})
    summary["few"] = too_few(len(times), (f"p{p}" for p in PROBE_PERCENTILES))
    return summary


def run_summary(endpoint: str | None, levels: Iterable[dict[str, Any]]) -> SummaryDocument:
    """summary.json's document: the endpoint and its levels in concurrency order."""
    return {
        "version": SUMMARY_VERSION,
        "endpoint": endpoint,
        "levels": sorted(levels, key=level_key),
    }


def level_key(level: Mapping[str, Any]) -> float:
    """What a sweep varies from level to level: its arrival rate, or its users."""
    return level.get("rate") or level["users"]
