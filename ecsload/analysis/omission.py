"""What a stalled service does to the figures: coordinated omission, corrected; stalls; lateness.

A closed user sends its next request only once the last is answered: when the
service stalls for a second, each user records one slow sample, and the
requests that users arriving meanwhile would have sent are never sent. Its
percentiles then hide the stall (p99 ~5 ms against ~950 ms for a client
arriving at a constant rate, measured against tests/stall_server.py).

`corrected` recovers them HdrHistogram's way (recordValueWithExpectedInterval):
a closed user's expected interval is its usual time between sends (the median,
so a stall does not inflate it), and a response of R ms (counted from when the
request was due: its user's previous answer plus its wait) also stands for
the requests that would have been sent every interval I meanwhile, with R - I,
R - 2I, … down to I.

`stalls` finds the gaps in the answers: times with requests outstanding and no
answer at all, longer than max(100 ms, 20 x the level's p50), whichever model
sent them. `lateness` says how far behind its schedule an arrival-rate
level's generator sent its requests, and `fell_behind` whether its service answered
them as fast as they came.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecsload.analysis.samples import Samples
from ecsload.analysis.stats import NO_ANSWER
from ecsload.vocabulary import HEADLINE

MAX_SYNTHETIC = 2_000_000  # beyond, synthetic samples are thinned and weighted
STALL_FLOOR_MS = 100.0
STALL_P50_RATIO = 20
LISTED_GAPS = 50  # gaps listed in summary.json (the longest)
LATE_SHARE_PERCENT = 50.0  # of sends late by over an arrival gap: the generator is behind
ACHIEVED_PERCENT = 95.0  # of the rate, arrivals handled: below, the generator is behind
ANSWERED_PERCENT = 99.0  # of the arrivals handled, answered (the whole interval below): the
# service is behind (its estimate, on a service that keeps up, is within half a percent)
DROPPED = b"Dropped"


def answered(samples: Samples) -> np.ndarray:
    return samples.status != NO_ANSWER


def expected_intervals(samples: Samples) -> np.ndarray:
    """Each sample's user's median time between sends (ms), the interval it would keep;
    inf for a user with a single send."""
    order = np.lexsort((samples.timestamp_ms, samples.user_id))
    users = samples.user_id[order]
    gaps = np.diff(samples.timestamp_ms[order].astype(float))
    keep = (users[1:] == users[:-1]) & (gaps > 0)
    gap_users, gaps = users[1:][keep], gaps[keep]
    by_user = np.lexsort((gaps, gap_users))
    gap_users, gaps = gap_users[by_user], gaps[by_user]
    known, first, count = np.unique(gap_users, return_index=True, return_counts=True)
    medians = (gaps[first + (count - 1) // 2] + gaps[first + count // 2]) / 2
    if known.size == 0:  # no user sent twice: every interval is unknown
        return np.full(len(samples.user_id), np.inf)
    where = np.clip(np.searchsorted(known, samples.user_id), 0, known.size - 1)
    return np.where(known[where] == samples.user_id, medians[where], np.inf)


def corrected(
    samples: Samples,
    intervals: np.ndarray,
    selected: np.ndarray | slice = slice(None),
    which: Sequence[int] = HEADLINE,
) -> dict[str, float] | None:
    """Coordinated-omission-corrected percentiles (ms) of a closed level's `selected` answered
    samples, from each one's intended send; `intervals` are expected_intervals(samples).
    None without any answer."""
    keep = np.zeros(len(samples), dtype=bool)
    keep[selected] = True
    keep &= answered(samples)
    if not np.any(keep):
        return None
    values = (samples.response_time_ms + samples.late_ms)[keep]
    intervals = intervals[keep]
    extra = np.where(np.isfinite(intervals) & (values > intervals), values // intervals - 1, 0)
    total = int(extra.sum())
    thin = max(1, -(-total // MAX_SYNTHETIC))  # every thin-th synthetic sample, weighted thin
    count = (extra // thin).astype(np.int64)
    owner = np.repeat(np.arange(values.size), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    synthetic = values[owner] - (step + 1) * thin * intervals[owner]
    result = weighted_percentiles(
        np.concatenate([values, synthetic]),
        np.concatenate([np.ones(values.size), np.full(synthetic.size, float(thin))]),
        which,
    )
    return {f"p{p}": round(v, 3) for p, v in zip(which, result, strict=True)}


def weighted_percentiles(
    values: np.ndarray, weights: np.ndarray, which: Sequence[int]
) -> list[float]:
    """Percentiles of weighted values, interpolated like numpy's default when all weigh 1."""
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    position = np.cumsum(weights) - weights / 2  # each value at the middle of its weight
    rank = position / weights.sum() * 100
    return [float(np.interp(p, rank, values)) for p in which]


