"""End to end: the baseline comparison, whatever the baseline's source (a folder, `last`,
`label:X`, `history:N`), on real sweeps against the nginx stand-in.

A baseline that cannot be compared with is refused by the plan, before the first level:
no level folder exists when the script exits 2.
"""

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from ecsload.exits import EXIT_REGRESSION, EXIT_USAGE
from tests.e2e_support import TEN_MS, StandInTarget, only_run_dir, read_json
from tests.nginx_support import DELAYED_ENDPOINTS, nginx_missing

pytestmark = pytest.mark.e2e

SERVICE = TEN_MS  # ms, every endpoint


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> StandInTarget:
    if missing := nginx_missing():
        pytest.skip(missing)
    return StandInTarget(tmp_path_factory.mktemp("stand-in"))


def assert_refused_before_any_level(
    result: subprocess.CompletedProcess[str], results: Path, message: str, runs: int = 0
) -> None:
    """Exit 2 with `message`, and no run folder beyond the `runs` already in `results`."""
    assert result.returncode == EXIT_USAGE, result.stderr + result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    folders = [path for path in results.glob("*") if path.is_dir()] if results.exists() else []
    assert len(folders) == runs, folders
    assert not list(results.glob("*/level-*")) or runs


def test_a_baseline_that_cannot_be_compared_exits_2_before_the_first_level(
    target: StandInTarget, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    rates = target.sweep(results, "--rates", "20", "-d", "1", "--warmup", "0")
    assert rates.returncode == 0, rates.stderr + rates.stdout
    rate_run = only_run_dir(results)
    closed = ("-c", "20", "-d", "1")

    for baseline in (str(rate_run), "last"):
        refused = tmp_path / f"refused-{baseline == 'last'}"
        history = ("--history", str(results / "history.sqlite"))
        result = target.sweep(refused, *closed, "--baseline", baseline, *history)
        assert_refused_before_any_level(
            result,
            refused,
            "its levels 20 req/s and this run's levels 20 users are not the same kind of level",
        )
    result = target.sweep(
        results, *closed, "--baseline", "label:no-such-label", "--fail-on-regression"
    )
    assert_refused_before_any_level(result, results, "the last run labelled no-such-label", 1)


PLAN = ("-c", "3", "-d", "3", "--repeat", "3", "-r", "50", "-q")  # timed, repeated
SLOWED = dict.fromkeys(DELAYED_ENDPOINTS, 13.0)  # 1.3x


def shape(comparison: dict) -> dict[str, list[str]]:
    """A comparison.json's shape: the keys of the document, its rule, a level, a figure
    (which percentiles a level has depends on its answers: p99 needs 1,000)."""
    level = comparison["levels"][0]
    return {
        "document": sorted(comparison),
        "rule": sorted(comparison["rule"]),
        "level": sorted(level),
        "overall": sorted(key for key in level["all"] if not key.startswith("p")),
        "figure": sorted(level["all"]["p50"]),
        "type": sorted(level["types"]["Tasks-Happy-Path"]["p50"]),
    }


@pytest.mark.timeout(1200)  # seven sweeps of 3 repeats: 3-7 minutes
def test_every_baseline_source_sees_a_1_3x_slowdown_and_exits_7(
    target: StandInTarget, tmp_path: Path
) -> None:
    base = tmp_path / "base"
    for _ in range(3):  # three runs into one history: results/history.sqlite
        done = target.sweep(base, *PLAN)
        assert done.returncode == 0, done.stderr + done.stdout
    history = base / "history.sqlite"
    folder = sorted(path for path in base.iterdir() if path.is_dir())[-1]
    comparisons = {}
    cases = [
        ("identical history:3", "history:3", SERVICE, 0),
        ("last", "last", SLOWED, EXIT_REGRESSION),
        ("history:3", "history:3", SLOWED, EXIT_REGRESSION),
        ("folder", str(folder), SLOWED, EXIT_REGRESSION),
    ]
    for name, baseline, delays, code in cases:
        own = tmp_path / name.replace(" ", "-").replace(":", "-")
        own.mkdir()
        copy = own / "history.sqlite"  # each run against the same three stored runs
        with sqlite3.connect(history) as source, sqlite3.connect(copy) as copied:
            source.backup(copied)  # whole, with what its write-ahead log holds
        args = ("--baseline", baseline, "--fail-on-regression", "--history", str(copy))
        result = target.sweep(own / "results", *PLAN, *args, delays=delays)
        assert result.returncode == code, (name, result.stderr, result.stdout[-6000:])
        comparison = read_json(only_run_dir(own / "results") / "comparison.json")
        assert comparison["verdict"] == ("slower" if code else comparison["verdict"]), name
        assert comparison["verdict"] != "slower" or code, name
        comparisons[name] = comparison
    assert "3 runs" in comparisons["history:3"]["baseline"]
    assert comparisons["last"]["baseline"].startswith(f"history {tmp_path}")
    slowed = comparisons["folder"]["levels"][0]["all"]["p50"]
    assert slowed["verdict"] == "slower" and slowed["change_percent"] > 15
    shapes = {name: shape(comparison) for name, comparison in comparisons.items()}
    assert len({json.dumps(found, sort_keys=True) for found in shapes.values()}) == 1, shapes


def test_a_single_repeat_run_4x_slower_than_a_single_repeat_folder_exits_7(
    target: StandInTarget, tmp_path: Path
) -> None:
    once = ("-c", "10", "-d", "3", "-r", "50", "-q", "--no-history")
    done = target.sweep(tmp_path / "base", *once)
    assert done.returncode == 0, done.stderr + done.stdout
    baseline = only_run_dir(tmp_path / "base")
    four_times = dict.fromkeys(DELAYED_ENDPOINTS, 40.0)
    args = ("--baseline", str(baseline), "--fail-on-regression")
    result = target.sweep(tmp_path / "slowed", *once, *args, delays=four_times)
    assert result.returncode == EXIT_REGRESSION, result.stderr + result.stdout
    comparison = read_json(only_run_dir(tmp_path / "slowed") / "comparison.json")
    [level] = comparison["levels"]
    assert level["repeats"] == [1, 1] and level["drift_floor"] is not None
    assert level["all"]["p50"]["verdict"] == "slower"
    text = " ".join((only_run_dir(tmp_path / "slowed") / "comparison.txt").read_text().split())
    assert "judged against the drift between runs" in text
