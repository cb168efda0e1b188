"""A capacity search's steps judged (ecsload.analysis.capacity.judge_step) on hand-made levels,
their lines, and the answer line."""

from typing import Any

from ecsload.analysis import search
from ecsload.analysis.capacity import answer_text, judge_step, search_grid
from ecsload.commands.capacity import beside_text, step_line


def step_level(
    rate: int,
    p99: float,
    ci: tuple[float, float],
    errors: int = 0,
    dropped: int = 0,
    achieved: float | None = None,
    behind_why: str | None = None,
) -> dict[str, Any]:
    requests = rate * 5
    return {
        "rate": rate,
        "users": 1,
        "model": "open",
        "requests": requests,
        "dropped": dropped,
        "max_in_flight": 100,
        "error_percent": 100 * errors / requests,
        "ci": {"rps": None, "goodput": None, "error_percent": [0.0, 100 * errors / requests]},
        "lateness": {
            "p99": 0.5,
            "achieved": rate if achieved is None else achieved,
            "behind": behind_why is not None,
            "behind_why": behind_why,
        },
        "all": {
            "ok": requests - errors,
            "error": errors,
            "no_answer": errors,
            "p99": p99,
            "ci": {"p50": None, "p95": None, "p99": list(ci)},
        },
        "types": {},
        "probe": None,
    }


def test_a_step_holds_only_when_its_whole_interval_is_inside_the_objective() -> None:
    held = judge_step(step_level(200, 20.0, (15.0, 31.0)), ["p99<50"])
    assert held.held and held.limit is None
    assert held.figures["slo"][0]["interval"] == [15.0, 31.0]


def test_a_step_whose_interval_straddles_the_objective_breaks_marginally() -> None:
    """p99 42.0 ms with its interval [28.4, 55.6] against p99<50: the figure passes, its
    interval does not: not held, and marginal (the search tests such a step again)."""
    straddling = judge_step(step_level(300, 42.0, (28.4, 55.6)), ["p99<50"])
    assert not straddling.held and straddling.marginal and straddling.limit == search.SERVICE
    assert straddling.why == "p99 at 300 req/s 42 ms [28.4, 55.6], its interval across 50 ms"
    clear = judge_step(step_level(400, 71.0, (64.0, 80.3)), ["p99<50"])
    assert not clear.held and not clear.marginal
    assert clear.why == "p99 at 400 req/s 71 ms [64, 80.3]"


def test_a_percentile_from_too_few_answers_is_marked_with_what_it_needs() -> None:
    """A type's p99 from fewer answers than its step planned for (errors took them): the
    step stands as a threshold's check does, and its line says the figure is weak."""
    level = step_level(50, 11.9, (10.1, 25.3))
    level["types"]["NoOp"] = {**level["all"], "few": ["p95", "p99"]}
    judged = judge_step(level, ["NoOp.p99<50"])
    assert judged.held and judged.figures["slo"][0]["few"]
    assert judged.why == (
        "NoOp.p99 at 50 req/s 11.9* ms [10.1, 25.3], from too few answers to rely on (p99 1000)"
    )
    assert not judge_step(step_level(50, 11.9, (10.1, 25.3)), ["p99<50"]).figures["slo"][0]["few"]


def test_dropped_arrivals_break_a_step_whatever_its_latency() -> None:
    dropped = judge_step(step_level(500, 10.0, (8.0, 12.0), errors=20, dropped=20), ["p99<50"])
    assert not dropped.held and dropped.limit == search.ERRORS
    assert dropped.why == "20 arrivals dropped at 500 req/s (100 in flight)"


def test_too_many_errors_to_read_a_latency_is_an_errors_limit() -> None:
    failing = judge_step(step_level(500, 10.0, (8.0, 12.0), errors=500), ["p99<50"])
    assert not failing.held and failing.limit == search.ERRORS
    assert "not measured" in failing.why
    errors = judge_step(step_level(500, 10.0, (8.0, 12.0), errors=50), ["error%<1", "p99<50"])
    assert errors.limit == search.ERRORS and errors.why.startswith("error% at 500 req/s 2 %")


