"""The summaries of a level and of a run, as the JSON documents that CI reads.

Both files share one shape, `{"endpoint": URL, "levels": [LEVEL, …]}`; a level's
summary.json holds one level, the run's holds them all in concurrency order.
The tables are rendered from these documents, so text and JSON never disagree.
The contract is documented in docs/summary-json.md; LEVEL is:

    concurrency      users of the level
    requests         samples recorded (one per completed request)
    started, ended   ISO 8601 UTC: first request sent, last answer received
    seconds, rps     ended - started, and requests / seconds (null if 0 s)
    stopped_by       "requests" | "time" | "other" | null (from level.json)
    target_requests, time_cap_seconds, locust_requests   from level.json, or null
    workers          {"joined", "finished", "lost"} with --processes or --master, else null
    all              the statistics of every request, as in `types`
    types            request type name → {"ok", "error", "rate_limited", "min",
                     "p50" … "p99", "max", "m", "b"}; times in ms, m in ms/s
"""

from collections.abc import Iterable, Mapping
from typing import Any

from ecsload.report.samples import Samples
from ecsload.report.stats import group_statistics
from ecsload.timestamps import iso_utc


def level_summary(samples: Samples, concurrency: int, level_info: Mapping[str, Any]) -> dict:
    """One LEVEL of summary.json from a level's samples (at least one) and its level.json."""
    started_ms = int(samples.timestamp_ms.min())
    ended_ms = float((samples.timestamp_ms + samples.response_time_ms).max())
    seconds = (ended_ms - started_ms) / 1000
    since_start = (samples.timestamp_ms - started_ms) / 1000

    def stats_of(selected: Any) -> dict[str, float | int]:
        return group_statistics(
            samples.ok[selected],
            samples.status[selected],
            samples.response_time_ms[selected],
            since_start[selected],
        )

    types = {
        name: stats_of(samples.type_code == code)
        for code, name in sorted(enumerate(samples.type_names), key=lambda item: item[1])
    }
    return {
        "concurrency": concurrency,
        "requests": len(samples),
        "started": iso_utc(started_ms),
        "ended": iso_utc(ended_ms),
        "seconds": round(seconds, 3),
        "rps": round(len(samples) / seconds, 3) if seconds > 0 else None,
        "stopped_by": level_info.get("stopped_by"),
        "target_requests": level_info.get("target_requests"),
        "time_cap_seconds": level_info.get("time_cap_seconds"),
        "locust_requests": level_info.get("locust_requests"),
        "workers": level_info.get("workers"),
        "all": stats_of(slice(None)),
        "types": types,
    }


def run_summary(endpoint: str | None, levels: Iterable[Mapping[str, Any]]) -> dict:
    """summary.json's document: the endpoint and its levels in concurrency order."""
    return {"endpoint": endpoint, "levels": sorted(levels, key=lambda level: level["concurrency"])}
