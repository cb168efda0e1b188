"""One sample per request: recorded cheaply during a level, read fast after it.

Locust's own statistics are bucketed and its CSV misses the last second, so the
tables come from these samples instead. A sample is one CSV line (with a
header), e.g. `1732712400123,NoOp,7,1,200,1.234`:

    timestamp_ms      UTC time the request was sent, ms since the epoch
    request_type      the request's name in the traffic model (never holds a comma)
    user_id           the simulated user that sent it
    ok                1 when the answer was the expected one, else 0
    status            HTTP status, 0 when no answer came (connection error)
    response_time_ms  as Locust measured it, to the µs

`SampleRecorder` formats lines in the `events.request` listener and hands them
on in batches to a sink: `SampleFile.write` here; a distributed worker can ship
the same batches to its master instead, which writes them with a `SampleFile`.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = ("timestamp_ms", "request_type", "user_id", "ok", "status", "response_time_ms")
HEADER = ",".join(COLUMNS) + "\n"
MAX_TYPE_BYTES = 64  # request type names are truncated to this when read
ROW = np.dtype(
    [
        ("timestamp_ms", "i8"),
        ("request_type", f"S{MAX_TYPE_BYTES}"),
        ("user_id", "i8"),
        ("ok", "i1"),
        ("status", "i2"),
        ("response_time_ms", "f8"),
    ]
)

Batch = list[str]


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
        self._batch.append(
            f"{int(start_time * 1000)},{name},{context.get('user_id', 0)},"
            f"{0 if exception else 1},{status},{response_time:.3f}\n"
        )
        if len(self._batch) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Hand the lines recorded so far to the sink (also called on a timer and at quit)."""
        if self._batch:
            batch, self._batch = self._batch, []
            self._sink(batch)


class SampleFile:
    """A samples CSV being written: the header first, then batches of lines as they come."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._file.write(HEADER)
        self._file.flush()

    def write(self, batch: Batch) -> None:
        """Append a batch and pass it to the OS, so the file grows as the level runs."""
        self._file.write("".join(batch))
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class SampleFileError(Exception):
    """A samples file that is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Samples:
    """A level's samples as columns; `type_code` indexes `type_names`."""

    timestamp_ms: np.ndarray
    type_code: np.ndarray
    type_names: tuple[str, ...]
    user_id: np.ndarray
    ok: np.ndarray
    status: np.ndarray
    response_time_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamp_ms)


def read_samples(path: str | Path) -> Samples:
    """All samples of a file, in a second or so per million (numpy's C parser).

    A last line cut short (a process killed mid-write) is dropped; anything else
    malformed is a SampleFileError naming the problem.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SampleFileError(f"{path} cannot be read: {error.strerror}") from None
    if not data.startswith(HEADER.encode()):
        raise SampleFileError(f"{path} is not a samples file (its header is not {HEADER.strip()})")
    body = data[len(HEADER) : data.rfind(b"\n") + 1]
    try:
        rows = (
            np.loadtxt(io.BytesIO(body), dtype=ROW, delimiter=",", ndmin=1, comments=None)
            if body
            else np.empty(0, dtype=ROW)
        )
    except ValueError as error:
        raise SampleFileError(f"{path} is malformed: {error}") from None
    codes: dict[bytes, int] = {}
    type_code = np.fromiter(
        (codes.setdefault(name, len(codes)) for name in rows["request_type"].tolist()),
        dtype=np.int16,
        count=len(rows),
    )
    return Samples(
        timestamp_ms=rows["timestamp_ms"],
        type_code=type_code,
        type_names=tuple(name.decode() for name in codes),
        user_id=rows["user_id"],
        ok=rows["ok"].astype(bool),
        status=rows["status"],
        response_time_ms=rows["response_time_ms"],
    )
