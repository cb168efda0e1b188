"""W3C Trace Context on every request: a `traceparent` header, its trace id in the samples.

    traceparent: 00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 01 sampled, 00 not>

Each request starts a trace of its own (the load generator is its root), so a
slow request in samples.csv (its trace_id column) can be found in the service's
traces. The sampled flag is set on a `--trace-sample` share of the requests, at
random: a tracer that honours its parent's decision then keeps that share.
Kept to one random draw (two when sampling) and two f-strings: it runs once per request.
"""

import random

PARENT_BITS = (1 << 64) - 1


def new_trace(sample_ratio: float) -> tuple[str, str]:
    """A new trace's id and the `traceparent` header that starts it, from one draw of 192
    random bits (trace id, then parent id); neither id is all zeros (the W3C spec's
    invalid value): such a draw, one in 2^64, is drawn again."""
    bits = random.getrandbits(192)
    if not bits >> 64 or not bits & PARENT_BITS:
        return new_trace(sample_ratio)
    ids = f"{bits:048x}"
    sampled = "01" if sample_ratio and random.random() < sample_ratio else "00"
    return ids[:32], f"00-{ids[:32]}-{ids[32:]}-{sampled}"
