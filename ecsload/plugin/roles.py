"""What one Locust process does in a level, by its role: local, master or worker.

    local   runs every user: a plain request budget, samples straight to their file
    master  runs no users (--processes, --master): hands out tickets, writes the
            workers' samples, ends the level
    worker  runs some users: leases tickets, ships its samples to the master

Every role offers the same small interface to the level (`Role`), and gets from
it only what it needs (`LevelTerms`), so neither imports the other.

Across workers no sample may be lost. Locust's master aggregates its workers'
statistics, but its users report it missing the last ones (locust issues #1426,
#3043), and the tables here come from samples, not from those statistics. So
the workers ship their samples to the master in batches, and the level ends
with a flush that the master waits for. The messages (Locust's
register_message / send_message):

    worker -> master  ecs_want     {"want": n}             tickets wanted (ecsload.plugin.budget)
    master -> worker  ecs_grant    {"count": n | null}     n more, 0: spent, null: no limit
    master -> workers ecs_grant    {"count": 0}            to all, once the last are granted
    worker -> master  ecs_samples  {"lines": [...]}        a batch of sample lines
    worker -> master  ecs_idle     {"requests": n}         spent, and its requests are done
    master -> worker  ecs_finish   {"sweep_over", "reason"} stop users, flush, report
    worker -> master  ecs_final    {"requests", "samples", "generator", "connections"}

The measured phase starts on every process with Locust's own spawning_complete
event: the master fires it once all workers have started their users, and
sends it on to them, after which they ask for tickets.

ZeroMQ keeps one connection's messages in order, so a worker's ecs_final comes
after its last samples and its last statistics (sent just before it).

Only the run's own processes speak to its master: every message a worker sends
carries the run's token (`"token"`), and the master drops one without it,
counting it (level.json's workers.rejected, a WARNING in the level's notes and
log). The token is `--master-token-file`'s secret when given (every machine
reads the same one: docs/scale.md), else PROCESS_TOKEN: random, made when the
locustfile is imported, before Locust forks its --processes workers, so they
share it in memory and it is in no file, environment or command line. A master
of other machines (--master) without a token file checks nothing.
"""

import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

import gevent
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from ecsload.locust_compat import send_statistics_now
from ecsload.plugin.budget import RequestBudget, TicketLease, TicketPool
from ecsload.plugin.recorder import Batch, SampleFile, SampleRecorder
from ecsload.run_folder import WorkersInfo, write_worker_info

PROCESS_TOKEN = secrets.token_hex(16)  # this run's, for the workers --processes forks
FINAL_WAIT_SECONDS = 15.0  # how long the master waits for its workers' last samples
WATCH_SECONDS = 0.2  # how often the master checks whether the budget's last request is done
USER_IDS_PER_WORKER = 1_000_000  # worker i's users are i * this + 1, + 2, …
WORKERS_LOST = (
    "every Locust worker went missing (no heartbeat for a few seconds): busy, killed or unreachable"
)


class RoleInfo(TypedDict):
    """A role's part of level.json: `samples` and `workers` as they are, the workers' CPU
    shares and connections to add to the master's own."""

    samples: int
    workers: WorkersInfo | None
    worker_shares: list[dict[str, Any]]
    worker_connections: int


@dataclass
class LevelTerms:
    """What a role needs from its level: the budget, where samples go, how to end it."""

    target: int  # measured requests in the level, 0: no limit
    samples_file: str  # "" records nothing
    last_level: bool  # on a master: no level follows this one
    worker_info: str  # on a worker: where to say what it did, "" for nowhere
    stop: Callable[[str], None]  # end the level (the runner quits), saying why
    fail: Callable[[str], None]  # end it because this process cannot go on (Locust exits 1)
    stop_reason: Callable[..., str]  # why it ends: the given reason if none is settled yet
    generator_share: Callable[[], dict[str, Any]]  # how busy this process was measuring
    connections: Callable[[], int]  # new connections this process's users opened
    token_file: str = ""  # --master-token-file: the run's secret; "" none
    forked: bool = False  # Locust's --processes: the master forked its workers


class Role(Protocol):
    """What a Locust process does in a level; LocalRole, MasterRole and WorkerRole are one each.
    Read-only members, so that each role may narrow them (a master has no budget)."""

    @property
    def budget(self) -> RequestBudget | TicketLease | None:
        """What this process's users take requests from; None: it runs no users."""

    @property
    def recorder(self) -> SampleRecorder | None:
        """Where this process's samples go; None: it records none."""

    @property
    def user_id_base(self) -> int:
        """Added to this process's user numbers, so that ids are unique across workers."""

    def on_quitting(self) -> None: ...

    def close_budget(self) -> None:
        """A timed level's time is up: no request starts any more, and the level ends once
        the started ones complete (the master tells its workers; a worker waits for it)."""
        ...

    def info(self) -> "RoleInfo | None":
        """The role's part of level.json; None where the process writes no level.json."""
        ...