def stalls(samples: Samples, p50: float | None, window: tuple[float, float]) -> dict[str, Any]:
    """The gaps in a level's answers while requests were outstanding (see the module).

    A request is outstanding from its send (an arrival-rate level's: its due time
    plus its lateness) to its answer; one never answered, until the level ended.
    A gap ends at an answer and began at the answer before it or, if later, at
    the earliest send among the requests still outstanding: a lower bound of how
    long nothing came back.
    """
    sent = ~((samples.status == NO_ANSWER) & (samples.error == DROPPED))
    starts = (samples.timestamp_ms + samples.late_ms)[sent].astype(float)
    ends = np.where(
        answered(samples)[sent], (samples.timestamp_ms + samples.response_time_ms)[sent], window[1]
    )
    threshold = max(STALL_FLOOR_MS, STALL_P50_RATIO * (p50 or 0.0))
    result: dict[str, Any] = {
        "threshold_ms": round(threshold, 3),
        "longest_ms": 0.0,
        "count": 0,
        "seconds": 0.0,
        "percent": 0.0,
        "gaps": [],
    }
    if starts.size < 2:
        return result
    order = np.argsort(ends, kind="stable")
    starts, ends = starts[order], ends[order]
    earliest_outstanding = np.minimum.accumulate(starts[::-1])[::-1]
    began = np.maximum(ends[:-1], earliest_outstanding[1:])
    gaps = ends[1:] - began
    result["longest_ms"] = round(float(max(gaps.max(), 0.0)), 3)
    long_ones = np.flatnonzero(gaps > threshold)
    span = window[1] - window[0]
    listed = long_ones[np.argsort(-gaps[long_ones])][:LISTED_GAPS]
    result.update(
        count=int(long_ones.size),
        seconds=round(float(gaps[long_ones].sum()) / 1000, 3),
        percent=round(100 * float(gaps[long_ones].sum()) / span, 2) if span > 0 else 0.0,
        gaps=[
            {"started_ms": round(float(began[i]), 3), "seconds": round(float(gaps[i]) / 1000, 3)}
            for i in sorted(listed, key=lambda i: began[i])
        ],
    )
    return result


def lateness(samples: Samples, rate: float, users: int = 1) -> dict[str, Any] | None:
    """How long after their schedule an arrival-rate level's requests were sent (ms), and
    whether the schedule slipped (`behind`, `behind_why`): more than LATE_SHARE_PERCENT of
    the sends late by over their user's gap between arrivals, the lateness growing by over
    that gap from the level's first fifth to its last, or fewer arrivals handled (sent or
    dropped) than ACHIEVED_PERCENT of the rate. Not an absolute lateness: 1 ms matters at
    5,000/s and is nothing at 50/s. `users`: the arrival users, each with its share."""
    sent = ~((samples.status == NO_ANSWER) & (samples.error == DROPPED))
    late = samples.late_ms[sent]
    if not late.size:
        return None
    p50, p99 = np.percentile(late, (50, 99))
    gap_ms = 1000 * max(users, 1) / rate
    share = 100 * float(np.count_nonzero(late > gap_ms)) / late.size
    by_due = late[np.argsort(samples.timestamp_ms[sent], kind="stable")]
    fifth = max(1, late.size // 5)
    growth = float(np.median(by_due[-fifth:]) - np.median(by_due[:fifth]))
    achieved = achieved_rate(samples)
    reasons = []
    if share >= LATE_SHARE_PERCENT:
        reasons.append(
            f"{share:.0f}% of its sends were late by over an arrival gap ({gap_ms:.3g} ms)"
        )
    if growth > gap_ms:
        reasons.append(f"its lateness grew {growth:.1f} ms over the level")
    if achieved is not None and achieved < ACHIEVED_PERCENT / 100 * rate:
        reasons.append(f"it sent {achieved:.0f}/s, {100 * achieved / rate:.0f}% of the {rate:g}/s")
    return {
        "p50": round(float(p50), 3),
        "p99": round(float(p99), 3),
        "max": round(float(late.max()), 3),
        "gap_ms": round(gap_ms, 3),
        "late_share_percent": round(share, 2),
        "growth_ms": round(growth, 3),
        "achieved": None if achieved is None else round(achieved, 3),
        "behind": bool(reasons),
        "behind_why": "; ".join(reasons) or None,
    }


def achieved_rate(samples: Samples) -> float | None:
    """Arrivals handled (sent or dropped) per second, from each repeat's first due time to
    its last actual send: a generator that falls behind its schedule handles fewer."""
    handled, seconds = 0, 0.0
    sends = samples.timestamp_ms + samples.late_ms
    for r in np.unique(samples.repeat):
        mine = samples.repeat == r
        span = float(sends[mine].max() - samples.timestamp_ms[mine].min()) / 1000
        if span > 0:
            handled, seconds = handled + int(np.count_nonzero(mine)) - 1, seconds + span
    return handled / seconds if seconds > 0 else None


def service_times(samples: Samples) -> dict[str, float] | None:
    """An arrival-rate level's service times: its answered requests from their actual send."""
    keep = answered(samples)
    if not np.any(keep):
        return None
    values = (samples.response_time_ms - samples.late_ms)[keep]
    result = np.percentile(values, HEADLINE)
    return {f"p{p}": round(float(v), 3) for p, v in zip(HEADLINE, result, strict=True)}


def dropped(samples: Samples) -> int:
    return int(np.count_nonzero((samples.status == NO_ANSWER) & (samples.error == DROPPED)))


def fell_behind(level: Mapping[str, Any]) -> str | None:
    """Why the service fell behind a level's arrivals, or None: its answers' rate (`rps`, as
    they arrived: ecsload.analysis.intervals.answer_rates), the whole of its 95% interval,
    was under ANSWERED_PERCENT of the arrivals the generator handled per second
    (`lateness.achieved`: with Poisson arrivals, the rate drawn, not the nominal one); with
    no interval, the figure under ACHIEVED_PERCENT of it. Its queue, and every latency
    after, then grew for as long as the level lasted: whatever a short level's
    percentiles and errors say, that rate is not sustained."""
    rate, answers = level.get("rate"), level.get("rps")
    sent = (level.get("lateness") or {}).get("achieved") or rate
    if not rate or not sent or answers is None:
        return None
    ci = (level.get("ci") or {}).get("rps")
    if ci and ci[1] >= ANSWERED_PERCENT / 100 * sent:
        return None
    if not ci and answers >= ACHIEVED_PERCENT / 100 * sent:
        return None
    shown = f" [{ci[0]:.0f}, {ci[1]:.0f}]" if ci else ""
    return (
        f"the service answered {answers:.0f} req/s{shown} of the {sent:.0f}/s sent: its queue grew"
    )
