"""A figure that could not be measured never passes (issue 19, case 1 and its principle).

A request with no answer (status 0: refused, reset, cut at the time cap) is an error,
counted and shown, and never a latency: not in the percentiles, the thresholds, the
comparison or the saturation line. A latency or throughput threshold on a level with
no answer, or with more than MAX_ERROR_PERCENT of its requests failed, fails as "not
measured" with the reason. The samples are real samples.csv files, summarised by the
real command.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from ecsload.analysis.comparison import ALL, answered, level_samples, point
from ecsload.analysis.saturation import saturation
from ecsload.analysis.stats import group_statistics
from ecsload.analysis.thresholds import check_thresholds
from ecsload.report.threshold_table import thresholds_table
from ecsload.vocabulary import MAX_ERROR_PERCENT
from tests.ecsload_support import run_module
from tests.test_ecsload_summarize import START_MS, Row, write_level

CAPPED = "no answer before the time cap"
REFUSED = "ConnectionRefusedError"


def rows(answered: int, capped: int, refused: int, latency: float = 2.0) -> list[Row]:
    """Tasks-Happy-Path requests, one every 10 ms: `answered` in `latency` ms, `capped`
    waiting 3 s for nothing, `refused` failing in 0.5 ms."""
    kinds = [(1, 200, latency, "")] * answered
    kinds += [(0, 0, 3000.0, CAPPED)] * capped + [(0, 0, 0.5, REFUSED)] * refused
    return [
        (START_MS + 10 * i, "Tasks-Happy-Path", i % 5, ok, status, time, "measure", error)
        for i, (ok, status, time, error) in enumerate(kinds)
    ]


def summarised(folder: Path, level_rows: list[Row], users: int = 5) -> dict:
    """The level's summary.json LEVEL, as `summarize level` writes it."""
    write_level(folder, level_rows, {"users": users, "host": "http://127.0.0.1:9"})
    result = run_module("summarize", "level", str(folder), timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads((folder / "summary.json").read_text())["levels"][0]


def test_no_answer_is_an_error_never_a_latency() -> None:
    ok = np.array([True, False, False, True])
    status = np.array([200, 0, 0, 200])
    times = np.array([2.0, 3000.0, 0.5, 4.0])

    stats = group_statistics(ok, status, times, np.arange(4.0))

    assert (stats["ok"], stats["error"], stats["no_answer"]) == (2, 2, 2)
    assert (stats["min"], stats["max"], stats["p50"]) == (2.0, 4.0, 3.0)


def test_a_group_with_no_answer_has_no_latency_at_all() -> None:
    stats = group_statistics(np.zeros(3, bool), np.zeros(3), np.array([3000.0] * 3), np.zeros(3))

    assert (stats["error"], stats["no_answer"]) == (3, 3)
    assert {stats[key] for key in ("min", "p50", "p95", "p99", "max", "m", "b")} == {None}


def test_the_level_table_shows_errors_and_no_latency_for_a_dead_service(tmp_path: Path) -> None:
    level = summarised(tmp_path / "level-5", rows(0, 40, 60))

    assert level["all"]["error"] == 100
    assert level["all"]["p95"] is None
    table = (tmp_path / "level-5" / "summary.txt").read_text()
    row = next(line for line in table.splitlines() if line.startswith("Tasks-Happy-Path"))
    assert row.split()[1:4] == ["0", "100", "-"]


def test_a_service_that_never_answers_fails_latency_thresholds_as_not_measured(
    tmp_path: Path,
) -> None:
    # The case: every request capped at the time cap (p95 would read 3,000 ms).
    level = summarised(tmp_path / "level-5", rows(0, 100, 0))
    texts = ["p95<5000", "max<5000", "Tasks-Happy-Path.p99<4000", "rps>=1", "error%<=100"]

    verdict = check_thresholds(texts, [level])

    checks = {check["expr"]: check for check in verdict["thresholds"]}
    assert verdict["passed"] is False
    for text in texts[:4]:
        assert checks[text]["passed"] is False
        assert checks[text]["measured"] is None
        assert "was answered" in checks[text]["not_measured"]
    assert checks["error%<=100"]["measured"] == 100.0  # the error share is measured
    table = thresholds_table(verdict)
    assert "Thresholds: 4 of 5 checks FAILED" in table
    assert "Not measured: p95<5000 at 5 users: none of the requests at 5 users was answered" in (
        table
    )


def test_fast_refusals_do_not_pull_the_percentiles_down(tmp_path: Path) -> None:
    # The second case: the node killed, 81% of the requests refused in 0.5 ms.
    level = summarised(tmp_path / "level-5", rows(19, 0, 81, latency=40.0))

    assert level["all"]["p95"] == 40.0  # the answered ones only
    verdict = check_thresholds(["p95<1000"], [level])
    [check] = verdict["thresholds"]
    assert check["passed"] is False
    assert check["not_measured"] == (
        f"81.0% of the requests at 5 users failed, over the {MAX_ERROR_PERCENT}% a latency "
        "or throughput figure allows"
    )


@pytest.mark.parametrize(("failed", "passed"), [(MAX_ERROR_PERCENT, True), (6, False)])
def test_the_error_share_a_latency_threshold_allows(
    tmp_path: Path, failed: int, passed: bool
) -> None:
    level = summarised(tmp_path / "level-5", rows(100 - failed, 0, failed))
    [check] = check_thresholds(["p95<1000"], [level])["thresholds"]
    assert check["passed"] is passed


def test_the_probe_is_judged_by_the_same_rule() -> None:
    level = {"users": 5, "probe": {"count": 10, "errors": 10}, "all": None, "types": {}}
    [check] = check_thresholds(["probe.p99<20"], [level])["thresholds"]
    assert check["not_measured"] == "none of the probe requests at 5 users was answered"


def test_saturation_counts_answered_requests_only(tmp_path: Path) -> None:
    levels = [
        summarised(tmp_path / "level-5", rows(100, 0, 0), users=5),
        summarised(tmp_path / "level-10", rows(0, 0, 100), users=10),
    ]

    result = saturation(levels)

    # The dead level is no measurement of throughput or latency; its errors are named.
    assert "one level was measured" in result["text"]
    two_alive = [levels[0], summarised(tmp_path / "level-20", rows(50, 0, 50), users=20)]
    assert saturation(two_alive)["errors_from_users"] == 20


def test_the_comparison_reads_answered_latencies_and_counts_every_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    level = summarised(run / "level-5", rows(60, 20, 20, latency=2.0))
    (run / "summary.json").write_text(json.dumps({"version": 2, "levels": [level]}))

    samples = level_samples(run)[5]

    assert samples.type_names == ("Tasks-Happy-Path",)
    assert int(np.count_nonzero(answered(samples))) == 60
    assert set(samples.response_time_ms[answered(samples)]) == {2.0}
    for figure in ("p50", "p95", "p99"):  # the answered latencies only
        assert point(samples, "Tasks-Happy-Path", figure) == 2.0
    assert point(samples, ALL, "error_percent") == 40.0
