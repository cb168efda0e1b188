"""Latency histograms in HdrHistogram's compressed encoding (the `hdrhistogram` package).

Microseconds from 1 µs to an hour, 2 significant digits: each value is kept within
1%, and a level's request type takes a few hundred bytes. Decoding gives back one
value per recorded request (each bucket's middle), which is what the comparison
reads from a run folder's samples.
"""

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 2


def encode(response_time_ms: np.ndarray) -> bytes:
    histogram = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    micros = np.clip(np.rint(response_time_ms * 1000), LOWEST_US, HIGHEST_US).astype(np.int64)
    values, counts = np.unique(micros, return_counts=True)
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        histogram.record_value(value, count)
    return bytes(histogram.encode())


def decode(encoded: bytes) -> np.ndarray:
    """The recorded values in ms, one per request, in ascending order."""
    histogram = HdrHistogram.decode(encoded)
    values, counts = [], []
    for bucket in histogram.get_recorded_iterator():
        low = histogram.get_lowest_equivalent_value(bucket.value_iterated_to)
        values.append((low + bucket.value_iterated_to) / 2)
        counts.append(bucket.count_at_value_iterated_to)
    return np.repeat(np.asarray(values, dtype=float) / 1000, np.asarray(counts, dtype=np.int64))
