"""The capacity search's decisions (ecsload.analysis.search) on hand-made step results.

Each test plays a search to its end: `play` asks `decide` for the next step and
answers it from a script of what each step "measured", as a real search would.
"""

import random
from collections.abc import Callable

import pytest

from ecsload.analysis.search import (
    BISECT,
    CONFIRM,
    ERRORS,
    GENERATOR,
    GROW,
    MAX_RATE,
    MAX_STEPS,
    RETEST,
    SERVICE,
    Answer,
    Next,
    Settings,
    Step,
    bracket,
    decide,
    settings_for,
    worst_case_steps,
)
from ecsload.model import ARRIVAL_WEIGHTS, REQUEST_TYPES

SETTINGS = Settings(
    min_rate=50, max_rate=10_000, resolution_percent=5, step_seconds=5, confirm_seconds=15
)

Outcome = Callable[[Next, list[Step]], Step]


def play(outcome: Outcome, settings: Settings = SETTINGS) -> tuple[Answer, list[Step]]:
    steps: list[Step] = []
    for _ in range(MAX_STEPS + 1):
        decision = decide(steps, settings)
        if isinstance(decision, Answer):
            return decision, steps
        steps.append(outcome(decision, steps))
    raise AssertionError(f"the search did not end: {steps}")


def edge(capacity: int, limit: str = SERVICE) -> Outcome:
    """A service that holds up to `capacity` requests/s, clearly broken above."""

    def outcome(step: Next, steps: list[Step]) -> Step:
        held = step.rate <= capacity
        return Step(step.rate, step.seconds, step.phase, held, None if held else limit)

    return outcome


def test_a_clean_edge_is_bracketed_within_the_resolution_and_confirmed() -> None:
    answer, steps = play(edge(380))
    assert answer.rate is not None and answer.confirmed and answer.limited_by == SERVICE
    lo, hi = answer.interval
    assert lo == answer.rate and hi is not None and lo <= 380 < hi <= lo * 1.05
    assert [(s.rate, s.phase) for s in steps[:5]] == [
        (50, GROW),
        (100, GROW),
        (200, GROW),
        (400, GROW),
        (283, BISECT),
    ]
    assert steps[-1].phase == CONFIRM and steps[-1].seconds == 15 and steps[-1].rate == lo
    assert len(steps) <= 12 and len(steps) <= worst_case_steps(SETTINGS) + 1
    assert answer.limiting_step is not None and answer.limiting_step.rate == hi


def test_a_noisy_non_monotonic_series() -> None:
    """200/s breaks once, marginally (its interval straddled the objective): it is tested
    again and holds, so the search grows on; above the real edge, 560/s holds although
    476/s broke: not counted on, it was not sustained on the way up."""
    script = {
        (200, 1): (False, True),  # (held, marginal)
        (476, 1): (False, False),
        (560, 1): (True, False),
    }

    def outcome(step: Next, steps: list[Step]) -> Step:
        seen = sum(s.rate == step.rate for s in steps) + 1
        held, marginal = script.get((step.rate, seen), (step.rate <= 500, False))
        return Step(step.rate, step.seconds, step.phase, held, None if held else SERVICE, marginal)

    answer, steps = play(outcome)
    assert [(s.rate, s.phase, s.held) for s in steps[2:4]] == [
        (200, GROW, False),
        (200, RETEST, True),
    ]
    assert steps[4].rate == 400 and steps[5].rate == 800
    assert all(not (s.rate > 476 and s.held and s.phase == CONFIRM) for s in steps)
    assert answer.rate is not None and answer.rate < 476 <= (answer.interval[1] or 0)
    assert answer.confirmed and bracket(steps) == answer.interval


def test_a_clear_break_is_believed_at_once() -> None:
    answer, steps = play(edge(120))
    assert RETEST not in [s.phase for s in steps]
    assert answer.rate is not None and 114 <= answer.rate <= 120


