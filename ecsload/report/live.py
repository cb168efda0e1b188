"""The live line's figures: what a running level has done so far, from the files it is writing.

The line reads the same data as the level's table, as it grows: samples.csv
(flushed by the recorder at least once a second; with --processes or --master
the master writes every worker's samples there, so the figures are the sum),
probe.csv, and the plugin's progress.json (users running, phase, the generator's
share; ecsload.plugin.level). Each update reads only the lines added since the
last one, so watching a long level stays cheap.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecsload.analysis.documents import OK_STATUS
from ecsload.analysis.samples import PROBE_ROW, ROW, GrowingRows
from ecsload.analysis.stats import NO_ANSWER, percentiles
from ecsload.run_folder import DocumentError, LevelFolder, Progress, read_progress
from ecsload.sample_columns import HEADER, MEASURE, PROBE_HEADER

RATE_WINDOW_SECONDS = 5.0  # req/s is over the completions of the last this many seconds
CPU_AFTER_SECONDS = 2.0  # a CPU share over less time than this is noise
STARTING = "starting"  # no progress file yet: Locust is starting


@dataclass(frozen=True)
class LiveFigures:
    """A level so far. In the ramp, `requests` and `errors` count the ramp's requests; once
    measuring, the measured ones (the table's); `p95` and the probe's `probe_p50` are over
    the measured phase as in the table."""

    phase: str  # STARTING, "ramp", "measure" or "stopping"
    users: int | None  # running now
    requests: int
    errors: int
    rps: float | None
    p95: float | None
    probe_p50: float | None
    cpu_percent: float | None  # the generator's, while measuring (None on a master)
    elapsed: float | None  # seconds since Locust started the level


class LevelWatch:
    """Keeps what a running level's files have said so far; `update` reads what is new."""

    def __init__(self, level_dir: Path) -> None:
        files = LevelFolder(level_dir)
        self.samples = GrowingRows(files.samples, HEADER, ROW)
        self.probe = GrowingRows(files.probe, PROBE_HEADER, PROBE_ROW)
        self.progress_file = files.progress
        self.counts = {"ramp": [0, 0], MEASURE: [0, 0]}  # phase -> [requests, errors]
        self.measured_times: list[np.ndarray] = []
        self.measured_from_ms: int | None = None
        self.first_end_ms: float | None = None
        self.recent_ends = np.empty(0)  # completion times (ms) within the rate's window
        self.probe_rows = np.empty(0, dtype=PROBE_ROW)

    def update(self, now: float) -> LiveFigures:
        """Read what the files gained, and the figures so far (`now`: time.time())."""
        self._take_samples(self.samples.read_new())
        self.probe_rows = np.concatenate([self.probe_rows, self.probe.read_new()])
        progress = progress_so_far(self.progress_file)
        phase = progress.get("phase", STARTING)
        requests, errors = self.counts[MEASURE if phase in (MEASURE, "stopping") else "ramp"]
        return LiveFigures(
            phase=phase,
            users=progress.get("users"),
            requests=requests,
            errors=errors,
            rps=self._rate(),
            p95=self._p95(),
            probe_p50=self._probe_p50(),
            cpu_percent=cpu_percent(progress, now),
            elapsed=now - progress["started"] if "started" in progress else None,
        )

    def _take_samples(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        measured = rows["phase"] == MEASURE.encode()
        failed = rows["ok"] == 0
        for phase, selected in (("ramp", ~measured), (MEASURE, measured)):
            self.counts[phase][0] += int(np.count_nonzero(selected))
            self.counts[phase][1] += int(np.count_nonzero(selected & failed))
        if measured.any():
            answered = measured & (rows["status"] != NO_ANSWER)  # no answer: no latency
            self.measured_times.append(rows["response_time_ms"][answered])
            first = int(rows["timestamp_ms"][measured].min())
            self.measured_from_ms = min(first, self.measured_from_ms or first)
        ends = rows["timestamp_ms"] + rows["response_time_ms"]
        self.first_end_ms = min(float(ends.min()), self.first_end_ms or float("inf"))
        recent = np.concatenate([self.recent_ends, ends])
        self.recent_ends = recent[recent > recent.max() - RATE_WINDOW_SECONDS * 1000]

    def _rate(self) -> float | None:
        """Completions per second over the last RATE_WINDOW_SECONDS of completions seen."""
        if self.first_end_ms is None:
            return None
        newest = float(self.recent_ends.max())
        span = min(RATE_WINDOW_SECONDS, (newest - self.first_end_ms) / 1000)
        return len(self.recent_ends) / span if span >= 0.5 else None

    def _p95(self) -> float | None:
        if not self.measured_times:
            return None
        if len(self.measured_times) > 1:
            self.measured_times = [np.concatenate(self.measured_times)]
        times = self.measured_times[0]
        return percentiles(times, (95,))["p95"] if len(times) else None

    def _probe_p50(self) -> float | None:
        rows = self.probe_rows[self.probe_rows["status"] == OK_STATUS]
        if self.measured_from_ms is not None:
            rows = rows[rows["timestamp_ms"] >= self.measured_from_ms]
        times = rows["response_time_ms"]
        return percentiles(times, (50,))["p50"] if len(times) else None


def cpu_percent(progress: Progress, now: float) -> float | None:
    """The generator's CPU share while measuring, once it has measured long enough to mean it."""
    since = progress.get("measure_started")
    if since is None or now - since < CPU_AFTER_SECONDS:
        return None
    return (progress.get("generator") or {}).get("cpu_percent")


def progress_so_far(path: Path) -> Progress:
    """progress.json, or {} before Locust has written it (it is replaced whole, never torn)."""
    try:
        return read_progress(path)
    except DocumentError:
        return {}


def live_line(
    figures: LiveFigures,
    level: int,
    levels: int,
    users: int,
    target: int | None,
    time_cap: float | None,
    rate: int | None = None,
) -> str:
    """One line, most telling first (a terminal cuts its end), e.g. `level 2/4, 25 users,
    12 s (cap in 588 s) | 1,234/3,000 requests, 268 req/s, 0 errors, p95 42.0 ms | probe p50
    1.2 ms, Locust CPU 83%`; an arrival-rate level is named by its `rate` (`level 1/3, 200/s`)."""
    head = f"level {level}/{levels}, " + (f"{rate}/s" if rate else f"{users} users")
    if figures.phase == STARTING:
        return f"{head} | starting Locust"
    if figures.elapsed is not None:
        head += f", {figures.elapsed:.0f} s"
        if time_cap:
            head += f" (cap in {max(0.0, time_cap - figures.elapsed):.0f} s)"
    if figures.phase == "ramp":
        done = [f"ramp: {figures.users}/{users} users running, {figures.requests:,} requests"]
    elif figures.phase == "warmup":
        done = [f"warmup: {figures.requests:,} requests, not counted"]
    elif target:
        done = [f"{figures.requests:,}/{target:,} requests"]
    else:
        done = [f"{figures.requests:,} requests"]
    if figures.rps is not None:
        done.append(f"{figures.rps:,.0f} req/s")
    done.append(f"{figures.errors:,} error{'' if figures.errors == 1 else 's'}")
    if figures.p95 is not None:
        done.append(f"p95 {figures.p95:.1f} ms")
    aside = []
    if figures.probe_p50 is not None:
        aside.append(f"probe p50 {figures.probe_p50:.1f} ms")
    if figures.cpu_percent is not None:
        aside.append(f"Locust CPU {figures.cpu_percent:.0f}%")
    return " | ".join([head, ", ".join(done), *([", ".join(aside)] if aside else [])])
