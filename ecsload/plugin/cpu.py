"""How busy a Locust process is while a level is measured: CPU time, and time waiting for a CPU.

CPU time alone (user + system ÷ wall) under-reads a generator that shares its
cores: when other processes (a local target, another worker) hold the CPU, the
event loop is runnable but waits, and its requests queue just the same. Linux
tells that wait per thread in /proc/thread-self/schedstat (ns on a CPU, ns
waiting on a run queue); the event loop is this process's main thread, where
Locust's greenlets all run.
"""

import time
from dataclasses import dataclass
from pathlib import Path

SCHEDSTAT = Path("/proc/thread-self/schedstat")


@dataclass(frozen=True)
class CpuReading:
    wall: float  # time.monotonic()
    cpu: float  # process CPU time, every thread
    loop_busy: float | None  # seconds the calling thread ran or waited to run; None: unknown


def read_cpu() -> CpuReading:
    """Now, from the event loop's thread."""
    try:
        on_cpu, waiting = SCHEDSTAT.read_text().split()[:2]
        loop_busy: float | None = (int(on_cpu) + int(waiting)) / 1e9
    except (OSError, ValueError):
        loop_busy = None
    return CpuReading(time.monotonic(), time.process_time(), loop_busy)


def cpu_share(start: CpuReading, end: CpuReading) -> dict[str, float | None]:
    """`cpu_percent` (on a CPU) and `busy_percent` (the event loop on a CPU or waiting for
    one) between two readings, in % of one core; None for `busy` where unknown."""
    wall = end.wall - start.wall
    if wall <= 0:
        return {"cpu_percent": None, "busy_percent": None}
    busy = None
    if start.loop_busy is not None and end.loop_busy is not None:
        busy = round(100 * (end.loop_busy - start.loop_busy) / wall, 1)
    return {"cpu_percent": round(100 * (end.cpu - start.cpu) / wall, 1), "busy_percent": busy}
