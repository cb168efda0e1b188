"""The capacity search's decisions: from the steps measured so far, the next step or the answer.

Pure and small (no file, no clock, no statistics): `decide(steps, settings)` is called
after every step, so it is tested on hand-made step results. Each step is an
arrival-rate level judged elsewhere (ecsload.analysis.capacity.judge_step): it *held*
the SLO or broke it, and a break is *marginal* when the SLO figure's interval
straddled the objective (the step could have gone either way).

Each step lasts `step_seconds` or, at a rate too low for its SLO's percentile to rest
on enough answers (ecsload.analysis.sample_size: p99 needs 1,000; of a request type, its
share of the arrivals brings them), as long as that takes (`Settings.seconds_at`); a
confirmation CONFIRM_FACTOR times as long.

1. Grow: from `min_rate`, each step GROWTH times the last that held (at most
   `max_rate`), until one breaks.
2. Bisect: between the highest rate that held below the lowest that broke (`lo`)
   and that rate (`hi`), at their geometric mean, until hi <= lo x (1 + resolution).
3. Confirm: `lo` again for `confirm_seconds`; if it holds, it is the answer, its
   interval [lo, hi]; if it breaks, it is now the lowest rate that broke, and the
   search goes on from the rate below it that held (its neighbour: confirmed next,
   or bisected towards when the bracket is wider than the resolution).

A rate's latest step is its result (a confirmation that broke outranks the short step
that held). A marginal break while growing (or at the lowest rate) is tested once more
before it is believed: one noisy step would otherwise bracket the search far too low. A
confirmation that broke, even marginally, stands: the answer is a rate none of whose
confirmations broke, and a broken one costs only the step below it (one resolution lower).
A rate that held above the lowest rate that broke is not counted on: it was not
sustained on the way up. The search stops after MAX_STEPS steps whatever happens.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ecsload.analysis.sample_size import answers_needed
from ecsload.model import ARRIVAL_WEIGHTS
from ecsload.values import PROBE, parse_threshold

GROWTH = 2.0
CONFIRM_FACTOR = 3  # the confirmation step is this many times as long as a step
MAX_STEPS = 24
ANSWER_MARGIN = 1.1  # a step plans this many times the answers it needs: errors, its edges

SERVICE = "service"
ERRORS = "errors"
GENERATOR = "generator"
MAX_RATE = "max-rate"
LIMITS = (SERVICE, ERRORS, GENERATOR, MAX_RATE)

GROW = "grow"
BISECT = "bisect"
CONFIRM = "confirm"
RETEST = "retest"


@dataclass(frozen=True)
class Settings:
    min_rate: int
    max_rate: int
    resolution_percent: float
    step_seconds: float
    confirm_seconds: float
    min_requests: int = 0  # each step sends, for its SLO percentiles' answers

    def seconds_at(self, rate: int, phase: str) -> float:
        """A step's seconds at `rate`: `step_seconds`, or long enough to send `min_requests`
        at `rate` (ANSWER_MARGIN more) when that is longer; a confirmation CONFIRM_FACTOR
        times that, and at least `confirm_seconds`."""
        step = max(self.step_seconds, seconds_for(self.min_requests, rate))
        return max(self.confirm_seconds, CONFIRM_FACTOR * step) if phase == CONFIRM else step


def seconds_for(requests: int, rate: float) -> int:
    """Whole seconds in which `rate` requests/s send `requests`, ANSWER_MARGIN more."""
    return math.ceil(round(ANSWER_MARGIN * requests / rate, 6))


def settings_for(
    min_rate: int,
    max_rate: int,
    resolution_percent: float,
    step_seconds: float,
    slo: Sequence[str],
    probe_rate: float,
) -> Settings:
    """A search's Settings from its plan. An SLO percentile sets `min_requests`: its
    answers (p99, p99c: 1,000) over every request, or over a request type's share of the
    arrivals (ecsload.model.ARRIVAL_WEIGHTS: NoOp's 5% need 20 times as many requests).
    One of the probe, sent at `probe_rate` whatever the step's rate, sets the least
    seconds of every step. A step's answers can still fall short (errors): its line then
    marks the figure (ecsload.analysis.capacity.check_text)."""
    min_requests, least = 0, step_seconds
    total = sum(ARRIVAL_WEIGHTS.values())
    for text in slo:
        threshold = parse_threshold(text)
        metric = threshold.metric.removesuffix("c")
        if not (metric.startswith("p") and metric[1:].isdigit()):
            continue
        needed = answers_needed(float(metric[1:]))
        if threshold.scope == PROBE:
            if probe_rate > 0:
                least = max(least, seconds_for(needed, probe_rate))
            continue
        if threshold.scope is not None:  # a request type: its share of the arrivals
            needed = math.ceil(needed * total / ARRIVAL_WEIGHTS[threshold.scope])
        min_requests = max(min_requests, needed)
    return Settings(
        min_rate, max_rate, resolution_percent, least, least * CONFIRM_FACTOR, min_requests
    )


@dataclass(frozen=True)
class Step:
    """A measured step: its rate (requests/s), seconds, what it was, and its judgement."""

    rate: int
    seconds: float
    phase: str  # GROW, BISECT, CONFIRM or RETEST
    held: bool
    limit: str | None = None  # a broken step's: SERVICE, ERRORS or GENERATOR
    marginal: bool = False  # broke with the SLO figure's interval across the objective
    why: str = ""
    few: bool = False  # an SLO percentile from too few answers to rely on (a type's)


@dataclass(frozen=True)
class Next:
    """The step to run next."""

    rate: int
    seconds: float
    phase: str


@dataclass(frozen=True)
class Answer:
    """The search's answer: `rate` (None: even min_rate broke) in [lo, hi] (hi None: it held
    to max_rate), what limited it, the step that set the limit, and why the search stopped;
    `few`: the answer's own step read an SLO percentile from too few answers."""

    rate: int | None
    interval: tuple[int | None, int | None]
    limited_by: str
    limiting_step: Step | None
    stopped: str
    confirmed: bool
    few: bool = False


