"""A level's live figures, pushed every few seconds while it runs: remote write, OTLP.

Only the process that writes the samples pushes (one Locust process, or the
master of --processes / --master, which receives every worker's sample lines):
`LiveFigures` reads the same lines as samples.csv, so each request counts once
and the pushed totals are the file's. docs/metrics.md lists the series:

    ecs_load_requests_total{type, phase, outcome}      outcome ok/error/dropped/rate_limited
    ecs_load_response_seconds_bucket{type, phase, le}  answered as expected (ok) only: an
                                                      error is never a latency; _sum, _count
    ecs_load_users, ecs_load_offered_rate, ecs_load_lateness_seconds,
    ecs_load_generator_busy_ratio
    ecs_load_level_start_seconds, ecs_load_level_end_seconds,
    ecs_load_run_start_seconds, ecs_load_run_end_seconds   (epoch s: for annotations)

each also labelled {run, endpoint, level, repeat}; over OTLP (ecsload.plugin.otlp)
the same figures as the SDK's metrics. A `Pusher` per output sends them from a
greenlet, one push at a time: a receiver that is down or slow costs the level
nothing but the points it missed (counted for one WARNING at the end of the
run), and the memory is the current figures only, whatever the receiver does.
"""

import json
import logging
import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.plugin.options import LevelOptions, level_options
from ecsload.plugin.remote_write import PushError, Series, encode, post
from ecsload.receiver_auth import AuthFileError, read_auth
from ecsload.run_folder import LevelFolder

PUSH_SECONDS = 2.0  # how often the figures are pushed while the level runs
PUSH_TIMEOUT = 2.0  # s: a push that takes longer is given up (the next one carries on)
# Classic histogram buckets (s): 1 ms to 10 s, the range of an API's answers.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DROPPED = "Dropped"  # the error of an arrival-rate level's dropped arrival (ecsload.plugin.users)
RATE_LIMITED = "429"


def outcome(ok: str, status: str, error: str) -> str:
    if ok == "1":
        return "ok"
    if error == DROPPED:
        return "dropped"
    return "rate_limited" if status == RATE_LIMITED else "error"


@dataclass
class Latencies:
    """One classic histogram: counts per bucket (not yet cumulative), their sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    low: float = float("inf")
    high: float = 0.0


class LiveFigures:
    """The level's counts so far, from its sample lines (ecsload.sample_columns)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        self.latencies: dict[tuple[str, str], Latencies] = {}
        self.lateness: dict[str, float] = {}  # s: the largest since each output's last push

    def add_lines(self, lines: list[str]) -> None:
        """A batch of samples.csv lines (a SampleFile's observer)."""
        requests, latencies = self.requests, self.latencies
        lateness = 0.0
        for line in lines:
            fields = line.split(",")
            name, ok, phase = fields[1], fields[3], fields[6]
            key = (name, phase, outcome(ok, fields[4], fields[7]))
            requests[key] = requests.get(key, 0) + 1
            late = float(fields[8]) / 1000
            if late > lateness:
                lateness = late
            if ok == "1":
                seconds = float(fields[5]) / 1000
                histogram = latencies.get((name, phase))
                if histogram is None:
                    histogram = latencies[(name, phase)] = Latencies()
                histogram.buckets[bisect_left(BUCKETS, seconds)] += 1
                histogram.total += seconds
                histogram.low = min(histogram.low, seconds)
                histogram.high = max(histogram.high, seconds)
        for output, latest in self.lateness.items():
            if lateness > latest:
                self.lateness[output] = lateness

    def series(self, labels: dict[str, str]) -> list[Series]:
        """Every counter and histogram series, with the level's `labels`."""
        out: list[Series] = []
        for (name, phase, result), count in self.requests.items():
            out.append(
                (
                    {
                        **labels,
                        "__name__": "ecs_load_requests_total",
                        "type": name,
                        "phase": phase,
                        "outcome": result,
                    },
                    count,
                )
            )
        for (name, phase), histogram in self.latencies.items():
            own = {**labels, "type": name, "phase": phase}
            cumulative = 0
            for bound, count in zip((*BUCKETS, float("inf")), histogram.buckets, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    ({**own, "__name__": "ecs_load_response_seconds_bucket", "le": le}, cumulative)
                )
            out.append(({**own, "__name__": "ecs_load_response_seconds_count"}, cumulative))
            out.append(({**own, "__name__": "ecs_load_response_seconds_sum"}, histogram.total))
        return out

    def take_lateness(self, output: str) -> float:
        """The largest lateness since `output` last took it (each output pushes on its own)."""
        lateness = self.lateness.get(output, 0.0)
        self.lateness[output] = 0.0
        return lateness


@dataclass
class Delivery:
    """What became of the pushes: remote_write.json (otlp.json) in the level's folder."""

    url: str
    pushes: int = 0
    failed: int = 0
    last_error: str = ""
    final_delivered: bool = False

    def document(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "pushes": self.pushes,
            "failed": self.failed,
            "last_error": self.last_error,
            "final_delivered": self.final_delivered,
        }


class Pusher:
    """Calls `deliver` (one push of the current figures; PushError when it fails) every
    PUSH_SECONDS from a greenlet, and once more at the end.

    One push at a time, each given up after PUSH_TIMEOUT: a slow receiver makes the
    pushes rarer, never the level slower, and nothing queues up.
    """

    def __init__(self, url: str, deliver: Callable[[], None]) -> None:
        self.url = url
        self.deliver = deliver
        self.delivery = Delivery(shown_url(url))
        self._loop: gevent.Greenlet | None = None

    def start(self) -> None:
        if self._loop is None:
            self._loop = gevent.spawn(self._push_forever)

    def _push_forever(self) -> None:
        while True:
            gevent.sleep(PUSH_SECONDS)
            self.push()

    def push(self) -> bool:
        self.delivery.pushes += 1
        try:
            self.deliver()
        except PushError as error:
            self.delivery.failed += 1
            self.delivery.last_error = str(error)
            return False
        return True

    def finish(self) -> Delivery:
        """Stop the loop (a push under way is abandoned) and push the final figures."""
        if self._loop is not None:
            self._loop.kill()
            self._loop = None
        self.delivery.final_delivered = self.push()
        return self.delivery


