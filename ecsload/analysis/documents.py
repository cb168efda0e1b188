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

from ecsload.analysis import omission
from ecsload.analysis.intervals import answer_rates, group_intervals, interval, level_draws
from ecsload.analysis.sample_size import too_few
from ecsload.analysis.samples import Samples
from ecsload.analysis.stats import (
    NO_ANSWER,
    PERCENTILES,
    group_statistics,
    percentiles,
)
from ecsload.run_folder import SUMMARY_VERSION, SummaryDocument
from ecsload.timestamps import iso_utc
from ecsload.vocabulary import HEADLINE, HEADLINE_KEYS

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
    timed = bool(level_info.get("level_seconds"))
    windows = measured_windows(measured, timed)
    ramp_info = level_info.get("ramp") or {}
    level: dict[str, Any] = {
        "concurrency": users,
        "users": users,
        "users_measured": int(np.unique(measured.user_id).size),
        "users_by_kind": level_info.get("users_by_kind"),
        "requests": len(measured),
        **span_figures(windows.values(), len(measured)),
        "stopped_by": level_info.get("stopped_by"),
        "target_requests": level_info.get("target_requests"),
        "level_seconds": level_info.get("level_seconds"),
        "warmup_seconds": level_info.get("warmup_seconds"),
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
        "other_sweeps": level_info.get("other_sweeps"),
    }
    level["probe"] = None if probe is None else probe_summary(probe, probe_rate, windows)
    level["all"], level["types"] = type_statistics(measured)
    overall = (
        (min(s for s, _ in windows.values()), max(e for _, e in windows.values()))
        if windows
        else None
    )
    level.update(model_figures(measured, level_info, level["all"], level["types"], overall))
    open_model = level["model"] == "open"
    stopped = level_info.get("stopped_by_repeat") or [level["stopped_by"]] * len(windows)
    level["repeats"] = [
        {
            "repeat": repeat,
            "requests": int(np.count_nonzero(measured.repeat == repeat)),
            **span_figures([window], int(np.count_nonzero(measured.repeat == repeat))),
            "stopped_by": stopped_by,
        }
        for (repeat, window), stopped_by in zip(windows.items(), stopped, strict=False)
    ]
    if open_model:
        answered_repeats(level, measured)
    add_intervals(level, measured, timed, open_model)
    level["no_answer_errors"] = no_answer_errors(measured)
    return level


def model_figures(
    measured: Samples,
    level_info: Mapping[str, Any],
    everything: dict[str, Any] | None,
    types: dict[str, Any],
    window: tuple[float, float] | None,
) -> dict[str, Any]:
    """What the load model changes (ecsload.analysis.omission): `model`, and for a closed level
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
        "lateness": omission.lateness(measured, rate, level_info.get("users") or 1)
        if rate
        else None,
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


def answered_repeats(level: dict[str, Any], measured: Samples) -> None:
    """Each repeat's `rps` of an arrival-rate level: its answers' (add_intervals says why)."""
    for part in level["repeats"]:
        rates = answer_rates(measured.where(measured.repeat == part["repeat"]))
        if rates is not None:
            part["rps"] = round(rates[0], 3)


def add_intervals(
    level: dict[str, Any], measured: Samples, timed: bool = False, open_model: bool = False
) -> None:
    """goodput and error_percent, and the 95% interval (`ci`) beside each figure
    (ecsload.analysis.intervals): the level's rates and shares, every group's percentiles
    and trend. An arrival-rate level's (`open_model`) `rps` and `goodput` are its answers
    per second as they arrived (answer_rates), not requests sent per second, which the
    schedule fixes at the rate however far behind the service fell; with too few answers
    to tell, they are a closed level's."""
    ok = (level["all"] or {}).get("ok", 0)
    rates = answer_rates(measured) if open_model else None
    if rates is not None:
        level["rps"], level["goodput"] = round(rates[0], 3), round(rates[1], 3)
    else:  # from req/s, not the rounded seconds: with no error the two are the same figure
        rps = level["rps"]
        level["goodput"] = round(rps * ok / level["requests"], 3) if rps else None
    level["error_percent"] = (
        round(100 * (level["requests"] - ok) / level["requests"], 3) if level["requests"] else None
    )
    draws = level_draws(measured, timed=timed, open_model=open_model)
    level["uncertainty"] = None if draws is None else draws.description()
    if draws is None:
        level["ci"] = {"rps": None, "goodput": None, "error_percent": None}
        for group in [level["all"], *level["types"].values()]:
            if group is not None:
                group["ci"] = dict.fromkeys((*HEADLINE_KEYS, "m", "b"))
        return
    level["ci"] = {
        "rps": interval(draws.rps),
        "goodput": interval(draws.goodput),
        "error_percent": interval(draws.error_percent),
    }
    for name, figures in [("", level["all"]), *level["types"].items()]:
        found = draws.groups.get(name)  # none: the group had no answer
        figures["ci"] = (
            group_intervals(found) if found else dict.fromkeys((*HEADLINE_KEYS, "m", "b"))
        )