def latest(steps: Sequence[Step]) -> dict[int, Step]:
    """Each rate's latest step: its result."""
    return {step.rate: step for step in steps}


def bracket(steps: Sequence[Step]) -> tuple[int | None, int | None]:
    """(lo, hi): the lowest rate whose result is broken, and the highest below it that held."""
    results = latest(steps).values()
    hi = min((step.rate for step in results if not step.held), default=None)
    lo = max(
        (step.rate for step in results if step.held and (hi is None or step.rate < hi)),
        default=None,
    )
    return lo, hi


def within(lo: int, hi: int, settings: Settings) -> bool:
    """Whether [lo, hi] is as narrow as the resolution asks (or cannot be split)."""
    return hi <= lo * (1 + settings.resolution_percent / 100) or hi - lo <= 1


def needs_retest(step: Step, steps: Sequence[Step]) -> bool:
    """A marginal break while growing, not tested again yet."""
    return (
        not step.held
        and step.marginal
        and step.phase == GROW
        and sum(s.rate == step.rate for s in steps) == 1
    )


def decide(steps: Sequence[Step], settings: Settings) -> Next | Answer:
    """The next step, or the answer."""
    if not steps:
        return Next(settings.min_rate, settings.seconds_at(settings.min_rate, GROW), GROW)
    last = steps[-1]
    if needs_retest(last, steps) and len(steps) < MAX_STEPS:
        return Next(last.rate, settings.seconds_at(last.rate, RETEST), RETEST)
    lo, hi = bracket(steps)
    results = latest(steps)
    if lo is None:
        assert hi is not None
        broken = results[hi]
        return Answer(
            None,
            (None, hi),
            broken.limit or SERVICE,
            broken,
            "broke at the lowest rate",
            confirmed=False,
        )
    if results[lo].phase == CONFIRM:  # held its confirmation
        return answer(lo, hi, results, "confirmed", confirmed=True)
    if len(steps) >= MAX_STEPS:
        return answer(lo, hi, results, f"stopped after {MAX_STEPS} steps", confirmed=False)
    if hi is None:
        if lo >= settings.max_rate:
            return Next(lo, settings.seconds_at(lo, CONFIRM), CONFIRM)
        rate = min(settings.max_rate, round(lo * GROWTH))
        return Next(rate, settings.seconds_at(rate, GROW), GROW)
    if within(lo, hi, settings):
        return Next(lo, settings.seconds_at(lo, CONFIRM), CONFIRM)
    middle = min(max(round(math.sqrt(lo * hi)), lo + 1), hi - 1)
    return Next(middle, settings.seconds_at(middle, BISECT), BISECT)


def answer(
    lo: int, hi: int | None, results: dict[int, Step], stopped: str, confirmed: bool
) -> Answer:
    few = results[lo].few
    if hi is None:
        return Answer(lo, (lo, None), MAX_RATE, None, stopped, confirmed, few)
    broken = results[hi]
    return Answer(lo, (lo, hi), broken.limit or SERVICE, broken, stopped, confirmed, few)


def worst_case_steps(settings: Settings) -> int:
    """Steps of a search whose answer is confirmed first time: growth, bisection, confirmation
    (the cost docs/capacity.md states)."""
    grow = max(1, math.ceil(math.log(settings.max_rate / settings.min_rate, GROWTH)) + 1)
    ratio = math.log(GROWTH) / math.log(1 + settings.resolution_percent / 100)
    return min(MAX_STEPS, grow + max(0, math.ceil(math.log2(ratio))) + 1)
