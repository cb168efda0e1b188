"""Capacity: an arrival-rate sweep's line, and a capacity search's steps judged and answered.

**A sweep's line** (`capacity`, summary.json's `capacity` of an arrival-rate sweep).
A capacity needs an objective. With thresholds (`--fail-on`), going up the rates a
level *holds* when it meets every threshold that applies to it and its service kept up
with its arrivals (ecsload.analysis.omission.fell_behind); the capacity is the
last rate that held before the first that did not (a rate that holds again above a
broken one is not counted on: it was not sustained on the way up). Without
thresholds there is no capacity (`rate` null): the line says what the knee of goodput
shows instead, the highest rate whose goodput (OK answers/s) was at least
KNEE_PERCENT of the offered rate, and the first below it. Either way, when the
generator fell behind its schedule where the rates broke (ecsload.analysis.omission:
the schedule slipped, not an absolute lateness), the line says the limit is the
generator's, not the service's.

    rate           the capacity (requests/s); null when the lowest rate broke, or without
                   thresholds
    knee           without thresholds: the knee of goodput (null when even the lowest missed)
    broken_at      the first rate that did not hold (or missed the knee), null when none
    why            what broke there, in words
    text           the line printed under the table across levels

**A search's step** (`judge_step`, for `run_load_test.sh capacity`,
ecsload.analysis.search): a step holds only when, for every SLO expression, the
figure's whole 95% interval (ecsload.analysis.intervals) is inside the objective,
it handled at least ACHIEVED_PERCENT of the offered rate with its schedule on time,
it dropped no arrival, and its service kept up with what was sent
(ecsload.analysis.omission.fell_behind: otherwise the step is the service's limit,
whatever its SLO read). A broken step is limited by errors when it dropped
arrivals (its requests in flight reached the cap), by the generator when its
schedule slipped (unless the service's own time, from the actual send, broke a
latency SLO too while the generator's process was not saturated: then its own
timing can be trusted), and otherwise by errors (an error SLO, too many errors to
read a latency) or the service.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecsload.analysis import search
from ecsload.analysis.generator import GENERATOR_BUSY_PERCENT, generator_busy
from ecsload.analysis.omission import ACHIEVED_PERCENT, fell_behind
from ecsload.analysis.sample_size import MARK, needs_text
from ecsload.analysis.thresholds import (
    NotMeasured,
    check_thresholds,
    failure_text,
    few_answers,
    measured_value,
    unit,
)
from ecsload.values import PROBE, Threshold, parse_threshold

KNEE_PERCENT = 95.0  # of the offered rate, answered OK: below, goodput has passed its knee
ERROR_METRICS = ("error%", "rate_limited%")


def generator_note(level: Mapping[str, Any]) -> str | None:
    """`the generator was behind its schedule (…)`, when it was at this level."""
    late = level.get("lateness") or {}
    if not late.get("behind"):
        return None
    return f"the generator was behind its schedule ({late.get('behind_why') or 'late'})"


def broken(level: Mapping[str, Any], thresholds: Sequence[str]) -> str | None:
    """Why `level` did not meet its thresholds, or its service did not keep up with its
    rate; None when it did both."""
    checks = check_thresholds(thresholds, [level])["thresholds"]
    failed = [f"{c['expr']} {failure_text(c)}" for c in checks if not c["passed"]]
    behind = fell_behind(level)
    return "; ".join([*failed, *([behind] if behind else [])]) or None


def capacity(levels: Sequence[Mapping[str, Any]], thresholds: Sequence[str]) -> dict[str, Any]:
    """summary.json's `capacity` of an arrival-rate sweep's levels, in rate order; its text
    ends with a caveat when a level that decides it ran beside another sweep."""
    result = held_rate(levels, thresholds) if thresholds else goodput_knee(levels)
    deciding = {result.get("rate"), result.get("knee"), result.get("broken_at")}
    result["text"] += decided_beside_text(
        [
            level["rate"]
            for level in levels
            if level["rate"] in deciding and level.get("other_sweeps")
        ]
    )
    return result


def decided_beside_text(rates: Sequence[float]) -> str:
    """`; but another ecs-load sweep ran on this machine at R req/s, …`: the caveat of a
    capacity decided at `rates` while another sweep ran beside them (nothing without any)."""
    if not rates:
        return ""
    return (
        f"; but another ecs-load sweep ran on this machine at "
        f"{' and '.join(f'{rate:g}' for rate in rates)} req/s, where the answer was decided: "
        "they shared its cores, so the capacity may be the machine's, not the service's"
    )


def held_rate(levels: Sequence[Mapping[str, Any]], thresholds: Sequence[str]) -> dict[str, Any]:
    """The highest rate whose level held the thresholds, with every lower one."""
    held = None
    for level in levels:
        why = broken(level, thresholds)
        if why is None:
            held = level
            continue
        note = generator_note(level)
        if note:
            why += f" ({note}: the limit is the generator's, not the service's)"
        at = f"{level['rate']:g}/s"
        text = (
            f"Capacity: {held['rate']:g} requests/s (the thresholds); {at} did not hold: {why}"
            if held
            else f"Capacity: below the lowest rate: {at} did not hold: {why}"
        )
        return {
            "rate": held["rate"] if held else None,
            "broken_at": level["rate"],
            "why": why,
            "text": text,
        }
    assert held is not None
    return {
        "rate": held["rate"],
        "broken_at": None,
        "why": None,
        "text": f"Capacity: at least {held['rate']:g} requests/s, the highest rate measured "
        "(the thresholds): try higher rates, or run_load_test.sh capacity",
    }


def goodput_knee(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Without an objective, no capacity: the highest rate whose goodput kept up with it."""
    knee = None
    for level in levels:
        goodput = level.get("goodput") or 0.0
        if goodput >= KNEE_PERCENT / 100 * level["rate"]:
            knee = level
            continue
        why = f"goodput {goodput:.0f}/s, {100 * goodput / level['rate']:.0f}% of the rate"
        note = generator_note(level)
        why += f" ({note})" if note else ""
        shown = f"the knee of goodput is {knee['rate']:g}/s" if knee else "no rate kept up"
        return {
            "rate": None,
            "knee": knee["rate"] if knee else None,
            "broken_at": level["rate"],
            "why": why,
            "text": f"No capacity without an objective (give --fail-on, or run "
            f"run_load_test.sh capacity --slo EXPR); {shown}: at {level['rate']:g}/s {why}",
        }
    top = levels[-1]["rate"] if levels else None
    return {
        "rate": None,
        "knee": None,
        "broken_at": None,
        "why": None,
        "text": "No capacity without an objective (give --fail-on, or run run_load_test.sh "
        f"capacity --slo EXPR); goodput kept up with every rate, up to {top:g}/s",
    }