def make_role(environment: Environment, terms: LevelTerms) -> Role:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        return MasterRole(environment, runner, terms)
    if isinstance(runner, WorkerRunner):
        return WorkerRole(runner, terms)
    return LocalRole(terms)


def read_token(path: str) -> str:
    """The secret of a --master-token-file (checked by the plan: ecsload.values)."""
    with open(path, encoding="utf-8") as file:
        return file.readline().strip()


def run_token(terms: "LevelTerms", master: bool) -> str | None:
    """The token this process sends, or on a master checks (None: no check)."""
    if terms.token_file:
        return read_token(terms.token_file)
    if master and not terms.forked:
        return None  # --master without a token file: workers elsewhere cannot know one
    return PROCESS_TOKEN


def open_samples(terms: LevelTerms) -> SampleFile | None:
    """The level's samples file; a failed write (a full disk) fails the level."""
    if not terms.samples_file:
        return None
    return SampleFile(
        terms.samples_file,
        lambda error: terms.fail(f"cannot write {terms.samples_file}: {error.strerror}"),
    )


class LocalRole:
    """One process runs the level's users."""

    user_id_base = 0

    def __init__(self, terms: LevelTerms) -> None:
        self.budget = RequestBudget(terms.target, lambda: terms.stop("requests"))
        self.samples = open_samples(terms)
        self.recorder = SampleRecorder(self.samples.write) if self.samples is not None else None

    def close_budget(self) -> None:
        self.budget.close()

    def on_quitting(self) -> None:
        if self.samples is not None:
            self.samples.close()

    def info(self) -> RoleInfo:
        return {
            "samples": self.samples.lines if self.samples is not None else 0,
            "workers": None,
            "worker_shares": [],
            "worker_connections": 0,
        }


class MasterRole:
    """The master's part: hands out tickets, writes the workers' samples, ends the level."""

    budget = None  # the master runs no users
    recorder = None
    user_id_base = 0

    def __init__(self, environment: Environment, runner: MasterRunner, terms: LevelTerms) -> None:
        self.runner = runner
        self.terms = terms
        self.pool = TicketPool(terms.target)
        self.samples = open_samples(terms)
        self.received = 0
        self.joined: set[str] = set()
        self.idle: set[str] = set()
        self.finals: dict[str, dict[str, Any]] = {}
        self.collected = False
        self.sweep_over = terms.last_level
        self.token = run_token(terms, master=True)
        self.rejected = 0
        for name, listener in (
            ("ecs_want", self._on_want),
            ("ecs_samples", self._on_samples),
            ("ecs_idle", self._on_idle),
            ("ecs_final", self._on_final),
        ):
            runner.register_message(name, self._checked(listener))
        events = environment.events
        events.worker_connect.add_listener(lambda client_id, **_: self.joined.add(client_id))
        events.test_start.add_listener(lambda **_: gevent.spawn(self._watch))
        events.test_stopping.add_listener(lambda **_: self._on_stopping())

    def _checked(self, listener: Callable[..., None]) -> Callable[..., None]:
        """`listener`, for messages that carry the run's token only; the others are
        dropped and counted."""

        def checked(msg: Any, **kwargs: Any) -> None:
            data = msg.data if isinstance(msg.data, dict) else {}
            token = data.get("token")
            if self.token is not None and not (
                isinstance(token, str) and hmac.compare_digest(token, self.token)
            ):
                self.rejected += 1
                return
            listener(msg, **kwargs)

        return checked

    def live_workers(self) -> set[str]:
        return {c.id for c in self.runner.clients.all if c.state != STATE_MISSING}

    def _on_want(self, msg: Any, **_: Any) -> None:
        count = self.pool.grant(msg.node_id, max(len(self.live_workers()), 1), msg.data["want"])
        self.runner.send_message("ecs_grant", {"count": count}, client_id=msg.node_id)
        if count and self.pool.spent:  # the last ones: every worker learns it now, not on its
            self.runner.send_message("ecs_grant", {"count": 0})  # next ask, maybe 1 s away

    def close_budget(self) -> None:
        self.pool.close()
        self.runner.send_message("ecs_grant", {"count": 0})

    def _on_samples(self, msg: Any, **_: Any) -> None:
        lines = msg.data["lines"]
        self.received += len(lines)
        if self.samples is not None:  # None once the level is closed
            self.samples.write(lines)

    def _on_idle(self, msg: Any, **_: Any) -> None:
        self.idle.add(msg.node_id)

    def _on_final(self, msg: Any, **_: Any) -> None:
        self.finals[msg.node_id] = msg.data

    def _watch(self) -> None:
        """End the level once the budget's last request is done, or no worker is left."""
        while not self.collected:
            gevent.sleep(WATCH_SECONDS)
            live = self.live_workers()
            if self.pool.spent and all(w in self.idle or w not in live for w in self.pool.granted):
                self.terms.stop("requests")
            elif self.joined and not live:
                self.terms.fail(WORKERS_LOST)
            else:
                continue
            return

    def _on_stopping(self) -> None:
        """Locust's master stops the test, but does not quit, when its last worker goes
        missing: the level would then wait for its time cap. It fails instead, at once."""
        if self.joined and not self.live_workers():
            self.terms.fail(WORKERS_LOST)
        self.collect()

    def collect(self, interrupted: bool = False) -> None:
        """Tell every worker to finish, and wait (bounded) for their last samples."""
        if self.collected:
            return
        self.collected = True
        self.sweep_over = self.sweep_over or interrupted
        waiting = self.live_workers()
        reason = self.terms.stop_reason()
        self.runner.send_message("ecs_finish", {"sweep_over": self.sweep_over, "reason": reason})
        deadline = time.monotonic() + FINAL_WAIT_SECONDS
        while waiting - set(self.finals) and time.monotonic() < deadline:
            gevent.sleep(0.05)
            waiting &= self.live_workers()  # one that dies meanwhile is not waited for

    def on_quitting(self) -> None:
        self.collect(interrupted=True)
        if self.rejected:
            logging.getLogger(__name__).warning(
                "%d harness message(s) without this run's token were dropped: a process "
                "outside the run sent them to this master",
                self.rejected,
            )
        samples, self.samples = self.samples, None
        if samples is not None:
            samples.close()

    def info(self) -> RoleInfo:
        """level.json's distributed part: samples received and what became of each worker."""
        return {
            "samples": self.received,
            "worker_shares": [final["generator"] for final in self.finals.values()],
            "worker_connections": sum(final["connections"] for final in self.finals.values()),
            "workers": {
                "joined": len(self.joined),
                "finished": len(self.finals),
                "lost": len(self.joined - set(self.finals)),
                "rejected": self.rejected,
            },
        }


