"""One level of the sweep, inside Locust: its options, request budget, samples and level.json.

run_load_test.sh runs one headless Locust per level. Locust has had no "stop
after N requests" since 1.0, so the budget here hands out exactly N requests
and quits the runner once the last of them has completed; `--run-time` stays
the time cap. level.json then tells the summary what happened:

    users, host             the level's -u and --host
    requests                requests completed (the samples written, when recording);
                            on a master, the samples its workers shipped to it
    target_requests         --stop-after-requests, or null for no limit
    time_cap_seconds        --run-time, or null
    stopped_by              "requests" (the budget was spent), "time" (--run-time),
                            "other" (SIGTERM, Ctrl-C, a Locust error)
    locust_requests         the requests Locust's own statistics counted
    started, ended, seconds from the first user's start to the stop (ISO 8601 UTC)
    cpu_seconds             this Locust process's CPU time in that span (plus its
                            workers'): near `seconds` times processes means the generator,
                            not the target, set the pace
    workers                 on a master only: {"joined", "finished", "lost"}, workers that
                            connected, that sent their last samples, that did not

With --processes or --master the budget and the samples cross processes: see
ecsload/distributed.py.
"""

import argparse
import json
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.event import Events
from locust.runners import MasterRunner, WorkerRunner

from ecsload.api import DEFAULT_HAPPY_IMAGE, DEFAULT_MISSING_IMAGE
from ecsload.cli import EXIT_CONFIG, UserError
from ecsload.credentials import load_credentials
from ecsload.distributed import MasterSide, WorkerSide
from ecsload.samples import SampleFile, SampleRecorder
from ecsload.summary import iso_utc
from ecsload.tickets import TicketLease

FLUSH_SECONDS = 1.0  # samples reach the file at least this often, so it grows as the level runs
TIME_CAP_SLACK = 0.5  # a stop this close to --run-time (counted from init) is the time cap's


def request_count(text: str) -> int:
    """--stop-after-requests' value: a whole number, 0 for no limit."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of requests")
    return int(text)


def add_options(parser: Any, **_: Any) -> None:
    """The locustfile's own options (events.init_command_line_parser)."""
    group = parser.add_argument_group("ECS load test")
    group.add_argument(
        "--ecs-credentials",
        metavar="FILE",
        default="",
        help="plaintext key:secret lines; each request is signed with one picked "
        "at random (empty: requests carry no credentials)",
    )
    group.add_argument(
        "--stop-after-requests",
        metavar="N",
        type=request_count,
        default=0,
        help="quit once N requests have completed; in-flight ones finish and count (0: no limit)",
    )
    group.add_argument(
        "--samples-file", metavar="FILE", default="", help="record one CSV line per request in FILE"
    )
    group.add_argument(
        "--level-info",
        metavar="FILE",
        default="",
        help="write what the level did, as JSON, to FILE at quit",
    )
    group.add_argument(
        "--worker-info",
        metavar="FILE",
        default="",
        help="on a worker: write what it did, as JSON, to FILE at quit "
        "(sweep_over: the master said no level follows)",
    )
    group.add_argument(
        "--last-level",
        action="store_true",
        help="on a master: tell the workers that no level follows this one",
    )
    group.add_argument(
        "--happy-image",
        metavar="IMAGE",
        default=DEFAULT_HAPPY_IMAGE,
        help="image of Tasks-Happy-Path requests",
    )
    group.add_argument(
        "--missing-image",
        metavar="IMAGE",
        default=DEFAULT_MISSING_IMAGE,
        help="image of Tasks-Image-Not-Found requests (must not exist)",
    )


class RequestBudget:
    """Hands out at most `limit` requests and calls `on_spent` when the last one completes.

    Gating requests before they start (rather than counting them as they end) lets
    in-flight requests finish and count, and makes a level exactly `limit` long.
    """

    def __init__(self, limit: int, on_spent: Callable[[], None]) -> None:
        self.limit = limit  # 0: no limit
        self.started = 0
        self.completed = 0
        self._on_spent = on_spent

    def take(self) -> bool:
        """May one more request start?"""
        if self.limit and self.started >= self.limit:
            return False
        self.started += 1
        return True

    def on_request(self, **_: Any) -> None:
        self.completed += 1
        if self.completed == self.limit:
            self._on_spent()


class LocalSide:
    """One process runs the level's users: a plain budget, samples straight to their file."""

    user_id_base = 0

    def __init__(self, level: "Level", samples_file: str) -> None:
        self.level = level
        self.budget = RequestBudget(level.target, level.budget_spent)
        self.samples = SampleFile(samples_file) if samples_file else None
        self.sink = self.samples.write if self.samples is not None else None

    def on_quitting(self) -> None:
        if self.samples is not None:
            self.samples.close()

    def info(self) -> dict[str, Any]:
        return {"requests": self.budget.completed, "cpu_seconds": 0.0}


_levels: "weakref.WeakKeyDictionary[Environment, Level]" = weakref.WeakKeyDictionary()


