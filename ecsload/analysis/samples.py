"""Reading a level's samples fast: every figure of the tables is computed from them.

The columns are those of ecsload.sample_columns; numpy's C parser reads a
million lines in about a second. The last column, trace_id, is not read (it is
there to look a request up by hand): ROW stops before it.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecsload.input_files import InputFileError, read_input_file
from ecsload.run_folder import LevelFolder
from ecsload.sample_columns import (
    HEADER,
    MEASURE,
    PREVIOUS_HEADER,
    PROBE_HEADER,
    UNTRACED_HEADER,
)

# About 60 million requests. Reading takes about 3.7 times the file in memory (the bytes, then
# 170-byte rows), so this bounds a file that is not a level's (a baseline's) to ~15 GiB.
MAX_FILE_BYTES = 4 * 2**30
MAX_TYPE_BYTES = 64  # request type names are truncated to this when read
MAX_ERROR_BYTES = 64
MAX_MS = 1e9  # a time in a samples file: 11.6 days, over a level's longest time cap (7 days)
ROW = np.dtype(
    [
        ("timestamp_ms", "i8"),
        ("request_type", f"S{MAX_TYPE_BYTES}"),
        ("user_id", "i8"),
        ("ok", "i1"),
        ("status", "i2"),
        ("response_time_ms", "f8"),
        ("phase", "S7"),
        ("error", f"S{MAX_ERROR_BYTES}"),
        ("late_ms", "f8"),
    ]
)
PREVIOUS_ROW = np.dtype(ROW.descr[:-1])  # of PREVIOUS_HEADER: no late_ms
PROBE_ROW = np.dtype([("timestamp_ms", "i8"), ("status", "i2"), ("response_time_ms", "f8")])


class SampleFileError(Exception):
    """A samples file that is missing, unreadable or malformed."""


class WrongHeader(SampleFileError):
    """A file that is not of this version's format (e.g. an older samples.csv)."""


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
    measured: np.ndarray  # True: sent in the measured phase, False: in the ramp or warmup
    error: np.ndarray  # bytes: why no answer came (status 0), else b""
    late_ms: np.ndarray  # how long after it was due each request was sent
    # the sample's repeat of the level, 1…K (--repeat); left out (None), every one is 1
    repeat: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.repeat is None:
            object.__setattr__(self, "repeat", np.ones(len(self.timestamp_ms), dtype=np.int16))

    def __len__(self) -> int:
        return len(self.timestamp_ms)

    def where(self, selected: np.ndarray) -> "Samples":
        """The samples that `selected` (a boolean mask) picks; the type names stay."""
        return Samples(
            timestamp_ms=self.timestamp_ms[selected],
            type_code=self.type_code[selected],
            type_names=self.type_names,
            user_id=self.user_id[selected],
            ok=self.ok[selected],
            status=self.status[selected],
            response_time_ms=self.response_time_ms[selected],
            measured=self.measured[selected],
            error=self.error[selected],
            late_ms=self.late_ms[selected],
            repeat=self.repeat[selected],
        )


def read_level(level_dir: Path, repeats: Sequence[LevelFolder] | None = None) -> Samples:
    """Every sample of a level, over its repeats (each marked with its `repeat`), or over
    `repeats` only (those that finished, of an interrupted run)."""
    folders = LevelFolder(level_dir).repeats() if repeats is None else repeats
    parts = [read_samples(part.samples) for part in folders]
    if len(parts) == 1:
        return parts[0]
    return joined(parts)


def joined(parts: list[Samples]) -> Samples:
    """Several parts' samples as one level's, part K as repeat K (their type names merged)."""
    names = tuple(dict.fromkeys(name for part in parts for name in part.type_names))
    codes = [
        np.array([names.index(name) for name in part.type_names] or [0], dtype=np.int16)
        for part in parts
    ]
    return Samples(
        timestamp_ms=np.concatenate([part.timestamp_ms for part in parts]),
        type_code=np.concatenate(
            [code[part.type_code] for code, part in zip(codes, parts, strict=True)]
        ),
        type_names=names,
        user_id=np.concatenate([part.user_id for part in parts]),
        ok=np.concatenate([part.ok for part in parts]),
        status=np.concatenate([part.status for part in parts]),
        response_time_ms=np.concatenate([part.response_time_ms for part in parts]),
        measured=np.concatenate([part.measured for part in parts]),
        error=np.concatenate([part.error for part in parts]),
        late_ms=np.concatenate([part.late_ms for part in parts]),
        repeat=np.concatenate(
            [np.full(len(part), r, dtype=np.int16) for r, part in enumerate(parts, 1)]
        ),
    )