@dataclass(frozen=True)
class Judgement:
    """A search step's verdict: held, or what limited it and why; its figures."""

    held: bool
    limit: str | None
    marginal: bool
    why: str
    figures: dict[str, Any]


def figure_interval(threshold: Threshold, level: Mapping[str, Any]) -> list[float] | None:
    """The 95% interval summary.json gives beside the figure a threshold reads, if any."""
    if threshold.scope == PROBE:
        return None
    if threshold.scope is None and threshold.metric == "error%":
        return (level.get("ci") or {}).get("error_percent")
    if threshold.metric == "rps":
        return (level.get("ci") or {}).get("rps")
    group = level["all"] if threshold.scope is None else level["types"].get(threshold.scope)
    return ((group or {}).get("ci") or {}).get(threshold.metric)


def slo_check(threshold: Threshold, level: Mapping[str, Any]) -> dict[str, Any]:
    """One SLO at one step: the figure, its interval, whether the whole interval holds."""
    check: dict[str, Any] = {"expr": threshold.text}
    try:
        value = measured_value(threshold, level)
    except NotMeasured as why:
        return {
            **check,
            "measured": None,
            "interval": None,
            "held": False,
            "marginal": False,
            "not_measured": str(why),
        }
    ci = figure_interval(threshold, level)
    low, high = (ci[0], ci[1]) if ci else (value, value)
    worst, best = (high, low) if threshold.operator.startswith("<") else (low, high)
    held = threshold.holds(value) and threshold.holds(worst)
    return {
        **check,
        "measured": round(value, 3),
        "interval": ci,
        "held": held,
        "marginal": not held and threshold.holds(best),
        "few": few_answers(threshold, level),
    }


