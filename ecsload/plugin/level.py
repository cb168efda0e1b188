"""One level of the sweep, inside Locust: its users, ramp, measured phase, budget and level.json.

run_load_test.sh runs one headless Locust per level. A level has two phases:

    ramp     Locust starts the level's users at the hatch rate; their requests are
             recorded (phase "ramp") but not counted or measured
    warmup   with --warmup-seconds S: from Locust's spawning_complete (all users
             running), S seconds whose requests are recorded (phase "warmup") but
             not counted
    measure  then: the budget hands out exactly N requests, and the level ends once
             the last has completed; or, with --level-seconds S (a timed level), it
             hands out requests for S seconds, then none, and the level ends once
             the started ones have completed (they count)

Locust has had no "stop after N requests" since 1.0, so the budget does it;
`--run-time` stays the time cap. Requests still in flight when the level stops
are recorded as errors with no answer. Each kind of user gets its share of the
level's users by weight (ecsload.model), given to Locust as `fixed_count`.

level.json then tells the summary what happened:

    users, host             the level's -u and --host
    arrival_rate, arrivals, max_in_flight
                            an arrival-rate level's --arrival-rate (requests/s in all),
                            --arrivals and --max-in-flight; null for a closed level
    users_by_kind           {"NoOpUser": 1, ...}: the users of each kind
    target_requests         --stop-after-requests, or null for no limit
    level_seconds           --level-seconds, or null (not a timed level)
    warmup_seconds          --warmup-seconds (0: none)
    time_cap_seconds        --run-time, or null
    stopped_by              "requests" (the budget was spent), "seconds" (a timed level's
                            time was up), "time" (--run-time),
                            "other" (SIGTERM, Ctrl-C, a Locust error, every worker lost)
    ramp                    {"seconds", "completed", "users_started"}: how long the users
                            took to start, whether all did, how many had at the end
    samples                 sample lines recorded (on a master: received from workers)
    unanswered              requests in flight when the level stopped (in the samples)
    locust_requests         the requests Locust's own statistics counted (every phase)
    started, ended, seconds from the first user's start to the stop (ISO 8601 UTC)
    generator               {"processes", "cpu_percent": [...], "busy_percent": [...]}: each
                            Locust process's CPU use (user + system ÷ wall) while
                            measuring, and its event loop's time on a CPU or waiting for
                            one (ecsload.plugin.cpu); the master first; null where
                            nothing was measured. An arrival-rate level adds
                            "loop_lag_ms": [{"p50", "p99", "max", "samples"} | null, ...]:
                            how late each process's event loop got to what was ready
                            (ecsload.plugin.clock.LoopLag; null: a master, or no sample)
    workers                 with workers only: {"joined", "finished", "lost"}
    connections             new connections the users opened (each a TCP and, for https, a
                            TLS handshake), summed over the workers that finished
    tls                     {"verified", "ca_bundle"} for an https host, else null
    other_sweeps            the other ecs-load sweeps seen running on this machine while
                            the level ran, each {"pid", "run", "started"} (ecsload.sweeps_here;
                            looked for each second by the process that records): they
                            shared its cores

The users verify an https host as `--ca-bundle` and `--insecure` say
(ecsload.tls), with one SSLContext per process. The bundle's certificates,
not its path, reach a master's workers: each process puts them in its parsed
options as `ecs_ca_pem`, which Locust's master forwards with its other custom
options, so a worker on another machine needs no copy of the file.

With --progress-file, the process that writes the samples (not a worker) also
rewrites a small JSON file about once a second while the level runs, for the
live line (ecsload.commands.watch): `users` running of `level_users`, `phase`
("ramp", "measure", "stopping"), `started` and `measure_started` (epoch s), and
`generator`, this process's CPU and busy share so far while measuring (null on
a master, which runs no users).

With --processes or --master the budget and the samples cross processes: see
ecsload/plugin/roles.py.
"""

import logging
import math
import ssl
import sys
import time
import weakref
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.event import Events
from locust.runners import WorkerRunner