def read_samples(path: str | Path) -> Samples:
    """All samples of one samples.csv (see read_rows), as repeat 1."""
    data = read_file(path)
    if data.startswith(PREVIOUS_HEADER.encode()):  # ecs-load before late_ms
        rows = rows_of(path, data, PREVIOUS_HEADER, PREVIOUS_ROW)
    elif data.startswith(UNTRACED_HEADER.encode()):  # ecs-load before trace_id
        rows = rows_of(path, data, UNTRACED_HEADER, ROW)
    else:
        rows = rows_of(path, data, HEADER, ROW)
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
        measured=rows["phase"] == MEASURE.encode(),
        error=rows["error"],
        late_ms=rows["late_ms"] if "late_ms" in (rows.dtype.names or ()) else np.zeros(len(rows)),
    )


def read_probe(path: str | Path) -> np.ndarray:
    """The probe's lines (ecsload.commands.probe) as rows of PROBE_ROW."""
    return read_rows(path, PROBE_HEADER, PROBE_ROW)


def read_rows(path: str | Path, header: str, row: np.dtype) -> np.ndarray:
    """A CSV file with `header`, in a second or so per million lines (numpy's C parser).

    A last line cut short (a process killed mid-write) is dropped; anything else
    malformed (or not a regular file, or over MAX_FILE_BYTES) is a SampleFileError
    naming the problem.
    """
    return rows_of(path, read_file(path), header, row)


def read_file(path: str | Path) -> bytes:
    """The file whole, if it is a regular file of at most MAX_FILE_BYTES."""
    try:
        return read_input_file(path, MAX_FILE_BYTES)
    except InputFileError as problem:
        raise SampleFileError(f"{path} {problem}") from None


def rows_of(path: str | Path, data: bytes, header: str, row: np.dtype) -> np.ndarray:
    """The rows of a file's `data` after its `header`."""
    check_header(path, data, header)
    return parse_rows(path, data[len(header) : data.rfind(b"\n") + 1], row)


def check_header(path: str | Path, data: bytes, header: str) -> None:
    if not data.startswith(header.encode()):
        raise WrongHeader(f"{path} is not the file expected: its header is not {header.strip()}")


def parse_rows(path: str | Path, body: bytes, row: np.dtype) -> np.ndarray:
    """Whole CSV lines (no header) as rows of `row`, its columns first on each line (any
    further ones, as trace_id, are skipped); `path` names them in an error. A time (ms)
    that is not finite or out of range (a baseline's file may hold nan, inf or 1e300) is
    a SampleFileError: every statistic after this trusts them."""
    columns = range(len(row.names or ()))
    try:
        rows = (
            np.loadtxt(
                io.BytesIO(body),
                dtype=row,
                delimiter=",",
                ndmin=1,
                comments=None,
                usecols=columns,
            )
            if body
            else np.empty(0, dtype=row)
        )
    except ValueError as error:
        raise SampleFileError(f"{path} is malformed: {error}") from None
    for name, low in (("response_time_ms", 0.0), ("late_ms", -MAX_MS)):
        if name in (row.names or ()):
            values = rows[name]
            bad = np.flatnonzero(~((values >= low) & (values <= MAX_MS)))  # NaN fails too
            if bad.size:
                value = float(values[bad[0]])
                raise SampleFileError(
                    f"{path} is malformed: line {bad[0] + 2}: {name} {value!r} is not a number "
                    f"of ms from {low:g} to {MAX_MS:g}"
                )
    return rows


class GrowingRows:
    """A CSV file that another process is still appending to, read a little at a time.

    Each `read_new` returns the whole lines added since the last call: a line not
    yet finished waits for the next call. A file that does not exist yet reads as
    no rows (the writer has not started).
    """

    def __init__(self, path: str | Path, header: str, row: np.dtype) -> None:
        self.path = Path(path)
        self._header = header
        self._row = row
        self._offset = 0

    def read_new(self) -> np.ndarray:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return np.empty(0, dtype=self._row)
        except OSError as error:
            raise SampleFileError(f"{self.path} cannot be read: {error.strerror}") from None
        if self._offset == 0:
            if len(data) < len(self._header):
                return np.empty(0, dtype=self._row)
            check_header(self.path, data, self._header)
            self._offset = len(self._header)
            data = data[len(self._header) :]
        body = data[: data.rfind(b"\n") + 1]
        self._offset += len(body)
        return parse_rows(self.path, body, self._row)