def test_a_generator_that_fell_behind_is_never_the_service_s_limit() -> None:
    behind = step_level(8000, 5.0, (4.0, 6.0), achieved=5200.0, behind_why="it sent 5200/s")
    judged = judge_step(behind, ["p99<50"])
    assert not judged.held and judged.limit == search.GENERATOR and not judged.marginal
    assert "about 2 Locust processes (--processes 2)" in judged.why
    short = judge_step(step_level(300, 5.0, (4.0, 6.0), achieved=250.0), ["p99<50"])
    assert short.limit == search.GENERATOR  # handled under 95% of the rate


def test_a_saturated_generator_on_its_schedule_is_the_limit_of_a_latency_it_broke() -> None:
    """A generator over 85% busy keeps its schedule a while, but its own queueing is in every
    latency it reads: a latency objective it broke there (even marginally, as a real search
    against nginx did at 2,378 req/s, 98% busy) is not the service's."""
    level = step_level(2378, 44.8, (13.1, 50.03))
    level["generator"] = {"cpu_percent_max": 98.5, "busy_percent_max": 98.3}
    judged = judge_step(level, ["p99<50"])
    assert not judged.held and judged.limit == search.GENERATOR and not judged.marginal
    assert judged.why.startswith("the generator was saturated at 2378 req/s (98% busy)")
    assert "(--processes 2)" in judged.why
    level["generator"]["busy_percent_max"] = level["generator"]["cpu_percent_max"] = 60.0
    assert judge_step(level, ["p99<50"]).limit == search.SERVICE  # not saturated: the service's
    level["generator"]["busy_percent_max"] = 98.3
    within = step_level(2000, 9.8, (4.3, 12.8))
    within["generator"] = {"cpu_percent_max": 96.1, "busy_percent_max": 96.1}
    assert judge_step(within, ["p99<50"]).held  # it held even with the generator's queueing
    errors = step_level(2378, 4.0, (3.0, 5.0), errors=2378)
    errors["generator"] = level["generator"]
    assert judge_step(errors, ["p99<50", "error%<1"]).limit == search.ERRORS  # the service's


def test_an_overloaded_service_is_the_limit_even_when_the_generator_fell_behind_too() -> None:
    """Beyond the service's capacity its queue grows, and so do the open generator's
    connections: it falls behind as well, but the service's own time (from the actual send)
    broke the objective, so the limit is the service's."""
    overloaded = step_level(800, 900.0, (700.0, 1100.0), achieved=600.0, behind_why="late")
    overloaded["all"]["service"] = {"p50": 400.0, "p95": 800.0, "p99": 850.0}
    judged = judge_step(overloaded, ["p99<50"])
    assert judged.limit == search.SERVICE and judged.why == "p99 at 800 req/s 900 ms [700, 1100]"
    overloaded["all"]["service"] = {"p50": 2.0, "p95": 3.0, "p99": 4.0}
    assert judge_step(overloaded, ["p99<50"]).limit == search.GENERATOR
    overloaded["all"]["service"] = {"p50": 400.0, "p95": 800.0, "p99": 850.0}
    overloaded["generator"] = {"cpu_percent_max": 30.0, "busy_percent_max": 98.0}
    saturated = judge_step(overloaded, ["p99<50"])  # its own timing is not to be trusted
    assert saturated.limit == search.GENERATOR


def test_the_answer_line() -> None:
    broke = search.Step(390, 5, search.BISECT, False, search.SERVICE, why="p99 at 390 req/s 71 ms")
    answer = search.Answer(372, (372, 390), search.SERVICE, broke, "confirmed", True)
    assert answer_text(answer, ["p99<50"], 10_000, 50) == (
        "Capacity: 372 req/s [372, 390] with p99<50 ms "
        "(limited by: the service — p99 at 390 req/s 71 ms)"
    )
    ceiling = search.Answer(1000, (1000, None), search.MAX_RATE, None, "confirmed", True)
    assert answer_text(ceiling, ["p99<50", "error%<1"], 1000, 50) == (
        "Capacity: at least 1000 req/s with p99<50 ms and error%<1%, held up to --max-rate "
        "1000 (limited by: max-rate)"
    )
    low = search.Answer(None, (None, 50), search.SERVICE, broke, "broke", False)
    assert answer_text(low, ["p99<50"], 1000, 50).startswith("Capacity: below 50 req/s")
    weak = search.Answer(100, (100, None), search.MAX_RATE, None, "confirmed", True, few=True)
    assert answer_text(weak, ["NoOp.p99<50"], 100, 50) == (
        "Capacity: at least 100 req/s with NoOp.p99<50 ms*, held up to --max-rate 100 "
        "(limited by: max-rate); * read from too few answers to rely on at 100 req/s"
    )


