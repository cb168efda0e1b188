"""The traffic model's users: closed ones (one request at a time) and arrival-rate ones.

Every request is signed with a credential picked at random from the level's
file, counted against the level's budget, and judged by its status alone: the
expected one is Ok, any other a failure "got X, expected Y" (X = 0: no answer).

A closed user sends its next request once the last is answered and its wait
is over, so a stalled service stalls it too (coordinated omission); each
sample records how late it was sent after that (`late_ms`), for the corrected
figures (ecsload.analysis.omission). An `ArrivalUser` instead sends requests on
a schedule, each at its time whatever is still in flight, and times each from
when it was due: what a user arriving then waited.
"""

import itertools
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gevent.pool
from locust import FastHttpUser, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.exception import StopUser

from ecsload.api import API_ROOT
from ecsload.locust_compat import on_new_connection, resolve_at_most_every
from ecsload.plugin.budget import LEASE_SECONDS, TicketLease
from ecsload.plugin.clock import Timer
from ecsload.plugin.level import Level
from ecsload.plugin.options import LevelOptions, level_options
from ecsload.plugin.recorder import InFlight
from ecsload.plugin.tracing import new_trace
from ecsload.sample_columns import RAMP


@dataclass(frozen=True)
class TaskTemplate:
    """A kind of POST /tasks request: its name, weight, expected status and body.

    As in the original harness, its request type is `Tasks-<name>` and it sends
    `?comment=<name in lower case>`.
    """

    name: str
    weight: int
    expected: int
    body: Callable[[LevelOptions], dict[str, Any]]  # of the options (for the image names)


@dataclass(frozen=True)
class TaskRequest:
    name: str
    path: str
    expected: int
    body: bytes
    method: str = "POST"


def model_request(method: str, path: str, name: str, expected: int) -> TaskRequest:
    """A request without a body (the paced kinds' GETs)."""
    return TaskRequest(name, path, expected, b"", method)


def task_deck(templates: tuple[TaskTemplate, ...], options: LevelOptions) -> list[TaskRequest]:
    """Each template's ready-made request, `weight` times: a random pick honours the weights."""
    deck = []
    for t in templates:
        request = TaskRequest(
            f"Tasks-{t.name}",
            f"{API_ROOT}/tasks?comment={t.name.lower()}",
            t.expected,
            json.dumps(t.body(options)).encode(),
        )
        deck += [request] * t.weight
    return deck