def measured_windows(measured: Samples, timed: bool = False) -> dict[int, tuple[float, float]]:
    """Each repeat's measured phase in ms since the epoch: first request sent, last answer
    (or stop); for a timed level (`timed`), last request sent: its seconds are those in
    which requests were sent, however long the last took to answer. One entry without
    repeats, none when nothing was measured."""
    ends = measured.timestamp_ms + (0 if timed else measured.response_time_ms)
    return {
        int(r): (
            float(measured.timestamp_ms[measured.repeat == r].min()),
            float(ends[measured.repeat == r].max()),
        )
        for r in np.unique(measured.repeat)
    }


def span_figures(windows: Iterable[tuple[float, float]], requests: int) -> dict[str, Any]:
    """started, ended, seconds and rps of the measured phase, over its repeats' windows
    (null when nothing was measured)."""
    windows = list(windows)
    if not windows:
        return {"started": None, "ended": None, "seconds": None, "rps": None}
    seconds = sum(ended - started for started, ended in windows) / 1000
    return {
        "started": iso_utc(min(started for started, _ in windows)),
        "ended": iso_utc(max(ended for _, ended in windows)),
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 3) if seconds > 0 else None,
    }


def type_statistics(measured: Samples) -> tuple[Any, dict[str, Any]]:
    """The statistics of every measured request (`all`) and of each request type (`types`);
    a trend's time is from its repeat's first measured request."""
    if not len(measured):
        return None, {}
    starts = np.zeros(len(measured))
    for r in np.unique(measured.repeat):
        starts[measured.repeat == r] = measured.timestamp_ms[measured.repeat == r].min()
    since_start = (measured.timestamp_ms - starts) / 1000

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
        "loop_lag_ms": worst_lag(generator.get("loop_lag_ms") or []),
    }


def worst_lag(lags: Iterable[Mapping[str, float] | None]) -> dict[str, float] | None:
    """The event-loop lag of the process whose p99 was highest (an arrival-rate level's);
    None for a closed level or where none was sampled."""
    known = [lag for lag in lags if lag]
    return dict(max(known, key=lambda lag: (lag["p99"], lag["p50"]))) if known else None


def highest(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def probe_summary(
    rows: np.ndarray, rate: float | None, windows: Mapping[int, tuple[float, float]]
) -> dict[str, Any] | None:
    """The probe's requests sent during the measured phase (of any repeat): count, errors,
    percentiles."""
    if not windows:
        return None
    sent = rows["timestamp_ms"]
    during = rows[
        np.any([(sent >= start) & (sent <= end) for start, end in windows.values()], axis=0)
    ]
    answered = during[during["status"] == OK_STATUS]
    summary: dict[str, Any] = {
        "rate": rate,
        "count": len(during),
        "errors": len(during) - len(answered),
    }
    times = answered["response_time_ms"]
    summary.update(percentiles(times, HEADLINE) if len(times) else {})
    summary["few"] = too_few(len(times), HEADLINE_KEYS)
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


def level_label(level: Mapping[str, Any]) -> str:
    """`20 users`, or `200/s` for an arrival-rate level."""
    return f"{level['rate']:g}/s" if level.get("rate") else f"{level['users']} users"