def test_the_search_path_as_a_table() -> None:
    """The report's search path: offered, sent (achieved) and answered rate, the SLO figure
    with its interval, held or what broke it ("-" where a step's level has no figure)."""
    held = judge_step({**step_level(200, 20.0, (15.0, 31.0)), "rps": 199.6}, ["p99<50"])
    broke = judge_step(step_level(400, 71.0, (64.0, 80.3), achieved=390.0), ["p99<50"])
    steps = [
        {"rate": 200, "seconds": 5, "phase": "grow", "held": True, "why": held.why,
         "limit": None, "figures": held.figures},
        {"rate": 400, "seconds": 5, "phase": "grow", "held": False, "why": broke.why,
         "limit": broke.limit, "figures": broke.figures},
    ]  # fmt: skip
    grid = search_grid({"slo": ["p99<50"], "steps": steps})
    assert grid["headers"][3:7] == [
        "Achieved /s",
        "Answered /s",
        "Seconds",
        "p99<50 [95% interval]",
    ]
    assert grid["tabular_data"] == [
        [1, "grow", 200, "200", "200", "5", "20 [15, 31]", "held", ""],
        [2, "grow", 400, "390", "-", "5", "71 [64, 80.3]", "broke: the service", broke.why],
    ]
    steps[0]["figures"]["slo"][0]["few"] = True  # from too few answers: marked
    assert search_grid({"slo": ["p99<50"], "steps": steps})["tabular_data"][0][6] == "20* [15, 31]"


def test_a_step_beside_another_sweep_says_so_and_so_does_the_answer() -> None:
    """Two searches on one machine share its cores: a step names the other sweep it saw, and
    the answer says the capacity may be the machine's."""
    alone, beside = step_level(400, 30, (28, 33)), step_level(500, 80, (70, 95))
    beside["other_sweeps"] = [{"pid": 4321, "run": "/ci/b/20240501-120000", "started": None}]
    records = [
        {"rate": level["rate"], "seconds": 5, "phase": search.GROW, "repeat": 1,
         "held": verdict.held, "limit": verdict.limit, "marginal": verdict.marginal,
         "why": verdict.why, "few": False, "figures": verdict.figures}
        for level in (alone, beside)
        for verdict in [judge_step(level, ["p99<50"])]
    ]  # fmt: skip
    assert records[0]["figures"]["other_sweeps"] == []
    assert records[1]["figures"]["other_sweeps"] == [4321]
    assert step_line(records[0], 1) == (
        "Step 1 (grow) 400 req/s for 5 s: held: p99 at 400 req/s 30 ms [28, 33]"
    )
    assert step_line(records[1], 2).endswith("(another ecs-load sweep ran beside it: pid 4321)")
    decided_beside = search.Answer(400, (400, 500), search.SERVICE, None, "confirmed", True)
    assert beside_text(decided_beside, records[:1]) == ""
    assert beside_text(decided_beside, records) == (
        "; but another ecs-load sweep ran on this machine at 500 req/s, where the answer was "
        "decided: they shared its cores, so the capacity may be the machine's, not the "
        "service's"
    )
    # The search went on alone below 500 and found its edge at [400, 450]: the steps beside
    # the other sweep did not decide it.
    alone_at_450 = {
        **records[1],
        "rate": 450,
        "figures": {**records[1]["figures"], "other_sweeps": []},
    }
    decided_alone = search.Answer(400, (400, 450), search.SERVICE, None, "confirmed", True)
    assert beside_text(decided_alone, [*records, alone_at_450]) == (
        "; another ecs-load sweep ran on this machine during 1 of its 3 steps, none at the "
        "rates that decide the answer (400 and 450 req/s)"
    )
