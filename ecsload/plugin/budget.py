"""A level's request budget: exactly N measured requests, in one process or across workers.

The budget opens once all of the level's users are running; requests made
before (the ramp) are not counted against it.

In one process, `RequestBudget` hands out N requests and says when the last
has completed. Across workers, one ticket is one request a user may start: the
master's `TicketPool` holds all N of a level and grants them to workers in
chunks that shrink as the pool empties (guided self-scheduling), so no worker
sits on many tickets near the end while another idles. Every granted ticket
is used by its worker, so the level makes exactly N requests unless a worker
dies holding some.

A worker asks for its demand: the tickets its users took in the last
LEASE_SECONDS, plus the users waiting for one. It asks before its lease runs
out only when its users take tickets that fast; otherwise a user waits for the
answer (a loopback round trip, outside the request's timing). Without this a
worker whose users all wait 0.5-1 s between requests (a worker with one paced
user, under --processes 10 at 10 users) held a chunk sized for the busiest,
used it at one ticket a second, and stretched the level: 28.8 instead of
about 250 requests/s, the paced kinds 19% of the level instead of 2%.
"""

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent.event

from ecsload.sample_columns import MEASURE

MAX_CHUNK = 1000  # tickets in one grant: bounds what a worker that dies takes with it
LEASE_SECONDS = 0.25  # a worker holds about this long's worth of its own demand
UNLIMITED = None  # a grant of "no limit" (--stop-after-requests 0)


class RequestBudget:
    """Hands out at most `limit` requests and calls `on_spent` when the last one completes.

    Gating requests before they start (rather than counting them as they end) lets
    in-flight requests finish and count, and makes a level exactly `limit` long.
    """

    def __init__(self, limit: int, on_spent: Callable[[], None]) -> None:
        self.limit = limit  # 0: no limit
        self.started = 0
        self.completed = 0
        self.closed = False  # a timed level's time is up: no request starts any more
        self._on_spent = on_spent

    def take(self) -> bool:
        """May one more request start?"""
        if self.closed or (self.limit and self.started >= self.limit):
            return False
        self.started += 1
        return True

    def close(self) -> None:
        """No request starts any more (a timed level's time is up); `on_spent` is called
        once the ones started have completed, which they do and count."""
        self.closed = True
        if self.completed == self.started:
            self._on_spent()

    def on_request(self, context: dict[str, Any], **_: Any) -> None:
        """events.request listener: one measured request has completed."""
        if context["phase"] != MEASURE:
            return
        self.completed += 1
        if self.completed == self.limit or (self.closed and self.completed == self.started):
            self._on_spent()


class TicketPool:
    """The master's side: `grant` answers a worker's request for tickets."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self.left = limit
        self.granted: dict[str, int] = {}  # worker id -> tickets granted to it
        self.closed = False  # a timed level's time is up

    @property
    def spent(self) -> bool:
        return self.closed or (bool(self.limit) and self.left == 0)

    def close(self) -> None:
        """Grant nothing more: a timed level's time is up (its workers are told, with 0)."""
        self.closed = True

    def grant(self, worker: str, workers: int, want: int) -> int | None:
        """Tickets for `worker`, one of `workers` running ones, that wants `want`: 0 when
        spent, None for no limit."""
        if self.spent:
            return 0
        if not self.limit:
            self.granted.setdefault(worker, 0)  # the master waits for it to be idle at the end
            return UNLIMITED
        share = math.ceil(self.left / (2 * max(workers, 1)))
        count = min(self.left, MAX_CHUNK, share, max(want, 1))
        self.left -= count
        self.granted[worker] = self.granted.get(worker, 0) + count
        return count


class TicketLease:
    """A worker's side: its users `take` tickets; `ask(want)` sends a request for `want`
    more to the master.

    `on_idle(completed)` is called once, when the master has no more tickets and every
    request this worker started has completed: the worker's part of the level is done.
    """

    def __init__(
        self,
        ask: Callable[[int], None],
        on_idle: Callable[[int], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self._on_idle = on_idle
        self._clock = clock
        self.available = 0
        self.unlimited = False
        self.exhausted = False  # the master said its pool is spent
        self.asking = False
        self.idle = False
        self.started = 0
        self.completed = 0
        self.waiting = 0  # users waiting for the master's answer
        self.recent: deque[float] = deque()  # when this worker's last takes were
        # Tickets a lease period takes on schedule (an arrival-rate rate x LEASE_SECONDS):
        # its demand from the start, and however far behind its takes fall.
        self.scheduled = 0
        self._answered = gevent.event.Event()

    def take(self) -> bool:
        """May one more request start? Waits for the master's answer when none are left."""
        now = self._clock()
        while self.recent and self.recent[0] < now - LEASE_SECONDS:
            self.recent.popleft()
        self.waiting += 1
        try:
            while not (self.unlimited or self.available):
                if self.exhausted:
                    return False
                self._request()
                self._answered.wait()
        finally:
            self.waiting -= 1
        if not self.unlimited:
            self.available -= 1
            if (self.recent or self.scheduled) and self.available <= max(
                len(self.recent), self.scheduled
            ) // 4:
                self._request()  # takes come fast: ask before running out
        self.recent.append(now)
        self.started += 1
        return True

    def demand(self) -> int:
        """Tickets to ask for: what was taken in the last LEASE_SECONDS, and who waits, or
        at least what the schedule takes in that time.

        Without the schedule's floor, an arrival-rate worker's demand followed its takes,
        and its takes its grants: one that fell behind (a round trip to a busy master
        taking over LEASE_SECONDS) asked for less each time, and --processes auto sent
        about 800/s whatever the rate (bench_open_model, a loaded machine)."""
        return max(len(self.recent) + self.waiting, self.scheduled)

    def _request(self) -> None:
        if not (self.asking or self.exhausted or self.unlimited):
            self.asking = True
            self._answered.clear()
            self._ask(self.demand())

    def on_grant(self, count: int | None) -> None:
        """The master's answer: `count` more tickets, 0 (spent) or None (no limit)."""
        self.asking = False
        if count is UNLIMITED:
            self.unlimited = True
        elif count == 0:
            self.exhausted = True
            self.unlimited = False  # a timed level's time is up: nothing more starts
        else:
            self.available += count
        self._answered.set()
        self._check_idle()

    def on_request(self, context: dict[str, Any], **_: Any) -> None:
        """events.request listener: one measured request has completed."""
        if context["phase"] != MEASURE:
            return
        self.completed += 1
        self._check_idle()

    def _check_idle(self) -> None:
        if (
            self.exhausted
            and not self.available
            and not self.idle
            and self.completed == self.started
        ):
            self.idle = True
            self._on_idle(self.completed)