def number(value: float) -> str:
    """Three significant figures, whole numbers from 100 on: 0.25, 42.1, 1100."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def check_text(check: Mapping[str, Any], rate: float) -> str:
    """`p99 at 390 req/s 71.2 ms [64.0, 80.3]`, or why it was not measured; a percentile from
    too few answers (errors took some of those its step planned for) marked, with what it
    needs."""
    threshold = parse_threshold(check["expr"])
    subject = check["expr"].split(threshold.operator)[0]
    if check["measured"] is None:
        return f"{subject} at {rate:g} req/s not measured ({check['not_measured']})"
    u = unit(threshold.metric).strip()
    ci = check["interval"]
    shown = f" [{number(ci[0])}, {number(ci[1])}]" if ci else ""
    few = MARK if check.get("few") else ""
    text = f"{subject} at {rate:g} req/s {number(check['measured'])}{few} {u}{shown}"
    if check["marginal"]:
        text += f", its interval across {threshold.limit:g} {u}"
    if few:
        needs = needs_text([threshold.metric.removesuffix("c")])
        text += f", from too few answers to rely on ({needs})"
    return text


def processes_needed(level: Mapping[str, Any], offered: float) -> int:
    """Locust processes (or machines) that would hold `offered`, from what each held here."""
    processes = max(1, int(level.get("users") or 1))
    achieved = (level.get("lateness") or {}).get("achieved") or 0.0
    per_process = min(achieved, offered) / processes
    if per_process <= 0:
        return processes + 1
    return max(processes + 1, math.ceil(1.25 * offered / per_process))


def service_broke(failed: Sequence[Mapping[str, Any]], level: Mapping[str, Any]) -> bool:
    """Whether a latency SLO broke on the service's own time (from each request's actual send,
    without the generator's lateness): an overloaded service makes an open generator juggle
    ever more connections, and it falls behind too, but the limit is the service's."""
    service = (level.get("all") or {}).get("service") or {}
    for check in failed:
        threshold = parse_threshold(check["expr"])
        own = service.get(threshold.metric) if threshold.scope is None else None
        if own is not None and not threshold.holds(own):
            return True
    return False


def judge_step(level: Mapping[str, Any], slo: Sequence[str]) -> Judgement:
    """Whether a search step (its level of summary.json) held the SLO, or what broke it."""
    rate = float(level["rate"])
    late = level.get("lateness") or {}
    dropped = int(level.get("dropped") or 0)
    checks = [slo_check(parse_threshold(text), level) for text in slo]
    achieved = late.get("achieved")
    figures = {
        "offered": level["rate"],
        "achieved": achieved,
        "answered": level.get("rps"),
        "requests": level["requests"],
        "error_percent": level.get("error_percent"),
        "dropped": dropped,
        "lateness_p99_ms": late.get("p99"),
        "generator_behind": bool(late.get("behind")),
        "other_sweeps": [entry["pid"] for entry in level.get("other_sweeps") or ()],
        "slo": checks,
    }
    failed = [check for check in checks if not check["held"]]
    if dropped:
        why = (
            f"{dropped} arrivals dropped at {rate:g} req/s ({level.get('max_in_flight')} in flight)"
        )
        return Judgement(False, search.ERRORS, False, why, figures)
    behind = late.get("behind") or (
        achieved is not None and achieved < ACHIEVED_PERCENT / 100 * rate
    )
    saturated = (generator_busy(level) or 0) >= GENERATOR_BUSY_PERCENT
    needed = processes_needed(level, rate)
    more = f"about {needed} Locust processes (--processes {needed}) or machines would be needed"
    if behind and (saturated or not service_broke(failed, level)):
        why = late.get("behind_why") or f"it sent {achieved:.0f}/s"
        why = f"the generator fell behind at {rate:g} req/s: {why}; {more}"
        return Judgement(False, search.GENERATOR, False, why, figures)
    behind_it = fell_behind(level)
    if not failed and behind_it:
        return Judgement(False, search.SERVICE, False, behind_it, figures)
    if not failed:
        shown = "; ".join(check_text(check, rate) for check in checks)
        return Judgement(True, None, False, shown, figures)
    errors = any(
        check["measured"] is None or parse_threshold(check["expr"]).metric in ERROR_METRICS
        for check in failed
    )
    if saturated and not errors:  # on its schedule, but its own queueing is in every latency
        why = (
            f"the generator was saturated at {rate:g} req/s ({generator_busy(level):.0f}% "
            f"busy), so its latencies include its own queueing; {more}"
        )
        return Judgement(False, search.GENERATOR, False, why, figures)
    why = "; ".join(check_text(check, rate) for check in failed)
    marginal = all(check["marginal"] for check in failed)
    return Judgement(False, search.ERRORS if errors else search.SERVICE, marginal, why, figures)


