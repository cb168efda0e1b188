"""The distributed budget's logic: the master's pool and a worker's lease, without Locust."""

import gevent

from ecsload.plugin.budget import LEASE_SECONDS, MAX_CHUNK, RequestBudget, TicketLease, TicketPool

MEASURED = {"phase": "measure"}


def test_a_budget_counts_measured_requests_and_says_once_when_spent() -> None:
    spent: list[bool] = []
    budget = RequestBudget(3, lambda: spent.append(True))
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
    budget.on_request(context={"phase": "ramp"})
    budget.on_request(context=MEASURED)
    budget.on_request(context=MEASURED)
    assert spent == []
    budget.on_request(context=MEASURED)
    assert spent == [True]


def test_the_pool_grants_shrinking_chunks_and_exactly_its_limit() -> None:
    pool = TicketPool(1000)
    grants = []
    while not pool.spent:
        grants.append(pool.grant(f"w{len(grants) % 2}", 2, want=MAX_CHUNK))
    assert sum(grants) == 1000
    assert grants[0] == 250 and grants == sorted(grants, reverse=True) and grants[-1] == 1
    assert pool.grant("w0", 2, want=1) == 0
    assert pool.granted == {"w0": sum(grants[0::2]), "w1": sum(grants[1::2])}


def test_a_chunk_is_capped_by_what_the_worker_wants_and_no_limit_is_none() -> None:
    assert TicketPool(10**9).grant("w", 1, want=10**6) == MAX_CHUNK
    assert TicketPool(1000).grant("w", 2, want=3) == 3
    assert TicketPool(1000).grant("w", 2, want=0) == 1
    unlimited = TicketPool(0)
    assert unlimited.grant("w", 1, want=5) is None and not unlimited.spent


class Clock:
    """A clock the test moves: the lease's demand is what was taken in the last LEASE_SECONDS."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_lease_asks_for_its_demand_ahead_of_fast_takes_and_goes_idle_once() -> None:
    asks: list[int] = []
    idle: list[int] = []
    clock = Clock()

    def master(want: int) -> None:  # answers at once, with what the worker wants
        asks.append(want)
        lease.on_grant(want)

    lease = TicketLease(master, idle.append, clock)
    for _ in range(8):  # a request every 10 ms: the demand grows with the recent takes
        clock.now += 0.01
        assert lease.take()
    assert asks == [1, 2, 2, 4, 7]  # from the 3rd take on, asked before running out
    assert lease.available == 8

    lease.on_grant(0)  # the pool is spent
    assert [lease.take() for _ in range(9)] == [True] * 8 + [False]
    for _ in range(15):
        lease.on_request(context=MEASURED)
    lease.on_request(context={"phase": "ramp"})  # a ramp request is not the budget's
    assert idle == []  # one request still in flight
    lease.on_request(context=MEASURED)
    assert idle == [16]
    lease.on_grant(0)
    assert idle == [16]


def test_a_lease_waits_for_the_master_when_it_has_none() -> None:
    asks: list[int] = []
    lease = TicketLease(asks.append, lambda _: None, Clock())
    taken = gevent.spawn(lease.take)
    gevent.sleep(0)
    assert asks == [1] and not taken.ready()
    lease.on_grant(1)
    assert taken.get(timeout=1) is True


def test_a_lease_whose_users_wait_between_requests_holds_no_ticket() -> None:
    """One paced user (0.5-1 s between requests): it asks for one ticket each time, never
    ahead, so the master's tickets stay where users take them fast."""
    asks: list[int] = []
    clock = Clock()
    lease = TicketLease(asks.append, lambda _: None, clock)
    for _ in range(5):
        clock.now += 0.5
        taken = gevent.spawn(lease.take)
        gevent.sleep(0)
        lease.on_grant(asks[-1])
        assert taken.get(timeout=1) is True
        assert lease.available == 0
    assert asks == [1] * 5 and LEASE_SECONDS < 0.5


def test_users_waiting_together_are_asked_for_together() -> None:
    asks: list[int] = []
    lease = TicketLease(asks.append, lambda _: None, Clock())
    takers = [gevent.spawn(lease.take) for _ in range(6)]
    gevent.sleep(0)
    assert asks == [1]  # the first asked before the others came
    lease.on_grant(1)
    gevent.sleep(0)
    assert asks == [1, 6]  # one took it; five wait, and one take is recent
    lease.on_grant(6)
    assert all(taker.get(timeout=1) for taker in takers)
    assert lease.available == 1


def test_an_unlimited_lease_never_asks_again() -> None:
    asks: list[int] = []
    lease = TicketLease(asks.append, lambda _: None)
    lease.on_grant(None)
    assert all(lease.take() for _ in range(100))
    assert asks == []


def test_a_timed_budget_closes_and_is_spent_once_the_started_requests_complete() -> None:
    spent: list[bool] = []
    budget = RequestBudget(0, lambda: spent.append(True))  # a timed level: no request limit
    assert [budget.take() for _ in range(3)] == [True, True, True]
    budget.on_request(context=MEASURED)
    budget.close()  # the level's seconds are up: nothing more starts
    assert not budget.take()
    budget.on_request(context=MEASURED)
    assert spent == []
    budget.on_request(context=MEASURED)
    assert spent == [True]
    idle: list[bool] = []
    RequestBudget(0, lambda: idle.append(True)).close()  # nothing in flight: spent at once
    assert idle == [True]


def test_a_closed_pool_grants_nothing_and_its_unlimited_workers_stop() -> None:
    pool = TicketPool(0)
    assert pool.grant("w", 1, want=5) is None
    assert pool.granted == {"w": 0}  # the master waits for it to be idle at the end
    pool.close()
    assert pool.spent and pool.grant("w", 1, want=5) == 0
    idle: list[int] = []
    lease = TicketLease(lambda want: None, idle.append)
    lease.on_grant(None)
    assert lease.take() and lease.take()
    lease.on_grant(0)  # the master's pool closed
    assert not lease.take()
    lease.on_request(context=MEASURED)
    assert idle == []
    lease.on_request(context=MEASURED)
    assert idle == [2]


def test_an_arrival_rate_lease_asks_for_its_schedules_demand_however_few_it_took() -> None:
    """A worker's arrival user at 4,000/s wants 1,000 tickets a lease period from its first
    ask, and asks ahead a quarter before running out, even when its takes fell behind."""
    asks: list[int] = []
    clock = Clock()
    lease = TicketLease(asks.append, lambda _: None, clock)
    lease.scheduled = round(4000 * LEASE_SECONDS)
    taken = gevent.spawn(lease.take)
    gevent.sleep(0)
    assert asks == [1000]
    lease.on_grant(1000)
    assert taken.get(timeout=1) is True
    for _ in range(748):  # a few takes in the last period: still a full period asked for
        assert lease.take()
    assert asks == [1000] and lease.available == 251
    assert lease.take()
    assert asks == [1000, 1000] and lease.available == 250
