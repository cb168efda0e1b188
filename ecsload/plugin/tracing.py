"""W3C Trace Context on every request: a `traceparent` header, its trace id in the samples.

    traceparent: 00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 01 sampled, 00 not>

Each request starts a trace of its own (the load generator is its root), so a
slow request in samples.csv (its trace_id column) can be found in the service's
traces. The sampled flag is set on a `--trace-sample` share of the requests, at
random: a tracer that honours its parent's decision then keeps that share.
Kept to two random draws and one f-string: it runs once per request.
"""

import random

VERSION = "00"


def new_trace(sample_ratio: float) -> tuple[str, str]:
    """A new trace's id and the `traceparent` header that starts it; neither id is all
    zeros (the W3C spec's invalid value)."""
    trace_id = f"{random.getrandbits(128) or 1:032x}"
    sampled = "01" if random.random() < sample_ratio else "00"
    return trace_id, f"{VERSION}-{trace_id}-{random.getrandbits(64) or 1:016x}-{sampled}"
