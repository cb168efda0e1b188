"""The distributed budget's logic: the master's pool and a worker's lease, without Locust."""

import gevent

from ecsload.plugin.budget import MAX_CHUNK, RequestBudget, TicketLease, TicketPool

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
        grants.append(pool.grant(f"w{len(grants) % 2}", 2))
    assert sum(grants) == 1000
    assert grants[0] == 250 and grants == sorted(grants, reverse=True) and grants[-1] == 1
    assert pool.grant("w0", 2) == 0
    assert pool.granted == {"w0": sum(grants[0::2]), "w1": sum(grants[1::2])}


def test_a_chunk_is_capped_and_no_limit_is_none() -> None:
    assert TicketPool(10**9).grant("w", 1) == MAX_CHUNK
    unlimited = TicketPool(0)
    assert unlimited.grant("w", 1) is None and not unlimited.spent


def test_a_lease_asks_ahead_waits_when_empty_and_goes_idle_once() -> None:
    asks, idle = [], []
    lease = TicketLease(lambda: asks.append(1), idle.append)

    taken = gevent.spawn(lease.take)  # nothing yet: waits for the master's answer
    gevent.sleep(0)
    assert asks == [1] and not taken.ready()
    lease.on_grant(8)
    assert taken.get(timeout=1) is True
    assert [lease.take() for _ in range(5)] == [True] * 5  # 2 left <= low water 2: asked once
    assert asks == [1, 1]
    lease.on_grant(0)  # the pool is spent
    assert [lease.take() for _ in range(3)] == [True, True, False]
    for _ in range(7):
        lease.on_request(context=MEASURED)
    lease.on_request(context={"phase": "ramp"})  # a ramp request is not the budget's
    assert idle == []  # one request still in flight
    lease.on_request(context=MEASURED)
    assert idle == [8]
    lease.on_grant(0)
    assert idle == [8]


def test_an_unlimited_lease_never_asks_again() -> None:
    asks: list[int] = []
    lease = TicketLease(lambda: asks.append(1), lambda _: None)
    lease.on_grant(None)
    assert all(lease.take() for _ in range(100))
    assert asks == []