from ecsload.cli import UserError
from ecsload.credentials import load_credentials
from ecsload.exits import EXIT_USAGE
from ecsload.locust_compat import refresh_loop_clock, set_fixed_counts
from ecsload.model import default_max_in_flight, users_by_kind
from ecsload.plugin.budget import RequestBudget, TicketLease
from ecsload.plugin.clock import LoopLag
from ecsload.plugin.cpu import CpuReading, cpu_share, read_cpu
from ecsload.plugin.live_metrics import LevelMetrics, live_metrics
from ecsload.plugin.options import add_options, level_options
from ecsload.plugin.recorder import InFlight, SampleRecorder
from ecsload.plugin.roles import LevelTerms, Role, make_role
from ecsload.run_folder import (
    GeneratorInfo,
    LevelInfo,
    Progress,
    WriteError,
    write_level_info,
    write_progress,
)
from ecsload.sample_columns import MEASURE, RAMP, WARMUP
from ecsload.sweeps_here import SeenBeside
from ecsload.timestamps import iso_utc
from ecsload.tls import client_context, read_ca_bundle, tls_terms

FLUSH_SECONDS = 1.0  # samples reach the file at least this often, so it grows as the level runs
BESIDE_SECONDS = 1.0  # how often the process that records looks for other sweeps on the machine
PROGRESS_SECONDS = 1.0  # how often the progress file is rewritten
TIME_CAP_SLACK = 0.5  # a stop this close to --run-time (counted from init) is the time cap's
UNANSWERED = {
    "time": "no answer before the time cap",
    "requests": "no answer when the level ended",
    "seconds": "no answer when the level ended",
    "other": "no answer when the level was stopped",
}

_levels: "weakref.WeakKeyDictionary[Environment, Level]" = weakref.WeakKeyDictionary()