class Level:
    """What a level's users share, made once per Locust process when it starts (events.init).

    Its `side` is what this process does: runs every user (LocalSide), or runs none and
    gathers the workers' samples (MasterSide), or runs some and ships them (WorkerSide).
    """

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        self.environment = environment
        # Read the options now: a master forwards its own to its workers when they start.
        self.users = options.num_users
        self.run_time = options.run_time
        self.target = options.stop_after_requests
        self.last_level = options.last_level
        self.level_info = options.level_info
        authorizations = (
            [{"Authorization": c.authorization} for c in load_credentials(options.ecs_credentials)]
            if options.ecs_credentials
            else [{}]
        )
        # Header dicts made once, one picked per request: the hot path stays cheap.
        self.get_headers = authorizations
        self.post_headers = [{**a, "Content-Type": "application/json"} for a in authorizations]
        self.stopped_by: str | None = None
        # Locust starts its --run-time clock just after init, and the first user later.
        self.initialised = time.monotonic()
        self.started, self.cpu_started = time.time(), time.process_time()
        self.ended: float | None = None
        self.cpu_ended = self.cpu_started
        self.recorder: SampleRecorder | None = None
        self._flusher: gevent.Greenlet | None = None
        runner = environment.runner
        events = environment.events
        self.side: LocalSide | MasterSide | WorkerSide
        if isinstance(runner, MasterRunner):
            self.side = MasterSide(self, runner, options.samples_file)
        elif isinstance(runner, WorkerRunner):
            self.side = WorkerSide(self, runner, options.worker_info)
            self.recorder = SampleRecorder(self.side.sink)
        else:
            self.side = LocalSide(self, options.samples_file)
            if self.side.sink is not None:
                self.recorder = SampleRecorder(self.side.sink)
        if self.side.budget is not None:
            events.request.add_listener(self.side.budget.on_request)
        if self.recorder is not None:
            events.request.add_listener(self.recorder.on_request)
        events.test_start.add_listener(self._on_test_start)
        events.test_stop.add_listener(self._on_stop)
        events.quitting.add_listener(self._on_quitting)
        _levels[environment] = self

    @staticmethod
    def of(environment: Environment) -> "Level":
        return _levels[environment]

    @property
    def budget(self) -> RequestBudget | TicketLease:
        """The budget this process's users take their requests from (none on a master)."""
        assert self.side.budget is not None
        return self.side.budget

    def budget_spent(self) -> None:
        self.stopped_by = "requests"
        runner = self.environment.runner
        if runner is not None:
            gevent.spawn(runner.quit)  # not from this user's greenlet, which quit kills

    def _on_test_start(self, **_: Any) -> None:
        self.started = time.time()
        self.cpu_started = time.process_time()
        if self.recorder is not None and self._flusher is None:
            self._flusher = gevent.spawn(self._flush_forever, self.recorder)

    @staticmethod
    def _flush_forever(recorder: SampleRecorder) -> None:
        while True:
            gevent.sleep(FLUSH_SECONDS)
            recorder.flush()

    def _on_stop(self, **_: Any) -> None:
        """The first stop (test_stop, or quitting on SIGTERM) ends the level's span."""
        if self.ended is not None:
            return
        self.ended, self.cpu_ended = time.time(), time.process_time()
        if self.stopped_by is None:
            elapsed = time.monotonic() - self.initialised
            timed_out = self.run_time and elapsed >= self.run_time - TIME_CAP_SLACK
            self.stopped_by = "time" if timed_out else "other"

    def _on_quitting(self, **_: Any) -> None:
        self._on_stop()
        if self._flusher is not None:
            self._flusher.kill()
        if self.recorder is not None:
            self.recorder.flush()
        self.side.on_quitting()
        info = self.info()
        if self.level_info and info is not None:
            Path(self.level_info).write_text(json.dumps(info, indent=2) + "\n")

    def info(self) -> dict[str, Any] | None:
        """level.json's document (see the module's docstring); None on a worker."""
        side = self.side.info()
        if side is None:
            return None
        runner = self.environment.runner
        ended = self.ended if self.ended is not None else time.time()
        cpu_seconds = self.cpu_ended - self.cpu_started + side.pop("cpu_seconds")
        return {
            "users": self.users,
            "host": self.environment.host,
            "target_requests": self.target or None,
            "time_cap_seconds": self.run_time or None,
            "stopped_by": self.stopped_by,
            "locust_requests": runner.stats.total.num_requests if runner is not None else None,
            "started": iso_utc(self.started * 1000),
            "ended": iso_utc(ended * 1000),
            "seconds": round(ended - self.started, 3),
            "cpu_seconds": round(cpu_seconds, 3),
            **side,
        }


def on_init(environment: Environment, **_: Any) -> None:
    """Set the level up; a credentials file that cannot be used ends Locust with exit 2.

    Locust arms --run-time right after init with gevent's cached loop clock, which
    still reads the time before Locust's imports: measured here, a 2 s cap fired
    after 0.2 s. Refreshing the clock first makes the cap count from now.
    """
    gevent.get_hub().loop.update_now()
    try:
        Level(environment)
    except UserError as error:
        sys.stderr.write(f"locust: {error}\n")
        sys.exit(EXIT_CONFIG)


def install(events: Events) -> None:
    """Register the level's options and its set-up with Locust (called by the locustfile)."""
    events.init_command_line_parser.add_listener(add_options)
    events.init.add_listener(on_init)
