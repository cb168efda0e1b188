"""95% intervals of a level's figures: a block bootstrap over time windows and repeats.

Two identical runs here differ far more than their samples suggest: slow swings of
the machine (and of a real service) make consecutive requests alike, so a bootstrap
of single samples would give intervals far too narrow (and a trend fit that looks
"significant" half the time). The blocks here are time windows: each repeat of a
level (`--repeat`) is cut into windows of WINDOW_SECONDS, or shorter where the
repeat is short so that it has at least MIN_WINDOWS, and a resample draws whole
windows. With repeats it draws repeats first, then windows inside each drawn
repeat (a two-stage bootstrap), so the between-repeat variance is in the interval;
drawing K repeats with replacement keeps only (K-1)/K of it, so the draws are
widened by sqrt(K/(K-1)) around their median.

Vectorised: a resample is a row of block weights (how often each block was drawn),
so a rate is a weighted sum of the blocks' counts over their seconds, a trend a
weighted least-squares fit from the blocks' sums, and a percentile is read from the
weighted sum of the blocks' latency histograms (log-spaced bins, BINS_PER_DECADE;
the draws are scaled so that the histogram's estimate on the data equals the exact
percentile). A level of a million samples takes a fraction of a second.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ecsload.analysis.samples import Samples
from ecsload.analysis.stats import NO_ANSWER
from ecsload.vocabulary import HEADLINE

CONFIDENCE = 0.95
RESAMPLES = 1000
SEED = 21  # the same samples always get the same intervals
WINDOW_SECONDS = 5.0
MIN_WINDOWS = 10  # per repeat: a short repeat gets windows of its length / this
MIN_BLOCKS = 2  # fewer: no interval (null)
BINS_PER_DECADE = 200  # a bin is 1.2% wide
METHOD = "block bootstrap"


@dataclass(frozen=True)
class Blocks:
    """A level's measured samples cut into windows: each sample's block, each block's
    repeat (blocks of one repeat are consecutive) and length in seconds."""

    of_sample: np.ndarray
    repeat: np.ndarray
    seconds: np.ndarray
    window_seconds: float

    @property
    def count(self) -> int:
        return len(self.seconds)


def make_blocks(measured: Samples, timed: bool = False) -> Blocks:
    """Cut every repeat of the measured phase (first send to last answer; for a timed level,
    to last send) into windows."""
    ends = measured.timestamp_ms + (0 if timed else measured.response_time_ms)
    spans = {}
    for r in np.unique(measured.repeat):
        mine = measured.repeat == r
        start = float(measured.timestamp_ms[mine].min())
        spans[int(r)] = (start, max(float(ends[mine].max()) - start, 1.0) / 1000)
    return cut(measured.timestamp_ms, measured.repeat, spans)


def answer_blocks(measured: Samples) -> Blocks | None:
    """An arrival-rate level's answers cut into windows by when they arrived (sent + response
    time), over each repeat's sending span shifted by its median response time: the rate at
    which its service answered, which falls below the schedule's as soon as its queue grows.
    The shift keeps a service that keeps up, however slowly, at the rate; the span being
    the schedule's, not the answers' own, keeps out the first answers before a queue has
    formed, a straggler, and a burst of answers after a stall (the answers' middle 95%
    began at such a burst and read 219/s at 200/s). None when no repeat has two answers
    apart in time. Requests without an answer, and answers outside the span, are in no
    block (-1)."""
    answered = measured.status != NO_ANSWER
    arrived = measured.timestamp_ms + measured.response_time_ms
    spans = {}
    inside = np.zeros(len(measured), dtype=bool)
    for r in np.unique(measured.repeat):
        mine = answered & (measured.repeat == r)
        if np.count_nonzero(mine) < 2:
            continue
        sent = measured.timestamp_ms[measured.repeat == r]
        lag = float(np.median(measured.response_time_ms[mine]))
        low, high = float(sent.min()) + lag, float(sent.max()) + lag
        if high > low:
            spans[int(r)] = (float(low), float(high - low) / 1000)
            inside |= mine & (arrived >= low) & (arrived <= high)
    if not spans:
        return None
    return cut(arrived, measured.repeat, spans, inside)


def cut(
    times: np.ndarray,
    repeat: np.ndarray,
    spans: dict[int, tuple[float, float]],
    inside: np.ndarray | None = None,
) -> Blocks:
    """Blocks of each repeat's span (`spans`: its start in ms and length in s), windows of
    WINDOW_SECONDS or, for a short span, a MIN_WINDOWS-th of it; each sample in the window
    of its time (of `times`), or in none (-1) when it is not `inside`."""
    window = min(WINDOW_SECONDS, min(span for _, span in spans.values()) / MIN_WINDOWS)
    of_sample = np.full(len(times), -1, dtype=np.int64)
    repeat_of_block: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    for r, (start, span) in spans.items():
        mine = repeat == r if inside is None else (repeat == r) & inside
        windows = max(1, int(span / window))
        index = np.clip((times[mine] - start) / 1000 / window, 0, windows - 1)
        of_sample[mine] = sum(map(len, seconds)) + index.astype(np.int64)
        lengths = np.full(windows, window)
        lengths[-1] = span - window * (windows - 1)
        seconds.append(lengths)
        repeat_of_block.append(np.full(windows, len(repeat_of_block)))
    return Blocks(of_sample, np.concatenate(repeat_of_block), np.concatenate(seconds), window)


def answer_rates(measured: Samples) -> tuple[float, float] | None:
    """An arrival-rate level's answers per second and OK answers per second, over its
    sending span shifted by its median response time (answer_blocks); None when it has too
    few answers to tell."""
    blocks = answer_blocks(measured)
    if blocks is None:
        return None
    inside = blocks.of_sample >= 0
    seconds = float(blocks.seconds.sum())
    return (
        float(np.count_nonzero(inside)) / seconds,
        float(np.count_nonzero(inside & measured.ok)) / seconds,
    )


def draw_weights(blocks: Blocks, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """`resamples` rows of block weights: repeats drawn with replacement, then windows with
    replacement inside each drawn repeat (one stage with a single repeat)."""
    repeats = int(blocks.repeat.max()) + 1
    sizes = np.bincount(blocks.repeat, minlength=repeats)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.arange(resamples)[:, None]
    flat: list[np.ndarray] = []
    chosen = (
        rng.integers(0, repeats, (resamples, repeats))
        if repeats > 1
        else np.zeros((resamples, 1), dtype=np.int64)
    )
    for slot in range(chosen.shape[1]):
        r = chosen[:, slot]
        n = sizes[r][:, None]
        picks = firsts[r][:, None] + (rng.random((resamples, int(sizes.max()))) * n).astype(int)
        used = np.arange(int(sizes.max()))[None, :] < n
        flat.append((rows * blocks.count + picks)[used])
    counts = np.bincount(np.concatenate(flat), minlength=resamples * blocks.count)
    return counts.reshape(resamples, blocks.count).astype(np.float64)


def rate_draws(weights: np.ndarray, per_block: np.ndarray, blocks: Blocks) -> np.ndarray:
    """A count per second (req/s, goodput) in each resample."""
    return (weights @ per_block) / (weights @ blocks.seconds)


def share_draws(weights: np.ndarray, part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """A percentage (errors of requests) in each resample."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100 * (weights @ part) / (weights @ whole)