def test_a_confirmation_that_breaks_retests_its_neighbour() -> None:
    """Short steps hold up to 390/s, but 15 s at the bracket's top breaks: the rate below
    that held is confirmed in its place, and the broken confirmation bounds the interval."""

    def outcome(step: Next, steps: list[Step]) -> Step:
        held = step.rate <= (370 if step.phase == CONFIRM else 390)
        return Step(step.rate, step.seconds, step.phase, held, None if held else SERVICE)

    answer, steps = play(outcome)
    confirmations = [s for s in steps if s.phase == CONFIRM]
    assert len(confirmations) >= 2 and not confirmations[0].held and confirmations[-1].held
    assert answer.rate == confirmations[-1].rate <= 370
    assert answer.interval[1] is not None and answer.interval[1] <= confirmations[0].rate
    assert answer.confirmed


def test_dropped_arrivals_limit_by_errors() -> None:
    """A step that dropped arrivals is judged broken by errors (the judge's part is in
    test_ecsload_capacity.py); the search says so."""
    answer, _ = play(edge(700, limit=ERRORS))
    assert answer.limited_by == ERRORS and answer.limiting_step is not None


def test_a_target_that_breaks_at_the_lowest_rate() -> None:
    answer, steps = play(edge(10))
    assert answer.rate is None and answer.interval == (None, 50)
    assert len(steps) == 1 and answer.limited_by == SERVICE and not answer.confirmed


def test_a_marginal_break_at_the_lowest_rate_is_tested_again() -> None:
    def outcome(step: Next, steps: list[Step]) -> Step:
        return Step(step.rate, step.seconds, step.phase, False, SERVICE, marginal=True)

    answer, steps = play(outcome)
    assert [s.phase for s in steps] == [GROW, RETEST] and answer.rate is None


def test_held_up_to_the_ceiling_is_limited_by_max_rate() -> None:
    settings = Settings(50, 1000, 5, 5, 15)
    answer, steps = play(edge(10**6), settings)
    assert [s.rate for s in steps] == [50, 100, 200, 400, 800, 1000, 1000]
    assert steps[-1].phase == CONFIRM
    assert answer.rate == 1000 and answer.interval == (1000, None)
    assert answer.limited_by == MAX_RATE and answer.limiting_step is None


def test_the_generator_limit_is_named() -> None:
    answer, _ = play(edge(3000, limit=GENERATOR))
    assert answer.limited_by == GENERATOR


@pytest.mark.parametrize("seed", range(20))
def test_any_series_ends_within_the_step_limit(seed: int) -> None:
    noise = random.Random(seed)

    def outcome(step: Next, steps: list[Step]) -> Step:
        held = noise.random() < 0.5
        return Step(
            step.rate,
            step.seconds,
            step.phase,
            held,
            None if held else SERVICE,
            marginal=noise.random() < 0.5,
        )

    answer, steps = play(outcome)
    assert len(steps) <= MAX_STEPS
    if answer.rate is not None:
        assert any(s.rate == answer.rate and s.held for s in steps)
        broken = [s for s in steps if s.rate == answer.rate and s.phase == CONFIRM and not s.held]
        assert not broken  # no answer whose own confirmation broke


def test_bisection_splits_at_the_geometric_mean() -> None:
    steps = [Step(50, 5, GROW, True), Step(100, 5, GROW, True), Step(200, 5, GROW, False)]
    assert decide(steps, SETTINGS) == Next(141, 5, BISECT)
    narrow = [Step(100, 5, GROW, True), Step(101, 5, BISECT, False)]
    assert decide(narrow, SETTINGS) == Next(100, 15, CONFIRM)


def test_a_confirmation_that_broke_marginally_stands() -> None:
    """A busy moment during the confirmation: its interval straddled the objective. The
    rate is not the answer (its own evidence did not hold): the search goes on below it and
    answers a rate whose confirmation held."""

    def outcome(step: Next, steps: list[Step]) -> Step:
        first = step.phase == CONFIRM and not any(s.phase == CONFIRM for s in steps)
        held = step.rate <= 390 and not first
        return Step(step.rate, step.seconds, step.phase, held, None if held else SERVICE,
                    marginal=first)  # fmt: skip

    answer, steps = play(outcome)
    confirmations = [(s.rate, s.held) for s in steps if s.phase == CONFIRM]
    assert len(confirmations) == 2 and confirmations[0][0] > confirmations[1][0]
    assert confirmations[1] == (answer.rate, True) and answer.confirmed
    assert answer.interval[1] == confirmations[0][0]  # the broken confirmation bounds it
    once = [
        Step(100, 5, GROW, True),
        Step(104, 5, BISECT, False),
        Step(100, 15, CONFIRM, False, SERVICE, marginal=True),
    ]
    stops = Answer(None, (None, 100), SERVICE, once[-1], "broke at the lowest rate", False)
    assert decide(once, SETTINGS) == stops


