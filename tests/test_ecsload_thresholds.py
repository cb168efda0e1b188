"""Threshold expressions (ecsload.values.parse_threshold), their checks, table and junit.xml."""

from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure, JUnitXml

from ecsload.analysis.thresholds import check_thresholds
from ecsload.model import REQUEST_TYPES
from ecsload.report.junit import write_junit
from ecsload.report.threshold_table import thresholds_answer, thresholds_table
from ecsload.values import THRESHOLD_METRICS, Threshold, parse_threshold, parse_thresholds
from ecsload.vocabulary import HEADLINE, PERCENTILES
from tests.ecsload_support import ROOT, assert_refused, plan

ISSUE_EXAMPLES = {
    "p95<500": (None, "p95", "<", 500, None),
    "p99<=800": (None, "p99", "<=", 800, None),
    "max<2000": (None, "max", "<", 2000, None),
    "Tasks-Happy-Path.p99<800": ("Tasks-Happy-Path", "p99", "<", 800, None),
    "NoOp.p50<50": ("NoOp", "p50", "<", 50, None),
    "error%<1": (None, "error%", "<", 1, None),
    "Tasks-Happy-Path.error%<0.5": ("Tasks-Happy-Path", "error%", "<", 0.5, None),
    "rate_limited%<1": (None, "rate_limited%", "<", 1, None),
    "rps>=100": (None, "rps", ">=", 100, None),
    "probe.p99<20": ("probe", "p99", "<", 20, None),
    "p95<300@25": (None, "p95", "<", 300, 25),
    "error%<1@top": (None, "error%", "<", 1, "top"),
}


@pytest.mark.parametrize("text", ISSUE_EXAMPLES)
def test_every_example_of_the_issue_parses(text: str) -> None:
    threshold = parse_threshold(text)
    parts = (threshold.scope, threshold.metric, threshold.operator, threshold.limit)
    assert (*parts, threshold.level) == ISSUE_EXAMPLES[text]
    assert threshold.text == text


def test_spaces_and_case_are_forgiven_and_the_text_is_canonical() -> None:
    assert parse_threshold(" noop . P99 <= 50 @ TOP ").text == "NoOp.p99<=50@top"
    assert parse_thresholds("p95<500, NoOp.p99<50") == ["p95<500", "NoOp.p99<50"]


def test_the_metrics_are_the_summarys_percentiles() -> None:
    raw = [m for m in THRESHOLD_METRICS if m.startswith("p") and not m.endswith("c")]
    assert raw == [f"p{p}" for p in PERCENTILES]
    corrected = [m for m in THRESHOLD_METRICS if m.startswith("p") and m.endswith("c")]
    assert corrected == [f"p{p}c" for p in HEADLINE]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("p96<5", "unknown metric 'p96' for a level"),
        ("NoOp.rps>1", "unknown metric 'rps' for NoOp"),
        ("probe.p60<3", "unknown metric 'p60' for the probe"),
        ("Noop2.p50<1", "unknown request type 'Noop2'"),
        ("p95=5", "unknown operator '='"),
        ("p95==5", "unknown operator '=='"),
        ("p95!=5", "unknown operator '!='"),
        ("p95<abc", "'abc' is not a number of 0 or more"),
        ("p95<-1", "'-1' is not a number of 0 or more"),
        ("p95<nan", "'nan' is not a number of 0 or more"),
        ("error%<101", "error% is a percentage: 101 is over 100"),
        ("p95<5@x", "level 'x' is not a number of users (a rate with --rates) or top"),
        ("p95<5@0", "level '0' is not a number of users (a rate with --rates) or top"),
        (
            "p95<500@²",
            "level '²' is not a number of users (a rate with --rates) or top",
        ),  # issue 19, case 12
        ("p95<500@", "level '' is not a number of users (a rate with --rates) or top"),
        (".p95<5", "no request type before the '.'"),
        ("p95", "it needs a metric, an operator and a number"),
        ("<5", "it needs a metric, an operator and a number"),
        ("", "it needs a metric, an operator and a number"),
    ],
)
def test_a_bad_expression_is_named_with_its_problem_and_what_is_allowed(
    text: str, problem: str
) -> None:
    with pytest.raises(ValueError) as raised:
        parse_threshold(text)
    message = str(raised.value)
    assert message.startswith(f"bad threshold {text.strip()!r}: {problem}; allowed: ")
    assert "[TYPE.]METRIC OP NUMBER[@USERS|@RATE|@top]" in message
    assert " ".join(REQUEST_TYPES) in message
    assert "\n" not in message