def objective_text(slo: Sequence[str]) -> str:
    """`p99<50 ms and error%<1%`."""
    return " and ".join(expr + unit(parse_threshold(expr).metric) for expr in slo)


LIMIT_WORDS = {
    search.SERVICE: "the service",
    search.ERRORS: "errors",
    search.GENERATOR: "the generator",
    search.MAX_RATE: "max-rate",
}


def answer_text(answer: search.Answer, slo: Sequence[str], max_rate: int, min_rate: int) -> str:
    """`Capacity: 372 req/s [358, 386] with p99<50 ms (limited by: the service — …)`."""
    objective = objective_text(slo)
    step = answer.limiting_step
    because = f"{LIMIT_WORDS[answer.limited_by]} — {step.why}" if step else ""
    if answer.rate is None and answer.limited_by == search.GENERATOR:
        return (
            f"Capacity: not measured: the generator could not send the lowest rate asked, "
            f"{min_rate} req/s (limited by: {because}): the generator's limit, not the "
            "service's"
        )
    if answer.rate is None:
        return (
            f"Capacity: below {min_rate} req/s, the lowest rate asked, with {objective} "
            f"(limited by: {because}): give a lower --min-rate"
        )
    lo, hi = answer.interval
    confirmed = "" if answer.confirmed else f" (not confirmed: {answer.stopped})"
    if answer.few:  # errors took some of the answers its step planned for
        objective += MARK
        confirmed += f"; {MARK} read from too few answers to rely on at {answer.rate} req/s"
    if answer.limited_by == search.MAX_RATE:
        return (
            f"Capacity: at least {answer.rate} req/s with {objective}, held up to --max-rate "
            f"{max_rate} (limited by: max-rate){confirmed}"
        )
    if answer.limited_by == search.GENERATOR:
        return (
            f"Capacity: at least {answer.rate} req/s [{lo}, {hi}] with {objective}: the "
            f"generator's limit, not the service's (limited by: {because}){confirmed}"
        )
    return (
        f"Capacity: {answer.rate} req/s [{lo}, {hi}] with {objective} "
        f"(limited by: {because}){confirmed}"
    )


def search_grid(found: Mapping[str, Any]) -> dict[str, Any]:
    """The search path as a table grid (ecsload.report.tables' shape): each step's offered
    rate, the rate sent (achieved) and answered, its SLO figures with their intervals, and
    whether it held."""
    slo = found.get("slo") or []
    headers = ["Step", "Phase", "Offered /s", "Achieved /s", "Answered /s", "Seconds"]
    headers += [f"{expr} [95% interval]" for expr in slo] + ["Result", "Why it broke"]
    rows = []
    for index, step in enumerate(found.get("steps") or [], 1):
        figures = step.get("figures") or {}
        row = [index, step["phase"], step["rate"]]
        for key in ("achieved", "answered"):
            row.append("-" if figures.get(key) is None else f"{figures[key]:.0f}")
        row.append(f"{step['seconds']:g}")
        for check in figures.get("slo") or []:
            if check["measured"] is None:
                row.append("not measured")
                continue
            ci = check.get("interval")
            shown = f" [{number(ci[0])}, {number(ci[1])}]" if ci else ""
            few = MARK if check.get("few") else ""
            row.append(f"{number(check['measured'])}{few}{shown}")
        row.append("held" if step["held"] else f"broke: {LIMIT_WORDS[step['limit']]}")
        row.append("" if step["held"] else step["why"])
        rows.append(row)
    return {"tabular_data": rows, "headers": headers, "disable_numparse": True}