def remote_write_pusher(
    url: str, auth: dict[str, str], snapshot: Callable[[], list[Series]]
) -> Pusher:
    """Prometheus remote write of `snapshot()` (ecsload.plugin.remote_write)."""
    return Pusher(
        url, lambda: post(url, encode(snapshot(), int(time.time() * 1000)), auth, PUSH_TIMEOUT)
    )


def otlp_pusher(url: str, auth: dict[str, str], metrics: "LevelMetrics") -> Pusher:
    """OTLP/HTTP of the level's figures (ecsload.plugin.otlp: the SDK, imported only with
    --otlp, as it takes a while)."""
    from ecsload.plugin.otlp import metrics_data, otlp_sender

    send = otlp_sender(url, auth, PUSH_TIMEOUT)
    start_ns = time.time_ns()
    figures = metrics.figures
    return Pusher(
        url,
        lambda: send(
            metrics_data(
                figures.requests,
                figures.latencies,
                BUCKETS,
                metrics.labels,
                metrics.gauges("otlp"),
                start_ns,
            )
        ),
    )


def shown_url(url: str) -> str:
    """The URL as messages show it: scheme, host, port and path (no query, which might
    carry a token)."""
    return url.split("?", 1)[0].split("#", 1)[0]


@dataclass(frozen=True)
class LevelMarks:
    """Who the level is, for its labels and its annotations."""

    run: str
    level: str
    repeat: str
    run_started: float  # epoch s
    run_ends: bool  # the sweep's last level: its end is the run's


class LevelMetrics:
    """The level's figures and gauges, pushed while it runs (see the module's docstring)."""

    def __init__(self, level: Any, marks: LevelMarks) -> None:
        self.level = level
        self.marks = marks
        self.figures = LiveFigures()
        self.pushers: dict[str, Pusher] = {}  # by output: "remote_write", "otlp"
        self.labels = {
            "run": marks.run,
            "endpoint": level.environment.host or "",
            "level": marks.level,
            "repeat": marks.repeat,
        }

    def add_output(self, output: str, pusher: Pusher) -> None:
        self.pushers[output] = pusher
        self.figures.lateness[output] = 0.0

    def gauges(self, output: str) -> dict[str, float]:
        """The gauges and marks as they are now (those that have a value)."""
        level = self.level
        runner = level.environment.runner
        gauges: dict[str, float | None] = {
            "ecs_load_users": runner.user_count if runner is not None else None,
            "ecs_load_offered_rate": level.arrival_rate,
            "ecs_load_lateness_seconds": self.figures.take_lateness(output),
            "ecs_load_level_start_seconds": level.started,
            "ecs_load_level_end_seconds": level.ended,
            "ecs_load_run_start_seconds": self.marks.run_started,
            "ecs_load_run_end_seconds": level.ended if self.marks.run_ends else None,
        }
        if level.role.budget is not None:  # this process runs the users (a master runs none)
            busy = level.generator_share()["busy_percent"]
            gauges["ecs_load_generator_busy_ratio"] = None if busy is None else busy / 100
        return {name: float(value) for name, value in gauges.items() if value is not None}

    def snapshot(self, output: str = "remote_write") -> list[Series]:
        """Every series as remote write sends them."""
        series = self.figures.series(self.labels)
        series += [
            ({**self.labels, "__name__": name}, value)
            for name, value in self.gauges(output).items()
        ]
        return series

    def start(self) -> None:
        for pusher in self.pushers.values():
            pusher.start()

    def finish(self) -> None:
        """The last push of each output, and what became of its pushes beside the samples
        (remote_write.json, otlp.json: read for the run's WARNING, ecsload.commands.summarize)."""
        folder = LevelFolder(Path(level_options(self.level.environment).samples_file).parent)
        for output, pusher in self.pushers.items():
            delivery = pusher.finish()
            path = folder.remote_write if output == "remote_write" else folder.otlp
            try:
                path.write_text(json.dumps(delivery.document()) + "\n")
            except OSError as error:  # the run's figures are whole without it
                logging.getLogger(__name__).warning("%s not written: %s", path, error.strerror)


def live_metrics(level: Any, options: LevelOptions) -> LevelMetrics | None:
    """The level's live metrics with --remote-write or --otlp, where this process writes the
    samples (not on a worker); None otherwise. Their batches reach them from the samples file."""
    samples = getattr(level.role, "samples", None)
    if not (options.remote_write or options.otlp) or samples is None:
        return None
    try:
        auth = read_auth(options.metrics_credentials) if options.metrics_credentials else {}
    except AuthFileError as error:
        raise UserError(f"remote write credentials: {error}", EXIT_USAGE) from None
    marks = LevelMarks(
        run=options.run_name,
        level=options.level_key,
        repeat=options.level_repeat,
        run_started=options.run_started,
        run_ends=options.run_ends,
    )
    metrics = LevelMetrics(level, marks)
    if options.remote_write:
        metrics.add_output(
            "remote_write",
            remote_write_pusher(
                options.remote_write, auth, lambda: metrics.snapshot("remote_write")
            ),
        )
    if options.otlp:
        metrics.add_output("otlp", otlp_pusher(options.otlp, auth, metrics))
    samples.observers.append(metrics.figures.add_lines)
    return metrics
