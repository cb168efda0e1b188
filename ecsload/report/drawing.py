"""The report's charts built and drawn as SVG on every core this process may use.

Why: matplotlib builds and draws one chart on one core, in 0.1 to 0.5 s, and a run's
report has six sweep charts and one per level: one after the other they were most of
what a sweep spends after its last level (docs/harness.md, "What a level costs besides
its load"). This process and forked helpers (ecsload/children.py: their own process
group, stopped if this process dies) each take the next chart from one queue until it
is empty, build it (a level's chart reads its samples) and draw it, and the helpers send
what they drew back through a pipe. Each chart's SVG is the same whichever process drew
it (charts.STYLE salts its ids by content). A helper that fails has its share built and
drawn here after all, so a failure costs time, not charts.
"""

import dataclasses
import json
import os
from collections.abc import Sequence

from ecsload.children import Child, close_now
from ecsload.report.charts import Build, DrawnChart, drawn_chart

HELPER_SECONDS = 10.0  # after its pipe's end: a helper that sent its SVG only exits
TICKET = 4  # bytes of a chart's index in the queue; a pipe reads and writes them whole
# (its 64 KiB hold 16,384 of them, written before anyone reads: far more than any report)

Drawn = DrawnChart | str  # a chart drawn, or why there is none


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def drawn(builds: Sequence[Build], workers: int | None = None) -> list[Drawn]:
    """Each chart of `builds` built and drawn (or why there is none), in their order, by
    `workers` processes (this one and forked helpers; default: one per core, at most one
    per chart). Each process takes the next chart from one queue (a pipe of their
    indices) when it is done with the last, so the slow ones (the latency-by-type chart)
    do not pile up on one process."""
    workers = max(1, min(workers or cores(), len(builds)))
    queue, tickets = os.pipe()
    os.write(tickets, b"".join(index.to_bytes(TICKET, "little") for index in range(len(builds))))
    close_now(tickets)  # each process reads until the queue is empty
    helpers = [helper(builds, queue) for _ in range(1, workers)]
    done = draw_queued(builds, queue)
    close_now(queue)
    for child, pipe in helpers:
        with os.fdopen(pipe, encoding="utf-8") as reader:
            sent = reader.read()
        if child.finish(HELPER_SECONDS) == 0 and sent:
            done.update(
                (int(index), DrawnChart(**value) if isinstance(value, dict) else value)
                for index, value in json.loads(sent).items()
            )
    # What a failed helper took is built and drawn here (it said why on stderr).
    return [done[index] if index in done else draw(build) for index, build in enumerate(builds)]


def draw(build: Build) -> Drawn:
    chart = build()
    return chart if isinstance(chart, str) else drawn_chart(chart)


def draw_queued(builds: Sequence[Build], queue: int) -> dict[int, Drawn]:
    """Each chart this process takes from the queue, by its index, until it is empty."""
    done = {}
    while ticket := os.read(queue, TICKET):
        index = int.from_bytes(ticket, "little")
        done[index] = draw(builds[index])
    return done


def helper(builds: Sequence[Build], queue: int) -> tuple[Child, int]:
    """A forked child that builds and draws the charts it takes from the queue and writes
    them, as JSON, to a pipe; the child and the pipe's reading end."""
    reading, writing = os.pipe()

    def work() -> int:
        close_now(reading)
        done = {
            index: value if isinstance(value, str) else dataclasses.asdict(value)
            for index, value in draw_queued(builds, queue).items()
        }
        with os.fdopen(writing, "w", encoding="utf-8") as pipe:
            json.dump(done, pipe)
        return 0

    child = Child.fork(work)
    close_now(writing)
    return child, reading
