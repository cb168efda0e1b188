"""A level's measured samples as the comparison needs them, compact enough for the history.

The comparison (ecsload.analysis.comparison) reads a level's figures and their
noise from its samples cut into time windows inside each repeat
(ecsload.analysis.intervals.make_blocks). The history keeps, per level, what those windows
hold: for each repeat its start and span, for each window its length, and for each window
and request type a latency histogram of its answered requests (log bins of
ecsload.analysis.intervals.BINS_PER_DECADE: a value is kept within 0.6%), its answered
errors and its requests that got no answer. `decode` gives back a level's Samples with
the same repeats, windows, counts and latencies (each request at its bin's middle, spread
evenly over its window), so a stored run feeds the comparison as its folder would: the
same figures within a bin, the same windows, the same bootstrap.

A level of a few types over 2 repeats of 10 windows takes a few kB (zlib over JSON).
"""

import json
import zlib
from collections.abc import Sequence

import numpy as np

from ecsload.analysis.intervals import BINS_PER_DECADE, make_blocks
from ecsload.analysis.samples import Samples, joined
from ecsload.analysis.stats import NO_ANSWER

FORMAT = 1
LOWEST_MS = 0.001  # a latency under a microsecond is kept as one
MAX_BYTES = 64 * 2**20  # decompressed: a stored level is never larger
ANSWERED_ERROR_STATUS = 500  # the status an answered error is given back with


class WindowsError(ValueError):
    """A stored level that cannot be decoded."""


def encode(measured: Samples) -> bytes | None:
    """A level's measured samples, compact; None for a level without any."""
    if not len(measured):
        return None
    blocks = make_blocks(measured)
    repeats = []
    for index, r in enumerate(np.unique(measured.repeat)):
        mine = measured.repeat == r
        start = int(measured.timestamp_ms[mine].min())
        end = float((measured.timestamp_ms[mine] + measured.response_time_ms[mine]).max())
        seconds = blocks.seconds[blocks.repeat == index]
        lengths = [round(float(length), 6) for length in seconds]
        repeats.append([start, round(max(end - start, 1.0), 3), lengths])
    answered = measured.status != NO_ANSWER
    cell = blocks.of_sample * len(measured.type_names) + measured.type_code.astype(np.int64)
    bins = np.floor(
        np.log10(np.maximum(measured.response_time_ms, LOWEST_MS)) * BINS_PER_DECADE
    ).astype(np.int64)
    low = int(bins[answered].min()) if np.any(answered) else 0
    keys, counts = np.unique(
        np.stack([cell[answered], bins[answered] - low]), axis=1, return_counts=True
    )
    error_cells, errors = np.unique(cell[answered & ~measured.ok], return_counts=True)
    lost_cells, lost = np.unique(cell[~answered], return_counts=True)
    document = {
        "format": FORMAT,
        "types": list(measured.type_names),
        "repeats": repeats,
        "low_bin": low,
        "latency": [keys[0].tolist(), keys[1].tolist(), counts.tolist()],
        "errors": [error_cells.tolist(), errors.tolist()],
        "no_answer": [lost_cells.tolist(), lost.tolist()],
    }
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 9)