def percentile_draws(
    weights: np.ndarray,
    block_of: np.ndarray,
    values: np.ndarray,
    nblocks: int,
    which: Sequence[int] = HEADLINE,
) -> np.ndarray:
    """Each percentile of `values` (ms) in each resample, shape (resamples, len(which));
    NaN in a resample that drew none of them."""
    logs = np.log10(np.maximum(values, 1e-6))
    low = np.floor(logs.min() * BINS_PER_DECADE)
    high = np.floor(logs.max() * BINS_PER_DECADE) + 1
    bins = int(high - low)
    index = (np.floor(logs * BINS_PER_DECADE) - low).astype(np.int64)
    hist = np.bincount(block_of * bins + index, minlength=nblocks * bins).reshape(nblocks, bins)
    fractions = np.asarray(which, dtype=float) / 100

    def read(counts: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(counts, axis=1)
        total = cumulative[:, -1:]
        target = fractions[None, :] * total  # (rows, len(which))
        j = np.minimum((cumulative[:, None, :] < target[:, :, None]).sum(axis=2), bins - 1)
        before = np.where(j > 0, np.take_along_axis(cumulative, np.maximum(j - 1, 0), 1), 0)
        inside = np.take_along_axis(counts, j, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.clip((target - before) / inside, 0, 1)
            result = 10 ** ((low + j + part) / BINS_PER_DECADE)
        return np.where(total > 0, result, np.nan)

    exact = np.percentile(values, which)
    on_data = read(hist.sum(axis=0, keepdims=True).astype(np.float64))[0]
    return read(weights @ hist) * (exact / on_data)[None, :]


def trend_draws(
    weights: np.ndarray, block_of: np.ndarray, x: np.ndarray, y: np.ndarray, nblocks: int
) -> np.ndarray:
    """The least-squares trend (m, b) of y against x in each resample, shape (resamples, 2)."""
    sums = np.stack(
        [
            np.bincount(block_of, v, minlength=nblocks)
            for v in (np.ones_like(x), x, y, x * x, x * y)
        ],
        axis=1,
    )
    n, sx, sy, sxx, sxy = (weights @ sums).T
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(n * sxx - sx * sx > 0, (n * sxy - sx * sy) / (n * sxx - sx * sx), 0.0)
        b = (sy - m * sx) / n
    return np.stack([m, b], axis=1)


@dataclass(frozen=True)
class GroupDraws:
    """One group's (every request, or one type's) draws: percentiles and trend."""

    percentiles: np.ndarray  # (resamples, len(HEADLINE))
    trend: np.ndarray  # (resamples, 2): m, b
    count: int


@dataclass(frozen=True)
class LevelDraws:
    """The bootstrap draws of a level's figures, one row per resample."""

    rps: np.ndarray
    goodput: np.ndarray
    error_percent: np.ndarray
    groups: dict[str, GroupDraws]  # "" is every request; else a request type
    blocks: Blocks
    resamples: int

    def description(self) -> dict[str, object]:
        """summary.json's `uncertainty`."""
        return {
            "method": METHOD,
            "confidence": CONFIDENCE,
            "window_seconds": round(self.blocks.window_seconds, 3),
            "windows": self.blocks.count,
            "repeats": int(self.blocks.repeat.max()) + 1,
            "resamples": self.resamples,
        }


def interval(draws: np.ndarray) -> list[float] | None:
    """The 95% percentile interval of some draws; None when half of them are missing."""
    known = draws[np.isfinite(draws)]
    if len(known) < len(draws) / 2:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(known, (tail, 100 - tail))
    return [round(float(low), 3), round(float(high), 3)]


def level_draws(
    measured: Samples,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    timed: bool = False,
    open_model: bool = False,
) -> LevelDraws | None:
    """The draws of every figure of a level's measured samples; None with under MIN_BLOCKS
    windows (or no sample), where an interval would only pretend. An arrival-rate level's
    (`open_model`) req/s and goodput are its answers' (answer_blocks), not its schedule's."""
    if not len(measured):
        return None
    blocks = make_blocks(measured, timed)
    if blocks.count < MIN_BLOCKS:
        return None
    rng = np.random.default_rng(seed)
    weights = draw_weights(blocks, resamples, rng)
    nblocks = blocks.count
    requests = np.bincount(blocks.of_sample, minlength=nblocks).astype(np.float64)
    oks = np.bincount(blocks.of_sample, measured.ok.astype(float), minlength=nblocks)
    starts = {
        r: measured.timestamp_ms[measured.repeat == r].min() for r in np.unique(measured.repeat)
    }
    start_of = np.zeros(len(measured))
    for r, start in starts.items():
        start_of[measured.repeat == r] = start
    since_start = (measured.timestamp_ms - start_of) / 1000

    def group(selected: np.ndarray) -> GroupDraws:
        block_of = blocks.of_sample[selected]
        times = measured.response_time_ms[selected]
        return GroupDraws(
            percentile_draws(weights, block_of, times, nblocks),
            trend_draws(weights, block_of, since_start[selected], times, nblocks),
            int(np.count_nonzero(selected)),
        )

    answered = measured.status != NO_ANSWER  # latencies are of answered requests only
    groups = {"": group(answered)} if np.any(answered) else {}
    for code, name in enumerate(measured.type_names):
        selected = (measured.type_code == code) & answered
        if np.any(selected):
            groups[name] = group(selected)
    repeats = int(blocks.repeat.max()) + 1
    factor = math.sqrt(repeats / (repeats - 1)) if repeats > 1 else 1.0
    answers = answer_blocks(measured) if open_model else None
    if answers is not None and answers.count >= MIN_BLOCKS:
        inside = answers.of_sample >= 0
        arrived = np.bincount(answers.of_sample[inside], minlength=answers.count)
        arrived_ok = np.bincount(
            answers.of_sample[inside], measured.ok[inside].astype(float), minlength=answers.count
        )
        answer_weights = draw_weights(answers, resamples, rng)
        rps = rate_draws(answer_weights, arrived.astype(np.float64), answers)
        goodput = rate_draws(answer_weights, arrived_ok, answers)
    else:
        rps, goodput = rate_draws(weights, requests, blocks), rate_draws(weights, oks, blocks)
    return LevelDraws(
        rps=widened(rps, factor, lowest=0.0),
        goodput=widened(goodput, factor, lowest=0.0),
        error_percent=widened(share_draws(weights, requests - oks, requests), factor, lowest=0.0),
        groups={
            name: GroupDraws(
                widened(g.percentiles, factor, lowest=0.0), widened(g.trend, factor), g.count
            )
            for name, g in groups.items()
        },
        blocks=blocks,
        resamples=resamples,
    )


def widened(draws: np.ndarray, factor: float, lowest: float | None = None) -> np.ndarray:
    """Draws spread `factor` times as far from their median: drawing K repeats with
    replacement gives (K-1)/K of their variance (K = 2: half), so the repeats' share of
    the spread is put back with factor sqrt(K/(K-1)). A figure that cannot be below
    `lowest` (a latency, a rate, a share: 0) is not widened past it: a p50 interval that
    reached -13 ms was no interval of a latency (the history refused it)."""
    if factor == 1.0:
        return draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column drawn empty throughout
        centre = np.nanmedian(draws, axis=0)
    spread = centre + (draws - centre) * factor
    return spread if lowest is None else np.maximum(spread, lowest)  # NaN stays missing


def group_intervals(draws: GroupDraws) -> dict[str, list[float] | None]:
    """A group's `ci`: its percentiles' and its trend's intervals."""
    ci = {f"p{p}": interval(draws.percentiles[:, i]) for i, p in enumerate(HEADLINE)}
    ci["m"] = interval(draws.trend[:, 0])
    ci["b"] = interval(draws.trend[:, 1])
    return ci