class ECSUser(FastHttpUser):
    abstract = True
    _ids = itertools.count(1)

    def __init__(self, environment: Environment) -> None:
        self.level = Level.of(environment)
        # Read by FastHttpUser as it makes the client: the level's verification (ecsload.tls)
        # and how long a request may wait (a timed-out one is recorded as no answer).
        self.insecure = self.level.insecure
        self.ssl_context_factory = self.level.ssl_context
        self.network_timeout = self.connection_timeout = self.level.request_timeout
        # The share of requests whose traceparent says "sampled" (a worker's, its master's).
        self.trace_sample = float(level_options(environment).trace_sample)
        super().__init__(environment)
        # A user reuses its keep-alive connection: more connections than users means the
        # server or a proxy closed some.
        on_new_connection(self.client, self.host or "", self.level.count_connection)
        self.user_id = self.level.role.user_id_base + next(ECSUser._ids)
        self._context = {"user_id": self.user_id, "phase": RAMP, "late_ms": 0.0, "trace_id": ""}
        self._due: float | None = None  # when the next request is due: last answer + wait
        self._pause = self.wait_time  # the kind's own wait between requests
        # What Locust calls between requests: a method of User, replaced on the instance.
        self.wait_time = self._wait_then_measure  # type: ignore[method-assign]

    def _wait_then_measure(self) -> float:
        """The kind's pause, except that a user whose last request was in the ramp sends
        its next one as soon as the measured phase opens.

        Without it, a user that waits between requests (0.5-1 s in the model) could
        miss a short measured phase altogether, and the level would be measured with
        fewer users than its title says.
        """
        pause = self._pause()
        if self._context["phase"] == RAMP and pause:
            self.level.measure_opened.wait(pause)
            self._due = None
            return 0
        self._due = time.time() + pause
        return pause

    def context(self) -> dict[str, Any]:
        """The user's id and the request's phase, for the samples (Locust copies it per request)."""
        return self._context

    def call(
        self, method: str, path: str, name: str, expected: int, body: bytes | None = None
    ) -> None:
        """One request of the model; the user stops once the level's budget is spent.

        While the request is out, the level knows it (`in_flight`): if the level stops
        first, the request is recorded as one that got no answer.
        """
        phase = self.level.admit()
        if phase is None:
            raise StopUser
        now = time.time()
        late_ms = 0.0 if self._due is None else max(0.0, now - self._due) * 1000
        trace_id, traceparent = new_trace(self.trace_sample)
        context = self._context
        context["phase"], context["late_ms"], context["trace_id"] = phase, late_ms, trace_id
        headers = random.choice(self.level.get_headers if body is None else self.level.post_headers)
        headers = {**headers, "traceparent": traceparent}
        in_flight = self.level.in_flight
        in_flight[self.user_id] = InFlight(now, name, phase, self.user_id, late_ms, trace_id)
        with self.client.request(
            method,
            path,
            name=name,
            data=body,  # type: ignore[arg-type]  # bytes: Locust's annotation omits them, its code and docs take them
            headers=headers,
            catch_response=True,
        ) as response:
            judge(response, expected)
        del in_flight[self.user_id]


def judge(response: ResponseContextManager, expected: int) -> None:
    """Ok for the expected status; any other, or none, a failure saying what came."""
    status = response.status_code
    if status == expected:
        response.success()
    elif status:
        response.failure(f"got {status}, expected {expected}")
    else:
        error = type(getattr(response, "error", None)).__name__
        response.failure(f"got 0 ({error}), expected {expected}")


RESOLVE_SECONDS = 1.0  # an arrival user looks its host up at most this often


class Dropped(Exception):
    """An arrival not sent: its user's requests in flight were at the level's cap."""


def timed_from_schedule(response: ResponseContextManager, due: float, late_ms: float) -> None:
    """Make the request's sample count from `due`, when it should have been sent.

    Locust times a request from its actual send and reports it when the `with`
    block of catch_response ends, from the context manager's `request_meta`
    (locust/contrib/fasthttp.py, FastHttpSession.request and
    ResponseContextManager._report_request): moving its start back to `due` and
    adding the lateness makes every listener (samples, Locust's own statistics)
    see what a user arriving at `due` waited. tests/test_ecsload_arrivals.py
    checks that the samples' times include the lateness.
    """
    response.request_meta["start_time"] = due
    response.request_meta["response_time"] += late_ms