def read_document(encoded: bytes) -> dict:
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(encoded, MAX_BYTES)
        if inflater.unconsumed_tail:
            raise WindowsError(f"a stored level is over {MAX_BYTES} bytes")
        document = json.loads(text)
    except (zlib.error, ValueError, UnicodeDecodeError) as error:
        raise WindowsError(f"a stored level cannot be read ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise WindowsError("a stored level is of another format")
    return document


def decode(encoded: bytes) -> Samples:
    """The level's Samples again (see the module's docstring); WindowsError if it cannot be."""
    document = read_document(encoded)
    try:
        return samples_of(document)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise WindowsError(f"a stored level is malformed ({error!r})") from None


def samples_of(document: dict) -> Samples:
    names = tuple(str(name) for name in document["types"])
    starts, ends, block_starts, block_ends, block_repeat = [], [], [], [], []
    for r, (start, span, seconds) in enumerate(document["repeats"], 1):
        offsets = np.concatenate([[0.0], np.cumsum(seconds)]) * 1000
        block_starts += (start + offsets[:-1]).tolist()
        block_ends += (start + offsets[1:]).tolist()
        block_repeat += [r] * len(seconds)
        starts.append(float(start))
        ends.append(float(start) + float(span))
    cells, bins, counts = (np.asarray(part, dtype=np.int64) for part in document["latency"])
    latency = 10 ** ((bins + document["low_bin"] + 0.5) / BINS_PER_DECADE)
    answered_cell = np.repeat(cells, counts)
    answered_ms = np.repeat(latency, counts)
    errors = dict(zip(*document["errors"], strict=True))
    lost = dict(zip(*document["no_answer"], strict=True))
    cell_of = np.concatenate([answered_cell, np.repeat(list(lost), list(lost.values()))])
    cell_of = cell_of.astype(np.int64)
    rt = np.concatenate([answered_ms, np.zeros(sum(lost.values()))])
    status = np.concatenate(
        [np.full(len(answered_ms), 200), np.full(len(rt) - len(answered_ms), NO_ANSWER)]
    ).astype(np.int16)
    order = np.lexsort((rt, cell_of))
    cell_of, rt, status = cell_of[order], rt[order], status[order]
    ok = status != NO_ANSWER
    for cell, count in errors.items():  # the answered errors of a cell: its first ones
        first = int(np.searchsorted(cell_of, cell))
        ok[first : first + int(count)] = False
        status[first : first + int(count)] = ANSWERED_ERROR_STATUS
    types = len(names)
    block = cell_of // types
    timestamp = spread_over_windows(block, np.asarray(block_starts), np.asarray(block_ends))
    repeat = np.asarray(block_repeat, dtype=np.int16)[block]
    window_start = np.asarray(block_starts)[block]
    for r, (start, end) in enumerate(zip(starts, ends, strict=True), 1):
        timestamp = within_span(timestamp, rt, repeat == r, start, end, window_start)
    n = len(rt)
    return Samples(
        timestamp_ms=np.rint(timestamp).astype(np.int64),
        type_code=(cell_of % types).astype(np.int16),
        type_names=names,
        user_id=np.zeros(n, dtype=np.int64),
        ok=ok,
        status=status,
        response_time_ms=rt,
        measured=np.ones(n, dtype=bool),
        error=np.full(n, b"", dtype="S1"),
        late_ms=np.zeros(n),
        repeat=repeat,
    )


def spread_over_windows(block: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each sample's send time: the samples of a window evenly over it, in order."""
    order = np.argsort(block, kind="stable")
    sizes = np.bincount(block, minlength=len(starts))
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(block))
    rank[order] = np.arange(len(block)) - firsts[block[order]]
    fraction = (rank + 0.5) / np.maximum(sizes[block], 1)
    return starts[block] + fraction * (ends[block] - starts[block])


def within_span(
    timestamp: np.ndarray,
    rt: np.ndarray,
    mine: np.ndarray,
    start: float,
    end: float,
    window_start: np.ndarray,
) -> np.ndarray:
    """A repeat's samples sent no earlier than it started and answered by its end, with its
    first send at its start and its last answer at its end (so its span is the stored one)."""
    result = timestamp.copy()
    result[mine] = np.maximum(window_start[mine], np.minimum(timestamp[mine], end - rt[mine]))
    indices = np.flatnonzero(mine)
    if len(indices):
        result[indices[np.argmin(result[indices])]] = start
        last = indices[np.argmax(result[indices] + rt[indices])]
        result[last] = max(start, end - rt[last])
    return result


def pooled(levels: Sequence[Samples]) -> Samples:
    """Several runs' samples of one level as one baseline: every run's repeats are repeats
    of it, so the drift between the runs is in the spread the comparison draws."""
    parts = [level.where(level.repeat == r) for level in levels for r in np.unique(level.repeat)]
    return parts[0] if len(parts) == 1 else joined(parts)
