"""The thresholds (`--fail-on`) checked against each level's measured figures.

Every figure is summary.json's (the measured phase only), so thresholds.txt
(ecsload.report.threshold_table), the JSON and junit.xml say what the tables say. A
check that could not be made has not passed: a figure a level does not have (a type it
never sent, no probe answer) fails it as "not measured", and so does a latency or
throughput figure (min, pNN, max, rps) when none of its requests was answered or more
than MAX_ERROR_PERCENT (ecsload.vocabulary) of them failed: the percentiles are over the
answered requests only (ecsload.analysis.stats), which then say little about the
service. The expressions were checked by the plan (ecsload.values.parse_threshold).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ecsload.analysis.documents import level_key, level_label
from ecsload.analysis.sample_size import marked
from ecsload.analysis.stats import percent
from ecsload.values import CAPACITY, PROBE, TOP_LEVEL, Threshold, parse_threshold
from ecsload.vocabulary import MAX_ERROR_PERCENT

SEARCH_LEVEL = "search"  # a capacity gate's "level": the search's answer, of no one level


def unit(metric: str) -> str:
    if metric.endswith("%"):
        return "%"
    return " req/s" if metric in ("rps", CAPACITY) else " ms"


def applies(threshold: Threshold, users: float, top: float) -> bool:
    """Whether the threshold is checked at the level of `users` (`top`: the highest level)."""
    if threshold.level is None:
        return True
    return users == (top if threshold.level == TOP_LEVEL else threshold.level)


class NotMeasured(Exception):
    """A figure a level does not have, or cannot stand for; the message says why."""


def measured_value(threshold: Threshold, level: Mapping[str, Any]) -> float:
    """The level's figure that the threshold reads; NotMeasured when it has none, or when
    many of the requests behind a latency or throughput figure failed (see trusted)."""
    metric = threshold.metric
    if threshold.scope == PROBE:
        probe = level["probe"] or {}
        if not probe.get("count"):
            raise NotMeasured(f"no probe figure at {level_label(level)}")
        errors = percent(probe["errors"], probe["count"])
        if metric == "error%":
            return errors
        trusted(errors, probe["count"] - probe["errors"], "probe requests", level_label(level))
        return probe[metric]
    figures = level["types"].get(threshold.scope) if threshold.scope else level["all"]
    what = f"{threshold.scope} requests" if threshold.scope else "requests"
    if not figures:
        raise NotMeasured(f"no {what[:-1]} was sent at {level_label(level)}")
    count = figures["ok"] + figures["error"]
    if metric == "error%":
        return percent(figures["error"], count)
    if metric == "rate_limited%":
        return percent(figures["rate_limited"], count)
    trusted(
        percent(figures["error"], count), count - figures["no_answer"], what, level_label(level)
    )
    if metric == "rps":
        value = level["rps"]
    elif metric.endswith("c"):  # corrected; an arrival-rate level's own are timed from schedule
        own = level.get("model") == "open"
        value = (figures if own else figures.get("corrected") or {}).get(metric[:-1])
    else:
        value = figures[metric]
    if value is None:
        raise NotMeasured(f"no {metric} at {level_label(level)}")
    return value


def trusted(error_percent: float, answered: int, what: str, at: str) -> None:
    """NotMeasured unless some requests were answered and at most MAX_ERROR_PERCENT failed
    (`at`: the level, `20 users` or `200/s`)."""
    if not answered:
        raise NotMeasured(f"none of the {what} at {at} was answered")
    if error_percent > MAX_ERROR_PERCENT:
        raise NotMeasured(
            f"{error_percent:.1f}% of the {what} at {at} failed, over the "
            f"{MAX_ERROR_PERCENT:g}% a latency or throughput figure allows"
        )


def few_answers(threshold: Threshold, level: Mapping[str, Any]) -> bool:
    """Whether the percentile a threshold reads came from too few answers to rely on
    (ecsload.analysis.sample_size): the check stands, and its row is marked."""
    metric = threshold.metric.removesuffix("c")
    if not metric.startswith("p") or not metric[1:].isdigit():
        return False
    if threshold.scope == PROBE:
        return marked(level.get("probe"), metric)
    figures = level["all"] if threshold.scope is None else level["types"].get(threshold.scope)
    return marked(figures, metric)


def check_thresholds(texts: Sequence[str], levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's `verdict`: every threshold at every level it applies to, level by level."""
    thresholds = [parse_threshold(text) for text in texts]
    top = max(level_key(level) for level in levels)
    checks = []
    for level in levels:
        for threshold in thresholds:
            if not applies(threshold, level_key(level), top):
                continue
            check: dict[str, Any] = {
                "expr": threshold.text,
                "level": level_key(level),
                "label": level_label(level),
            }
            try:
                measured = measured_value(threshold, level)
            except NotMeasured as why:
                check.update(measured=None, passed=False, not_measured=str(why))
            else:
                check.update(measured=round(measured, 3), passed=threshold.holds(measured))
            check["few"] = few_answers(threshold, level)
            checks.append(check)
    return {"passed": all(check["passed"] for check in checks), "thresholds": checks}


def capacity_gates(texts: Sequence[str], found: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json's `verdict` of a capacity search: each `capacity>=R` against its answer. An
    answer that is a lower bound (the generator's limit) below R could not judge R: failed."""
    checks = []
    for text in texts:
        threshold = parse_threshold(text)
        rate = found.get("rate")
        check: dict[str, Any] = {"expr": threshold.text, "level": SEARCH_LEVEL, "few": False}
        if rate is None:
            why = "no rate held the SLO" if found.get("steps") else "the search has no answer"
            check.update(measured=None, passed=False, not_measured=why)
        elif found.get("limited_by") == "generator" and not threshold.holds(rate):
            check.update(
                measured=None,
                passed=False,
                not_measured=f"the generator's limit ({rate} req/s), not the service's, came "
                "first: add --processes or machines",
            )
        else:
            check.update(measured=rate, passed=threshold.holds(rate))
        checks.append(check)
    return {"passed": all(check["passed"] for check in checks), "thresholds": checks}


def failure_text(check: Mapping[str, Any]) -> str:
    """Why a check failed, in words: `measured 62.10 ms, limit < 50 ms`."""
    threshold = parse_threshold(check["expr"])
    limit = f"limit {threshold.operator} {threshold.limit:g}{unit(threshold.metric)}"
    if check["measured"] is None:
        return f"not measured ({check['not_measured']}), {limit}"
    return f"measured {check['measured']:.2f}{unit(threshold.metric)}, {limit}"
