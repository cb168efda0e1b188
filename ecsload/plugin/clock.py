"""Waking on time inside gevent, and how late the event loop gets to what is ready.

gevent's own sleep wakes up to a millisecond late: its loop (libev) waits in
epoll with a timeout in whole milliseconds, rounded up (measured here, 0.7 ms
late at the median at 200 arrivals/s). Sleeping to 1 ms before a due time and
then yielding until it fixed the lateness, but spun the loop for that
millisecond before every arrival: from 1,000 arrivals/s on, an arrival-rate
process spun all the time (about 50 yields an arrival, most of its CPU).

A Linux timerfd armed at the due time instead becomes readable then, to the
kernel's timer slack (50 µs), and epoll returns at once: `Timer` waits on it as
gevent waits on a socket, other greenlets run meanwhile, nothing spins. Python
3.11 has no os.timerfd_create (3.13 does), so it calls libc through ctypes;
where there is no timerfd, it falls back to the sleep and the yields.

`LoopLag` measures what the generator adds to each answer it times: a response
that arrives on its socket waits for the event loop to get round to that
socket's greenlet, as long as whatever else the loop is running takes. A timerfd
that fires at a known time waits for the loop in the same way, so its delay is
the event loop's lag, sampled a hundred times a second while a level measures.
"""

import ctypes
import math
import os
import random
import time
from typing import Any

import gevent
import gevent.hub

CLOCK_REALTIME = 0  # time.time()'s clock: the schedule's due times are epoch seconds
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1
TIMER_GRAIN = 0.001  # s: gevent's loop (epoll) wakes a sleeper up to this late
LAG_SECONDS = 0.01  # the lag's sampling interval (on average: each drawn at random)
LAG_SAMPLES = 360_000  # at most (an hour of them); beyond, every other one is kept


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> Any:
    """libc's timerfd functions, looked up in this process's own symbols (Python's libc):
    not with ctypes.util.find_library, which runs ldconfig, and under gevent, the child
    watcher of that subprocess would reap every child of this process from then on
    (ecsload/children.py waits for its own)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.timerfd_create.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.timerfd_settime.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_Itimerspec),
            ctypes.c_void_p,
        )
        return libc
    except (OSError, AttributeError):  # not Linux: no timerfd
        return None


_LIBC = _libc()


def sleep_then_yield(due: float) -> None:
    """Without a timerfd: sleep until one grain before `due`, then yield until due."""
    if due - time.time() > TIMER_GRAIN:
        gevent.sleep(due - time.time() - TIMER_GRAIN)
    while time.time() < due:
        gevent.sleep(0)


class Timer:
    """Waits until an epoch time in the calling greenlet, letting the others run."""

    def __init__(self) -> None:
        self._fd = -1
        if _LIBC is not None:
            self._fd = _LIBC.timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)
        self._spec = _Itimerspec()
        self._watcher = (
            gevent.get_hub().loop.io(self._fd, 1) if self._fd >= 0 else None  # 1: readable
        )

    @property
    def precise(self) -> bool:
        """A timerfd: wakes on time to the kernel's timer slack; else to ~10 µs, spinning."""
        return self._watcher is not None

    def wait_until(self, due: float) -> None:
        """Return at `due` (epoch s), or at once if it has passed."""
        if time.time() >= due:
            return
        if self._watcher is None:
            sleep_then_yield(due)
            return
        fraction, whole = math.modf(due)
        self._spec.it_value.tv_sec = int(whole)
        self._spec.it_value.tv_nsec = int(fraction * 1e9)
        if _LIBC.timerfd_settime(self._fd, TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None):
            sleep_then_yield(due)  # cannot happen with a valid time; never wait forever
            return
        # Re-arming (timerfd_settime) zeroes the expirations count: no read is needed.
        gevent.get_hub().wait(self._watcher)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class LoopLag:
    """The event loop's lag (ms), sampled at random times from `start` until `stop`."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._sample_forever)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _sample_forever(self) -> None:
        timer = Timer()
        if not timer.precise:  # without a timerfd the wake itself is late: nothing to tell
            return
        try:
            while True:
                due = time.time() + random.uniform(0.5, 1.5) * LAG_SECONDS
                timer.wait_until(due)
                self.samples.append((time.time() - due) * 1000)
                if len(self.samples) >= LAG_SAMPLES:
                    del self.samples[::2]
        finally:
            timer.close()

    def summary(self) -> dict[str, float] | None:
        """{"p50", "p99", "max", "samples"} in ms; None when nothing was sampled."""
        if not self.samples:
            return None
        ranked = sorted(self.samples)

        def rank(q: float) -> float:
            return round(ranked[min(len(ranked) - 1, int(q * len(ranked)))], 3)

        return {
            "p50": rank(0.5),
            "p99": rank(0.99),
            "max": round(ranked[-1], 3),
            "samples": len(ranked),
        }
