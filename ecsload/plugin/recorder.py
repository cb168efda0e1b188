"""Recording samples inside Locust: one CSV line per request, cheap in the hot path.

Locust's own statistics are bucketed and its CSV misses the last second, so the
tables come from these samples instead (the columns: ecsload.sample_columns).
`SampleRecorder` formats lines in the `events.request` listener and hands them
on in batches to a sink: `SampleFile.write` here; a distributed worker ships the
same batches to its master instead, which writes them with a `SampleFile`.
"""

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ecsload.sample_columns import HEADER

Batch = list[str]


class InFlight(NamedTuple):
    """A request sent and not yet answered: what its sample says if it never is."""

    start_time: float  # epoch s: when it was sent, or due (arrival-rate levels)
    name: str
    phase: str
    user_id: int
    late_ms: float
    trace_id: str


class SampleRecorder:
    """An `events.request` listener that turns each request into one line, in batches.

    Kept to one f-string and one append per request: it runs in Locust's hot path.
    """

    def __init__(self, sink: Callable[[Batch], None], batch_size: int = 1000) -> None:
        self._sink = sink
        self._batch_size = batch_size
        self._batch: Batch = []

    def on_request(
        self,
        name: str,
        response_time: float,
        response: Any,
        context: dict[str, Any],
        exception: BaseException | None,
        start_time: float,
        **_: Any,
    ) -> None:
        status = getattr(response, "status_code", 0) or 0
        error = "" if status else type(getattr(response, "error", None) or exception).__name__
        self._batch.append(
            f"{int(start_time * 1000)},{name},{context['user_id']},{0 if exception else 1},"
            f"{status},{response_time:.3f},{context['phase']},{error},{context['late_ms']:.3f},"
            f"{context['trace_id']}\n"
        )
        if len(self._batch) >= self._batch_size:
            self.flush()

    def unanswered(self, request: "InFlight", ended: float, why: str) -> None:
        """A request still in flight when the level stopped: an error with no answer."""
        self._batch.append(
            f"{int(request.start_time * 1000)},{request.name},{request.user_id},0,0,"
            f"{(ended - request.start_time) * 1000:.3f},{request.phase},{why},"
            f"{request.late_ms:.3f},{request.trace_id}\n"
        )

    def flush(self) -> None:
        """Hand the lines recorded so far to the sink (also called on a timer and at quit)."""
        if self._batch:
            batch, self._batch = self._batch, []
            self._sink(batch)


class SampleFile:
    """A samples CSV being written: the header first, then batches of lines as they come.

    A write that fails (a full disk) is reported once to `on_error` (or raised, without
    one), and the file takes nothing more: a level whose samples cannot be kept has
    nothing to measure. Each batch written is also handed to the `observers` (the live
    metrics, ecsload.plugin.live_metrics).
    """

    def __init__(self, path: str | Path, on_error: Callable[[OSError], None] | None = None) -> None:
        self.path = Path(path)
        self._on_error = on_error
        self.failed = False
        self.lines = 0
        self.observers: list[Callable[[Batch], None]] = []
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self.write([HEADER])
        self.lines = 0

    def write(self, batch: Batch) -> None:
        """Append a batch and pass it to the OS, so the file grows as the level runs."""
        if self.failed:
            return
        try:
            self._file.write("".join(batch))
            self._file.flush()
        except OSError as error:
            self.failed = True
            if self._on_error is None:
                raise
            self._on_error(error)
            return
        self.lines += len(batch)
        for observe in self.observers:
            observe(batch)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # what could not be flushed was reported
            self._file.close()