class Level:
    """What a level's users share, made once per Locust process when it starts (events.init).

    Its `role` is what this process does (ecsload.plugin.roles): runs every user, or
    runs none and gathers the workers' samples (master), or runs some and ships them.
    """

    def __init__(self, environment: Environment) -> None:
        options = level_options(environment)
        self.environment = environment
        # Read the options now: a master forwards its own to its workers when they start.
        self.users = options.num_users
        self.run_time = options.run_time
        # A level ends after its requests or, timed, after its seconds (the plan's -n or -d).
        self.level_seconds = float(options.level_seconds or 0)
        self.target = 0 if self.level_seconds else options.stop_after_requests
        self.warmup_seconds = options.warmup_seconds
        self.level_info = options.level_info
        authorizations = (
            [{"Authorization": c.authorization} for c in load_credentials(options.ecs_credentials)]
            if options.ecs_credentials
            else [{}]
        )
        # Header dicts made once, one picked per request: the hot path stays cheap.
        self.get_headers = authorizations
        self.post_headers = [{**a, "Content-Type": "application/json"} for a in authorizations]
        options.ecs_ca_pem = read_ca_bundle(options.ca_bundle) if options.ca_bundle else ""
        self._ssl_context: ssl.SSLContext | None = None
        self.connections = 0  # opened by this process's users
        # A worker runs the users its master gives it, by class: the master shares them.
        worker = isinstance(environment.runner, WorkerRunner)
        self.arrival_rate = options.arrival_rate
        self.users_by_kind = (
            None if worker else share_users(environment, self.users, self.arrival_rate is not None)
        )
        self.max_in_flight: int | None = None
        if self.arrival_rate is not None:  # 0: not resolved by the plan (Locust run by hand)
            self.max_in_flight = options.max_in_flight or default_max_in_flight(self.arrival_rate)
            if not worker:  # read by each ArrivalUser
                options.ecs_user_rate = self.arrival_rate / self.users
                options.ecs_user_in_flight = math.ceil(self.max_in_flight / self.users)
                options.ecs_user_slots = self.users
        # This process's place among the arrival users (one per process): where its share of
        # a constant schedule falls between the others' (ecsload.plugin.users.ArrivalUser).
        runner = environment.runner
        self.process_index = max(runner.worker_index, 0) if isinstance(runner, WorkerRunner) else 0
        self.progress_file = "" if worker else options.progress_file
        self.measuring = False
        # a request sent and not answered (by its user's id, or its arrival's number)
        self.in_flight: dict[int, InFlight] = {}
        self.warming = False  # in the warmup after the ramp
        self.spawned: float | None = None  # when all users ran (epoch s)
        self.unanswered = 0
        self.stopped_by: str | None = None
        # Locust starts its --run-time clock just after init, and the first user later.
        self.initialised = time.monotonic()
        self.started = time.time()
        self.measured: float | None = None  # when the measured phase began (epoch s)
        self.ended: float | None = None
        self.cpu_measured: CpuReading | None = None
        self.cpu_ended: CpuReading | None = None
        self.loop_lag = LoopLag()
        self.users_started = 0
        self._flusher: gevent.Greenlet | None = None
        self._reporter: gevent.Greenlet | None = None
        self._phases: gevent.Greenlet | None = None
        self._beside: gevent.Greenlet | None = None
        self.beside = SeenBeside()  # other sweeps on this machine (ecsload.sweeps_here)
        self.measure_opened = gevent.event.Event()
        events = environment.events
        # Before the role's listeners: the level's span ends before a master waits for its
        # workers' last samples.
        events.test_stopping.add_listener(self._on_stopping)
        self.role: Role = make_role(
            environment,
            LevelTerms(
                target=self.target,
                samples_file=options.samples_file,
                last_level=options.last_level,
                worker_info=options.worker_info,
                stop=self.stop,
                fail=self.fail,
                stop_reason=self.stop_reason,
                generator_share=self.generator_share,
                connections=lambda: self.connections,
                token_file=options.master_token_file,
                forked=bool(getattr(options, "processes", None)),
            ),
        )
        # --remote-write: the figures pushed while the level runs (None without it)
        self.live: LevelMetrics | None = live_metrics(self, options)
        if self.role.budget is not None:
            events.request.add_listener(self.role.budget.on_request)
        if self.role.recorder is not None:
            events.request.add_listener(self.role.recorder.on_request)
        events.test_start.add_listener(self._on_test_start)
        events.spawning_complete.add_listener(self._on_spawning_complete)
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

    @property
    def insecure(self) -> bool:
        """--insecure, read when a user starts: a worker's comes from its master."""
        return level_options(self.environment).insecure

    @property
    def request_timeout(self) -> float:
        """--request-timeout, read when a user starts: a worker's comes from its master."""
        return float(level_options(self.environment).request_timeout)

    def ssl_context(self, **_: Any) -> ssl.SSLContext:
        """The users' TLS context (their ssl_context_factory), made once per process when the
        first https connection opens (a worker has its master's options by then)."""
        if self._ssl_context is None:
            options = level_options(self.environment)
            self._ssl_context = client_context(options.insecure, options.ecs_ca_pem or None)
        return self._ssl_context

    def count_connection(self, _sock: Any) -> None:
        """A user opened a new connection (geventhttpclient's after_connect hook)."""
        self.connections += 1

    def admit(self) -> str | None:
        """The phase of a request a user is about to send; None once the budget is spent."""
        if not self.measuring:
            return WARMUP if self.warming else RAMP
        return MEASURE if self.budget.take() else None

    def stop(self, reason: str) -> None:
        """End the level: the runner quits, and level.json says why."""
        self.stop_reason(reason)
        runner = self.environment.runner
        if runner is not None:
            gevent.spawn(runner.quit)  # not from the caller's greenlet, which quit may kill

    def fail(self, message: str) -> None:
        """End the level because this process cannot go on: the reason goes to Locust's log
        (where the summary finds it) and Locust exits 1."""
        logging.getLogger(__name__).error(message)
        self.environment.process_exit_code = 1
        self.stop("other")

    def stop_reason(self, reason: str | None = None) -> str:
        """Why the level ends, settled by the first to know: `reason`, else the time cap's
        ("time") when --run-time has passed, else "other"."""
        if self.stopped_by is None:
            if reason is None:
                elapsed = time.monotonic() - self.initialised
                timed_out = self.run_time and elapsed >= self.run_time - TIME_CAP_SLACK
                reason = "time" if timed_out else "other"
            self.stopped_by = reason
        return self.stopped_by

    def generator_share(self) -> dict[str, Any]:
        """How busy this process was while measuring (ecsload.plugin.cpu), and in an
        arrival-rate level its event loop's lag (ecsload.plugin.clock)."""
        lag = {"loop_lag_ms": self.loop_lag.summary()} if self.arrival_rate is not None else {}
        if self.cpu_measured is None:
            return {"cpu_percent": None, "busy_percent": None, **lag}
        return {**cpu_share(self.cpu_measured, self.cpu_ended or read_cpu()), **lag}

    def _on_test_start(self, **_: Any) -> None:
        self.started = time.time()
        recorder = self.role.recorder
        if recorder is not None and self._flusher is None:
            self._flusher = gevent.spawn(self._flush_forever, recorder)
            self._beside = gevent.spawn(self._look_beside_forever)
        if self.progress_file and self._reporter is None:
            self._reporter = gevent.spawn(self._report_forever)
        if self.live is not None:
            self.live.start()

    def _on_spawning_complete(self, **_: Any) -> None:
        """All the level's users run: the warmup, then the measured phase, begins."""
        if self.spawned is not None or self.ended is not None:
            return
        self.spawned = time.time()
        self.measure_opened.set()
        if self.warmup_seconds or self.level_seconds:
            self.warming = bool(self.warmup_seconds)
            self._phases = gevent.spawn(self._run_phases)
        else:
            self._open_measure()

    def _open_measure(self) -> None:
        """The budget opens and the measured phase begins."""
        self.measured, self.cpu_measured = time.time(), read_cpu()
        self.warming = False
        self.measuring = True
        if self.arrival_rate is not None and self.role.budget is not None:
            self.loop_lag.start()  # what the process's users send, their answers wait for

    def _run_phases(self) -> None:
        """The warmup's seconds, then the measured phase; a timed level's budget closes
        after its seconds (on a worker the master closes it)."""
        if self.warmup_seconds:
            gevent.sleep(self.warmup_seconds)
        if self.ended is not None:
            return
        self._open_measure()
        if self.level_seconds:
            gevent.sleep(self.level_seconds)
            if self.ended is None:
                self.stop_reason("seconds")
                self.role.close_budget()

    @staticmethod
    def _flush_forever(recorder: SampleRecorder) -> None:
        while True:
            gevent.sleep(FLUSH_SECONDS)
            recorder.flush()

    def _look_beside_forever(self) -> None:
        while True:
            self.beside.look()
            gevent.sleep(BESIDE_SECONDS)

    def progress(self) -> Progress:
        """The progress file's document (see the module's docstring)."""
        runner = self.environment.runner
        phase = (
            "stopping"
            if self.ended is not None
            else MEASURE
            if self.measuring
            else WARMUP
            if self.warming
            else RAMP
        )
        return {
            "users": runner.user_count if runner is not None else 0,
            "level_users": self.users,
            "phase": phase,
            "started": self.started,
            "measure_started": self.measured,
            "generator": self.generator_share() if self.role.budget is not None else None,
        }

    def _report_forever(self) -> None:
        while True:
            try:
                write_progress(self.progress_file, self.progress())
            except WriteError as error:  # the live line shows less; the level goes on
                logging.getLogger(__name__).warning("%s", error)
            gevent.sleep(PROGRESS_SECONDS)

    def _on_stopping(self, **_: Any) -> None:
        """The first sign of the end: the level's span ends here, before users are stopped."""
        if self.ended is not None:
            return
        self.ended, self.cpu_ended = time.time(), read_cpu()
        self.loop_lag.stop()
        if self._beside is not None:  # a sweep that started since the last look
            self.beside.look()
        runner = self.environment.runner
        if self.spawned is not None:  # all had started; some may have stopped (budget spent)
            self.users_started = self.users
        elif runner is not None:
            self.users_started = runner.user_count
        self.stop_reason()

    def _on_stop(self, **_: Any) -> None:
        """The users are stopped: what they still waited for had no answer."""
        self._on_stopping()
        recorder = self.role.recorder
        why = UNANSWERED[self.stop_reason()]
        assert self.ended is not None
        # Users keep sending until Locust stops them, after the level's end mark: one sent
        # after it waited until now (from the mark its time would be negative).
        stopped = time.time()
        for request in self.in_flight.values():
            if recorder is not None:
                end = self.ended if request.start_time <= self.ended else stopped
                recorder.unanswered(request, end, why)
            self.unanswered += 1
        self.in_flight.clear()

    def _on_quitting(self, **_: Any) -> None:
        self._on_stop()
        for greenlet in (self._flusher, self._reporter, self._phases, self._beside):
            if greenlet is not None:
                greenlet.kill()
        if self.role.recorder is not None:
            self.role.recorder.flush()
        self.role.on_quitting()
        if self.live is not None:  # after the role's last samples
            self.live.finish()
        info = self.info()
        if self.level_info and info is not None:
            try:
                write_level_info(self.level_info, info)
            except WriteError as error:  # a full disk: in Locust's log, where the summary
                logging.getLogger(__name__).error("%s", error)  # finds it; Locust exits 1
                self.environment.process_exit_code = 1

    def generator_info(self, shares: list[dict[str, Any]]) -> GeneratorInfo:
        """level.json's `generator`: each process's share, this one first."""
        info: GeneratorInfo = {
            "processes": len(shares),
            "cpu_percent": [share["cpu_percent"] for share in shares],
            "busy_percent": [share["busy_percent"] for share in shares],
        }
        if self.arrival_rate is not None:
            info["loop_lag_ms"] = [share.get("loop_lag_ms") for share in shares]
        return info

    def info(self) -> LevelInfo | None:
        """level.json's document (see the module's docstring); None on a worker."""
        role = self.role.info()
        if role is None:
            return None
        runner = self.environment.runner
        ended = self.ended if self.ended is not None else time.time()
        ramp_end = self.spawned if self.spawned is not None else ended
        shares = [self.generator_share(), *role["worker_shares"]]
        options = level_options(self.environment)
        return {
            "users": self.users,
            "arrival_rate": self.arrival_rate,
            "arrivals": options.arrivals if self.arrival_rate is not None else None,
            "max_in_flight": self.max_in_flight,
            "host": self.environment.host,
            "users_by_kind": self.users_by_kind,
            "target_requests": self.target or None,
            "level_seconds": self.level_seconds or None,
            "warmup_seconds": self.warmup_seconds,
            "time_cap_seconds": self.run_time or None,
            "stopped_by": self.stopped_by,
            "ramp": {
                "seconds": round(ramp_end - self.started, 3),
                "completed": self.spawned is not None,
                "users_started": self.users_started,
            },
            "unanswered": self.unanswered,
            "locust_requests": runner.stats.total.num_requests if runner is not None else None,
            "started": iso_utc(self.started * 1000),
            "ended": iso_utc(ended * 1000),
            "seconds": round(ended - self.started, 3),
            "generator": self.generator_info(shares) if self.measured else None,
            "connections": self.connections + role["worker_connections"],
            "tls": tls_terms(self.environment.host or "", options.insecure, options.ca_bundle),
            "samples": role["samples"],
            "workers": role["workers"],
            "other_sweeps": self.beside.entries(),
        }


