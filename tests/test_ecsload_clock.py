"""ecsload.plugin.clock: waking on time without spinning, and the event loop's lag.

Real gevent, a real timerfd; no assertion on how fast (the machine is shared): a wake
is never early, a busy loop's lag is seen as at least what kept it busy."""

import time

import gevent

from ecsload.plugin.clock import LoopLag, Timer


def test_the_timer_never_wakes_before_the_due_time_and_lets_others_run() -> None:
    timer = Timer()
    assert timer.precise  # Linux: a timerfd
    order: list[str] = []
    other = gevent.spawn(order.append, "other")
    try:
        due = time.time() + 0.3  # far enough that a loaded machine's pause does not pass it
        timer.wait_until(due)
        order.append("timer")
        assert order == ["other", "timer"]  # the other greenlet ran while the timer waited
        for step in range(1, 20):
            timer.wait_until(due + step * 0.001)
            assert time.time() >= due + step * 0.001
        start = time.time()
        timer.wait_until(start - 5)  # already due: at once
        assert time.time() - start < 0.5
    finally:
        other.kill()
        timer.close()


def test_the_loop_lag_shows_a_loop_kept_busy() -> None:
    lag = LoopLag()
    assert lag.summary() is None
    lag.start()
    gevent.sleep(0.05)  # quiet: samples with little lag
    deadline = time.time() + 0.05
    while time.time() < deadline:  # the loop held for 50 ms: a sample due meanwhile waits
        pass
    gevent.sleep(0.03)
    lag.stop()
    summary = lag.summary()
    assert summary is not None and summary["samples"] >= 3, summary
    assert summary["max"] >= 20, summary  # due at most 15 ms into the 50 ms hold
    assert summary["p50"] <= summary["p99"] <= summary["max"]