def test_holds_honours_each_operator() -> None:
    def holds(operator: str, measured: float) -> bool:
        return Threshold("", None, "p95", operator, 10, None).holds(measured)

    assert [holds("<", v) for v in (9, 10, 11)] == [True, False, False]
    assert [holds("<=", v) for v in (9, 10, 11)] == [True, True, False]
    assert [holds(">", v) for v in (9, 10, 11)] == [False, False, True]
    assert [holds(">=", v) for v in (9, 10, 11)] == [False, True, True]


def level(users: int, noop_p99: float | None, errors: int = 0) -> dict[str, Any]:
    """A summary.json LEVEL with the figures thresholds read."""
    figures = {"ok": 1000 - errors, "error": errors, "rate_limited": errors // 2, "no_answer": 0}
    figures |= {f"p{p}": float(p) for p in PERCENTILES} | {"min": 0.5, "max": 120.0}
    types = {"Tasks-Happy-Path": dict(figures)}
    if noop_p99 is not None:
        types["NoOp"] = {**figures, "ok": 20, "error": 0, "rate_limited": 0, "p99": noop_p99}
    return {
        "users": users,
        "started": "2024-05-01T12:00:00.000Z",
        "rps": 250.0 * users / 10,
        "all": figures,
        "types": types,
        "probe": {"rate": 2, "count": 10, "errors": 1, "p50": 1.0, "p95": 2.0, "p99": 3.0},
    }


def test_each_threshold_is_checked_at_the_levels_it_names() -> None:
    levels = [level(10, 40), level(20, 60), level(30, None, errors=20)]
    texts = ["p95<500", "NoOp.p99<50", "error%<1@top", "rps>=600@30", "probe.error%<20"]

    verdict = check_thresholds(texts, levels)

    rows = [(c["expr"], c["level"], c["measured"], c["passed"]) for c in verdict["thresholds"]]
    assert rows == [
        ("p95<500", 10, 95.0, True),
        ("NoOp.p99<50", 10, 40.0, True),
        ("probe.error%<20", 10, 10.0, True),
        ("p95<500", 20, 95.0, True),
        ("NoOp.p99<50", 20, 60.0, False),
        ("probe.error%<20", 20, 10.0, True),
        ("p95<500", 30, 95.0, True),
        ("NoOp.p99<50", 30, None, False),  # no NoOp request at 30 users: not passed
        ("error%<1@top", 30, 2.0, False),
        ("rps>=600@30", 30, 750.0, True),
        ("probe.error%<20", 30, 10.0, True),
    ]
    assert verdict["passed"] is False


def test_the_table_names_every_check_and_each_failure() -> None:
    verdict = check_thresholds(["p95<500", "NoOp.p99<50"], [level(10, 40), level(20, 60)])

    table = thresholds_table(verdict)

    lines = table.splitlines()
    assert lines[1] == "Thresholds: 1 of 4 checks FAILED"
    assert lines[3].split() == ["Threshold", "Users", "Limit", "Measured", "Result"]
    assert lines[-1].split() == ["NoOp.p99<50", "20", "<", "50", "ms", "60.00", "FAIL"]
    assert sum("pass" in line for line in lines) == 3
    passed = check_thresholds(["p95<500"], [level(10, 40)])
    assert thresholds_table(passed).splitlines()[1] == "Thresholds: all 1 checks passed"


def test_junit_has_a_suite_per_level_a_case_per_check_and_failures_with_the_figures(
    tmp_path: Path,
) -> None:
    levels = [level(10, 40), level(20, 60), level(30, None)]
    verdict = check_thresholds(["p95<500", "NoOp.p99<50", "max<100@top"], levels)

    write_junit(tmp_path / "junit.xml", verdict, levels)

    report = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    suites = {suite.name: suite for suite in report}
    assert list(suites) == ["level 10 users", "level 20 users", "level 30 users"]
    assert [case.name for case in suites["level 30 users"]] == [
        "p95<500",
        "NoOp.p99<50",
        "max<100@top",
    ]
    failures = {
        (suite.name, case.name): case.result[0].message
        for suite in report
        for case in suite
        if not case.is_passed
    }
    assert failures == {
        ("level 20 users", "NoOp.p99<50"): "measured 60.00 ms, limit < 50 ms",
        (
            "level 30 users",
            "NoOp.p99<50",
        ): "not measured (no NoOp request was sent at 30 users), limit < 50 ms",
        ("level 30 users", "max<100@top"): "measured 120.00 ms, limit < 100 ms",
    }
    assert all(
        isinstance(case.result[0], Failure) for suite in report for case in suite if case.result
    )
    assert (report.tests, report.failures) == (7, 3)


def test_a_check_of_a_percentile_from_too_few_answers_is_marked() -> None:
    few = level(10, 40)
    few["types"]["NoOp"]["few"] = ["p95", "p99"]
    few["all"]["corrected"] = {"p50": 1.0, "p95": 700.0, "p99": 950.0}
    verdict = check_thresholds(["NoOp.p99<50", "p95<500", "p99c<500"], [few])
    checks = verdict["thresholds"]
    assert [(c["expr"], c["measured"], c["few"]) for c in checks] == [
        ("NoOp.p99<50", 40.0, True),
        ("p95<500", 95.0, False),
        ("p99c<500", 950.0, False),  # the corrected p99 of a closed level
    ]
    table = thresholds_table(verdict).splitlines()
    assert table[5].split()[-2] == "40.00*"
    assert table[-1].startswith("*: a percentile from too few answers")


def test_top_is_the_highest_level_whatever_order_the_sweep_ran() -> None:
    # Issue 19, case 14: `-c "6 3"` runs 6 first; @top is 6, the most users, as documented.
    verdict = check_thresholds(["p95<500@top"], [level(6, 40), level(3, 40)])
    assert [check["level"] for check in verdict["thresholds"]] == [6]
    docs = (ROOT / "docs" / "verdicts.md").read_text()
    assert "only at the highest level (the most users, whatever order `-c` gives" in docs
    assert "last level" not in docs


def test_a_port_in_other_digits_is_a_usage_error(tmp_path: Path) -> None:
    # Issue 19, case 12: "²".isdigit() is true, int("²") fails.
    result = plan(tmp_path, "--worker", "--master-host", "127.0.0.1", "--master-port", "²")
    assert_refused(result, tmp_path, 2, "argument --master-port: '²' is not a whole number")


def test_the_terminals_answer_is_one_line_or_the_first_failures() -> None:
    passed = check_thresholds(["p95<500"], [level(10, 40), level(20, 40)])
    assert thresholds_answer(passed) == "Thresholds: all 2 checks passed"
    levels = [level(n, 60) for n in (10, 20, 30, 40, 50)]
    failed = check_thresholds(["p95<500", "NoOp.p99<50"], levels)
    assert thresholds_answer(failed).splitlines() == [
        "Thresholds: 5 of 10 checks FAILED (thresholds.txt)",
        "  FAIL NoOp.p99<50 at 10 users: measured 60.00 ms, limit < 50 ms",
        "  FAIL NoOp.p99<50 at 20 users: measured 60.00 ms, limit < 50 ms",
        "  FAIL NoOp.p99<50 at 30 users: measured 60.00 ms, limit < 50 ms",
        "  … and 2 more",
    ]


def test_an_arrival_rate_sweeps_checks_name_rates(tmp_path: Path) -> None:
    levels = [{**level(1, 60), "rate": rate, "model": "open"} for rate in (100, 200)]
    verdict = check_thresholds(["NoOp.p99<50@200", "Version.p99<50@top"], levels)
    assert [(c["level"], c["label"]) for c in verdict["thresholds"]] == [
        (200, "200/s"),
        (200, "200/s"),
    ]
    table = thresholds_table(verdict)
    assert table.splitlines()[3].split() == [
        "Threshold",
        "Rate",
        "/s",
        "Limit",
        "Measured",
        "Result",
    ]
    assert (
        "Not measured: Version.p99<50@top at 200/s: no Version request was sent at 200/s" in table
    )
    assert " users" not in table
    write_junit(tmp_path / "junit.xml", verdict, levels)
    suites = {suite.name: list(suite) for suite in JUnitXml.fromfile(str(tmp_path / "junit.xml"))}
    assert list(suites) == ["level 100/s", "level 200/s"]
    assert [case.name for case in suites["level 200/s"]] == [
        "NoOp.p99<50@200",
        "Version.p99<50@top",
    ]


def test_a_rate_the_sweep_does_not_have_is_refused_as_a_rate(tmp_path: Path) -> None:
    result = plan(tmp_path, "--rates", "10 15 20 25", "--fail-on", "p99<50@200")
    assert result.returncode == 2
    assert "this run has no level of 200/s (its rates: 10 15 20 25)" in result.stderr
    assert plan(tmp_path, "--rates", "10 200", "--fail-on", "p99<50@200").returncode == 0