def test_a_step_lasts_long_enough_for_its_slo_percentile_to_rest_on_enough_answers() -> None:
    """p99 needs 1,000 answers (ecsload.analysis.sample_size), planned with a tenth more: at
    50/s a 5 s step would bring 250, so it lasts 22 s; from 220/s on, -d's 5 s bring enough.
    A confirmation is three steps long at its own rate."""
    settings = settings_for(50, 10_000, 5, 5, ["p99<50", "error%<1"], 2)
    assert settings.min_requests == 1000
    assert [settings.seconds_at(rate, GROW) for rate in (50, 100, 200, 220, 400)] == [
        22, 11, 6, 5, 5,
    ]  # fmt: skip
    assert (settings.seconds_at(50, CONFIRM), settings.seconds_at(400, CONFIRM)) == (66, 15)
    answer, steps = play(edge(380), settings)
    assert answer.rate is not None and answer.confirmed
    assert [(s.rate, s.seconds) for s in steps[:4]] == [(50, 22), (100, 11), (200, 6), (400, 5)]
    assert steps[-1].phase == CONFIRM and steps[-1].seconds == 15
    assert all(s.rate * s.seconds >= 1100 for s in steps)


@pytest.mark.parametrize(
    ("slo", "probe_rate", "requests", "step"),
    [
        (["p95<50"], 2, 200, 5),  # p95: 200 answers
        (["p99c<50", "p50<10"], 2, 1000, 5),  # corrected: the same answers; the most needed
        (["error%<1", "rps>10"], 2, 0, 5),  # no percentile: -d alone
        (["Tasks-Happy-Path.p99<50"], 2, 1667, 5),  # 60% of the arrivals: 1,000 of 1,667
        (["NoOp.p99<50", "p99<50"], 2, 20_000, 5),  # 5%: 20 times as many requests
        (["probe.p95<10"], 2, 0, 110),  # 200 probe answers at 2/s, a tenth more, every step
        (["probe.p50<10"], 2, 0, 11),
    ],
)
def test_what_each_step_needs_comes_from_the_slo_s_percentiles(
    slo: list[str], probe_rate: float, requests: int, step: float
) -> None:
    settings = settings_for(50, 1000, 5, 5, slo, probe_rate)
    assert (settings.min_requests, settings.step_seconds) == (requests, step)
    assert settings.confirm_seconds == 3 * step


def test_without_answers_to_plan_for_every_step_lasts_d_seconds() -> None:
    _, steps = play(edge(380))
    assert {s.seconds for s in steps if s.phase != CONFIRM} == {5}


def test_an_answer_whose_own_step_read_too_few_answers_says_so() -> None:
    """Errors took some of the answers a step planned for: the answer's result step (its
    confirmation) is the one that counts, not the steps before it."""

    def outcome(step: Next, steps: list[Step]) -> Step:
        held = step.rate <= 380
        few = step.phase == CONFIRM if held else False
        return Step(step.rate, step.seconds, step.phase, held, None if held else SERVICE, few=few)

    answer, _ = play(outcome)
    assert answer.confirmed and answer.few
    assert not play(edge(380))[0].few


def test_the_arrival_weights_name_every_request_type_with_the_model_s_mix() -> None:
    """The search plans a type's answers from these weights, and the locustfile's arrivals
    send by them (ModelArrivals): every request type, the closed model's mix of kinds."""
    total = sum(ARRIVAL_WEIGHTS.values())
    assert set(ARRIVAL_WEIGHTS) == set(REQUEST_TYPES)
    assert ARRIVAL_WEIGHTS["NoOp"] / total == 0.05
    assert ARRIVAL_WEIGHTS["Tasks-Happy-Path"] / total == 0.6