class WorkerRole:
    """A worker's part: leases tickets, ships its samples, flushes when the master says so."""

    def __init__(self, runner: WorkerRunner, terms: LevelTerms) -> None:
        self.runner = runner
        self.terms = terms
        self.user_id_base = max(runner.worker_index, 0) * USER_IDS_PER_WORKER
        self.token = run_token(terms, master=False)
        self.budget = TicketLease(
            lambda want: self._send("ecs_want", {"want": want}), self._on_idle
        )
        self.recorder = SampleRecorder(self._ship)
        self.shipped = 0
        self.sweep_over = False
        self.finished = False
        runner.register_message(
            "ecs_grant", lambda msg, **_: self.budget.on_grant(msg.data["count"])
        )
        runner.register_message("ecs_finish", self._on_finish)

    def close_budget(self) -> None:
        """The master closes the level's pool and says so (ecs_grant 0)."""

    def _send(self, name: str, data: dict[str, Any]) -> None:
        """A message to the master, with the run's token."""
        self.runner.send_message(name, {**data, "token": self.token})

    def _ship(self, batch: Batch) -> None:
        """The sample recorder's sink: one message to the master per batch."""
        self.shipped += len(batch)
        self._send("ecs_samples", {"lines": batch})

    def _on_idle(self, completed: int) -> None:
        self._send("ecs_idle", {"requests": completed})

    def _on_finish(self, msg: Any, **_: Any) -> None:
        self.sweep_over = msg.data["sweep_over"]
        if self.finished:
            return
        self.finished = True
        self.terms.stop_reason(msg.data["reason"])
        self.runner.stop()  # kills the users; the level records what was in flight (test_stop)
        self.recorder.flush()
        send_statistics_now(self.runner)  # else the master's locust_requests falls short
        self._send(
            "ecs_final",
            {
                "requests": self.budget.completed,
                "samples": self.shipped,
                "generator": self.terms.generator_share(),
                "connections": self.terms.connections(),
            },
        )

    def on_quitting(self) -> None:
        if self.terms.worker_info:
            write_worker_info(
                self.terms.worker_info,
                {
                    "sweep_over": self.sweep_over,
                    "finished": self.finished,
                    "requests": self.budget.completed,
                    "samples": self.shipped,
                },
            )

    def info(self) -> None:
        return None  # the master writes level.json