class ArrivalUser(ECSUser):
    """Sends the model's requests at a constant or Poisson rate, each on the schedule.

    One per Locust process that runs users; the level gives each its share of the
    rate (`ecs_user_rate`) and of the cap on requests in flight (`ecs_user_in_flight`,
    also its keep-alive pool's size, grown as needed). An arrival is due at its
    time whatever is still in flight: it is sent then on a free connection, or, at
    the cap, recorded as an error, Dropped, never silently skipped. The locustfile
    gives the requests and their weights (`requests`, `weights`).
    """

    abstract = True
    arrivals = True  # run only in arrival-rate levels (ecsload.plugin.level.share_users)
    requests: Sequence[TaskRequest] = ()
    weights: Sequence[int] = ()
    _keys = itertools.count(1)

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        assert options is not None  # Locust parses them before any user starts
        self.concurrency = options.ecs_user_in_flight  # FastHttpUser's pool size
        super().__init__(environment)
        self.rate = options.ecs_user_rate
        self.slots = options.ecs_user_slots
        self.poisson = options.arrivals == "poisson"
        self.sends = gevent.pool.Group()
        self.timer = Timer()
        # A burst of arrivals opens connections together: one lookup of the host serves them.
        resolve_at_most_every(self.client, self.host or "", RESOLVE_SECONDS)
        self.cumulative = list(itertools.accumulate(self.weights))
        budget = self.level.budget
        if isinstance(budget, TicketLease):  # a worker: its master's tickets at its rate
            budget.scheduled = math.ceil(self.rate * LEASE_SECONDS)

    def on_stop(self) -> None:
        """The level stops: requests still out are recorded as unanswered by the level."""
        self.sends.kill(block=True, timeout=1)
        self.timer.close()

    @task
    def arrive(self) -> None:
        """The schedule: until the budget is spent, one arrival every 1/rate s (on average),
        from when every process's arrival user runs (no ramp: the rate is the level's)."""
        self.level.measure_opened.wait()
        dues = self.poisson_dues() if self.poisson else self.constant_dues()
        for due in dues:
            self.timer.wait_until(due)
            phase = self.level.admit()
            if phase is None:
                break
            request = random.choices(self.requests, cum_weights=self.cumulative)[0]
            if len(self.sends) >= self.concurrency:
                self.drop(request, phase, due)
            else:
                self.sends.spawn(self.send, request, phase, due)
        self.sends.join()
        raise StopUser

    def constant_dues(self) -> Iterator[float]:
        """Evenly spaced arrivals, interleaved with the other processes' (epoch s).

        Each of the level's N arrival users sends every N/R s (R: the level's rate);
        user i's arrivals fall on the clock's grid k·N/R + i/R, the same grid on every
        process of the machine, so together they send every 1/R s. Each starting at
        its own time sent pairs of requests about 1 ms apart instead (issue #29's
        defect 22: gaps of 1 and 19 ms at 100/s with --processes 2). Each due time is
        computed from the grid, not summed, so no rounding drifts.
        """
        interval = 1 / self.rate
        offset = (self.level.process_index % self.slots) * interval / self.slots
        first = math.ceil((time.time() - offset) / interval)
        for step in itertools.count(first):
            yield step * interval + offset

    def poisson_dues(self) -> Iterator[float]:
        """Exponential gaps from now: the processes' independent streams add up to one."""
        due = time.time()
        while True:
            yield due
            due += random.expovariate(self.rate)

    def send(self, request: TaskRequest, phase: str, due: float) -> None:
        sent = time.time()
        late_ms = max(0.0, sent - due) * 1000
        key = -next(ArrivalUser._keys)  # closed users' keys are their (positive) ids
        in_flight = self.level.in_flight
        level = self.level
        trace_id, traceparent = new_trace(self.trace_sample)
        in_flight[key] = InFlight(due, request.name, phase, self.user_id, late_ms, trace_id)
        posted = request.method == "POST"
        headers = random.choice(level.post_headers if posted else level.get_headers)
        headers = {**headers, "traceparent": traceparent}
        context = {
            "user_id": self.user_id,
            "phase": phase,
            "late_ms": late_ms,
            "trace_id": trace_id,
        }
        with self.client.request(
            request.method,
            request.path,
            name=request.name,
            data=request.body or None,  # type: ignore[arg-type]  # bytes: Locust takes them
            headers=headers,
            catch_response=True,
            context=context,
        ) as response:
            judge(response, request.expected)
            timed_from_schedule(response, due, late_ms)
        del in_flight[key]

    def drop(self, request: TaskRequest, phase: str, due: float) -> None:
        """An arrival at the cap: one error sample, counted against the budget like any."""
        late_ms = max(0.0, time.time() - due) * 1000
        self.environment.events.request.fire(
            request_type=request.method,
            name=request.name,
            response_time=late_ms,
            response_length=0,
            response=None,
            context={"user_id": self.user_id, "phase": phase, "late_ms": late_ms, "trace_id": ""},
            exception=Dropped(f"{self.concurrency} requests in flight"),
            start_time=due,
            url=request.path,
        )