def share_users(environment: Environment, users: int, arrivals: bool) -> dict[str, int]:
    """Give each user class its share of the level's users as Locust's `fixed_count`.

    Locust 2 would give the classes users in a fixed order by weight, so a small level
    would run without some kinds; fixed counts make every kind run at every level. A
    class whose share is 0 (fewer users than kinds) is taken out of the level. An
    arrival-rate level runs only the arrival users (`arrivals = True`), which send
    every kind's requests themselves; a closed level runs all the others.
    """
    kinds = [c for c in environment.user_classes if getattr(c, "arrivals", False) == arrivals]
    if arrivals:
        counts = {cls.__name__: users for cls in kinds}
    else:
        counts = users_by_kind(users, {cls.__name__: cls.weight for cls in kinds})
    set_fixed_counts(environment, counts)
    return counts


def on_init(environment: Environment, **_: Any) -> None:
    """Set the level up; a credentials file that cannot be used ends Locust with exit 2.

    Locust arms --run-time right after init with gevent's cached loop clock, which
    still reads the time before Locust's imports: measured here, a 2 s cap fired
    after 0.2 s. Refreshing the clock first makes the cap count from now.
    """
    refresh_loop_clock()
    try:
        Level(environment)
    except UserError as error:
        sys.stderr.write(f"locust: {error}\n")
        sys.exit(EXIT_USAGE)


def install(events: Events) -> None:
    """Register the level's options and its set-up with Locust (called by the locustfile)."""
    events.init_command_line_parser.add_listener(add_options)
    events.init.add_listener(on_init)
