"""The report's charts drawn as SVG on every core this process may use.

Why: matplotlib draws one chart on one core, in about 0.3 s, and a run's report has
six sweep charts and one per level: drawn one after the other they were most of what a
sweep spends after its last level (docs/harness.md, "What a level costs besides its
load"). The figures are built first, in this process; then this process and forked
helpers (ecsload/children.py: their own process group, stopped if this process dies)
each take the next chart from one queue until it is empty, and the helpers send their
SVG back through a pipe. Each chart's SVG is the same whichever process drew it
(charts.STYLE salts its ids by content). A helper that fails has its share drawn here
after all, so a failure costs time, not charts.
"""

import json
import os
from collections.abc import Sequence

from ecsload.children import Child, close_now
from ecsload.report.charts import Chart, svg

HELPER_SECONDS = 10.0  # after its pipe's end: a helper that sent its SVG only exits
TICKET = 4  # bytes of a chart's index in the queue; a pipe reads and writes them whole
# (its 64 KiB hold 16,384 of them, written before anyone reads: far more than any report)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def drawn(charts: Sequence[Chart], workers: int | None = None) -> dict[str, str]:
    """Each chart's SVG by its key, drawn by `workers` processes (this one and forked
    helpers; default: one per core, at most one per chart). Each process takes the next
    chart from one queue (a pipe of their indices) when it is done with the last, so the
    slow ones (the latency-by-type chart) do not pile up on one process."""
    workers = max(1, min(workers or cores(), len(charts)))
    queue, tickets = os.pipe()
    os.write(tickets, b"".join(index.to_bytes(TICKET, "little") for index in range(len(charts))))
    close_now(tickets)  # each process reads until the queue is empty
    helpers = [helper(charts, queue) for _ in range(1, workers)]
    texts = draw_queued(charts, queue)
    close_now(queue)
    for child, pipe in helpers:
        with os.fdopen(pipe, encoding="utf-8") as reader:
            sent = reader.read()
        if child.finish(HELPER_SECONDS) == 0 and sent:
            texts.update(json.loads(sent))
    # What a failed helper took is drawn here (it said why on stderr).
    return {chart.key: texts.get(chart.key) or svg(chart) for chart in charts}


def draw_queued(charts: Sequence[Chart], queue: int) -> dict[str, str]:
    """The SVG of each chart this process takes from the queue, until it is empty."""
    texts = {}
    while ticket := os.read(queue, TICKET):
        chart = charts[int.from_bytes(ticket, "little")]
        texts[chart.key] = svg(chart)
    return texts


def helper(charts: Sequence[Chart], queue: int) -> tuple[Child, int]:
    """A forked child that draws the charts it takes from the queue and writes their SVG,
    as JSON, to a pipe; the child and the pipe's reading end."""
    reading, writing = os.pipe()

    def work() -> int:
        close_now(reading)
        with os.fdopen(writing, "w", encoding="utf-8") as pipe:
            json.dump(draw_queued(charts, queue), pipe)
        return 0

    child = Child.fork(work)
    close_now(writing)
    return child, reading
