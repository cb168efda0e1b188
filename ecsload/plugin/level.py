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
ecsload/plugin/roles.py.
"""

import json
import sys
import time
import weakref
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.event import Events

from ecsload.cli import UserError
from ecsload.credentials import load_credentials
from ecsload.exits import EXIT_CONFIG
from ecsload.plugin.budget import RequestBudget, TicketLease
from ecsload.plugin.options import add_options
from ecsload.plugin.recorder import SampleRecorder
from ecsload.plugin.roles import LevelTerms, Role, make_role
from ecsload.timestamps import iso_utc

FLUSH_SECONDS = 1.0  # samples reach the file at least this often, so it grows as the level runs
TIME_CAP_SLACK = 0.5  # a stop this close to --run-time (counted from init) is the time cap's

_levels: "weakref.WeakKeyDictionary[Environment, Level]" = weakref.WeakKeyDictionary()


class Level:
    """What a level's users share, made once per Locust process when it starts (events.init).

    Its `role` is what this process does (ecsload.plugin.roles): runs every user, or
    runs none and gathers the workers' samples (master), or runs some and ships them.
    """

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        self.environment = environment
        # Read the options now: a master forwards its own to its workers when they start.
        self.users = options.num_users
        self.run_time = options.run_time
        self.target = options.stop_after_requests
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
        self.cpu_ended: float | None = None
        self._flusher: gevent.Greenlet | None = None
        self.role: Role = make_role(
            environment,
            LevelTerms(
                target=self.target,
                samples_file=options.samples_file,
                last_level=options.last_level,
                worker_info=options.worker_info,
                stop=self.stop,
                cpu_seconds=self.cpu_seconds,
            ),
        )
        events = environment.events
        if self.role.budget is not None:
            events.request.add_listener(self.role.budget.on_request)
        if self.role.recorder is not None:
            events.request.add_listener(self.role.recorder.on_request)
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
        assert self.role.budget is not None
        return self.role.budget

    def stop(self, reason: str) -> None:
        """End the level: the runner quits, and level.json says why."""
        self.stopped_by = reason
        runner = self.environment.runner
        if runner is not None:
            gevent.spawn(runner.quit)  # not from the caller's greenlet, which quit may kill

    def cpu_seconds(self) -> float:
        """This process's CPU time from the level's start to its end (or to now)."""
        ended = self.cpu_ended if self.cpu_ended is not None else time.process_time()
        return ended - self.cpu_started

    def _on_test_start(self, **_: Any) -> None:
        self.started = time.time()
        self.cpu_started = time.process_time()
        recorder = self.role.recorder
        if recorder is not None and self._flusher is None:
            self._flusher = gevent.spawn(self._flush_forever, recorder)

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
        if self.role.recorder is not None:
            self.role.recorder.flush()
        self.role.on_quitting()
        info = self.info()
        if self.level_info and info is not None:
            Path(self.level_info).write_text(json.dumps(info, indent=2) + "\n")

    def info(self) -> dict[str, Any] | None:
        """level.json's document (see the module's docstring); None on a worker."""
        role = self.role.info()
        if role is None:
            return None
        runner = self.environment.runner
        ended = self.ended if self.ended is not None else time.time()
        cpu_seconds = self.cpu_seconds() + role.pop("cpu_seconds")
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
            **role,
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
