"""Reading a level's samples fast: every figure of the tables is computed from them.

The columns are those of ecsload.sample_columns; numpy's C parser reads a
million lines in about a second.
"""

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecsload.sample_columns import HEADER

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
