"""The plan's verdict settings: thresholds, baseline, tolerance, run noise, fail on regression.

A bad threshold and a baseline that cannot be compared with are each refused (exit 2) in
one line, before any run folder exists.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from ecsload.analysis.comparison import level_samples
from ecsload.exits import EXIT_REGRESSION
from ecsload.sample_columns import HEADER
from tests.ecsload_support import assert_refused, evaluated, plan, run_module, write

SAMPLE = "1714564800123,NoOp,1,1,200,1.234,measure,,0.000\n"


def make_baseline(
    folder: Path, endpoint: str | None = None, samples: str = HEADER + SAMPLE
) -> Path:
    """A finished run's folder as the harness leaves it, with one level of 10 users."""
    (folder / "level-10").mkdir(parents=True)
    write(folder / "plan.json", json.dumps({"endpoint": endpoint, "concurrency": [10]}))
    write(folder / "summary.json", json.dumps({"version": 2, "levels": [{"users": 10}]}))
    write(folder / "level-10" / "samples.csv", samples)
    return folder


def saved_plan(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads((Path(evaluated(result.stdout)["RUN_DIR"]) / "plan.json").read_text())


def test_thresholds_from_options_and_commas_are_saved_canonical(tmp_path: Path) -> None:
    result = plan(
        tmp_path,
        "-c",
        "10 25",
        "--fail-on",
        "p95<500, noop.P99<50",
        "--fail-on",
        "error%<1@top",
        "--fail-on",
        "p95<300@25",
    )

    assert result.returncode == 0, result.stderr
    saved = saved_plan(result)
    assert saved["thresholds"] == ["p95<500", "NoOp.p99<50", "error%<1@top", "p95<300@25"]
    assert saved["sources"]["thresholds"] == "option"
    assert "THRESHOLDS" not in evaluated(result.stdout)  # the verdict reads plan.json


def test_verdict_settings_from_a_config_file(tmp_path: Path) -> None:
    make_baseline(tmp_path / "runs" / "A")
    config = write(
        tmp_path / "c.json",
        json.dumps(
            {
                "concurrency": [10],
                "thresholds": ["NoOp.p99<50"],
                "baseline": "runs/A",
                "tolerance": 20,
                "run_noise": 12.5,
                "fail_on_regression": True,
            }
        ),
    )

    saved = saved_plan(plan(tmp_path, str(config)))

    assert saved["thresholds"] == ["NoOp.p99<50"]
    assert saved["baseline"] == str(tmp_path / "runs" / "A")  # relative to the config's folder
    assert (saved["tolerance"], saved["run_noise"], saved["fail_on_regression"]) == (20, 12.5, True)


def test_a_baseline_of_the_local_node_fits_whatever_port_it_had(tmp_path: Path) -> None:
    make_baseline(tmp_path / "A")
    result = plan(tmp_path, "-c", "10", "--baseline", str(tmp_path / "A"), "--fail-on-regression")
    assert result.returncode == 0, result.stderr
    remote = make_baseline(tmp_path / "B", endpoint="https://api.example.com")
    result = plan(
        tmp_path,
        "--baseline",
        str(remote),
        "--no-credentials",
        ECS_ENDPOINT="https://api.example.com/",
    )
    assert result.returncode == 0, result.stderr


BAD_THRESHOLDS = [
    (["--fail-on", "p96<5"], "argument --fail-on: bad threshold 'p96<5': unknown metric 'p96'"),
    (["--fail-on", "p95=5"], "bad threshold 'p95=5': unknown operator '='|allowed: "),
    (["--fail-on", "Nop.p95<5"], "unknown request type 'Nop'|Health-Check-Quick"),
    (["--fail-on", "p95<fast"], "'fast' is not a number of 0 or more"),
    (
        ["-c", "10 20", "--fail-on", "p95<300@25"],
        "threshold 'p95<300@25': this run has no level of 25 users (its levels: 10 20)",
    ),
    (
        ["--probe-rate", "0", "--fail-on", "probe.p99<20"],
        "threshold 'probe.p99<20' reads the probe, but --probe-rate is 0",
    ),
    (["--fail-on-regression"], "fail_on_regression needs a baseline"),
    (["--tolerance", "-5"], "argument --tolerance: '-5' is not a number of 0 or more"),
    (["--run-noise", "lots"], "argument --run-noise: 'lots' is not a number of 0 or more"),
]


@pytest.mark.parametrize(("args", "message"), BAD_THRESHOLDS)
def test_bad_thresholds_and_switches_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    assert_refused(plan(tmp_path, *args), tmp_path, 2, message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"thresholds": ["p95<5", "p95<<5"]}', "thresholds: bad threshold 'p95<<5'"),
        ('{"thresholds": "p95<5"}', 'thresholds: "p95<5" is not a list of thresholds'),
    ],
)
def test_a_bad_threshold_in_a_config_file_is_a_usage_error_too(
    tmp_path: Path, text: str, message: str
) -> None:
    config = write(tmp_path / "c.json", text)
    assert_refused(plan(tmp_path, str(config)), tmp_path, 2, message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tolerance": "10%"}', 'tolerance: "10%" is not a number of 0 or more'),
        ('{"fail_on_regression": "yes"}', 'fail_on_regression: "yes" is not true or false'),
        ('{"baseline": 3}', "baseline: 3 is not a string"),
    ],
)
def test_bad_comparison_settings_in_a_config_file(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "c.json", text)
    assert_refused(plan(tmp_path, str(config)), tmp_path, 2, message)


def bad_baselines(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Folders that are not usable baselines, and what the error says about each."""
    other = make_baseline(tmp_path / "other", endpoint="https://api.example.com")
    old = make_baseline(tmp_path / "old", samples="timestamp_ms,request_type\n1,NoOp\n")
    empty = make_baseline(tmp_path / "empty", samples=HEADER)
    unfinished = make_baseline(tmp_path / "unfinished")
    (unfinished / "summary.json").unlink()
    lost = make_baseline(tmp_path / "lost")
    (lost / "level-10" / "samples.csv").unlink()
    return {
        "missing": (tmp_path / "none", "is not a folder: give a previous run's results/<run>"),
        "another endpoint": (
            other,
            "it ran against https://api.example.com, this run against the local ECS node",
        ),
        "older format": (old, "is from an older ecs-load (no phase column)"),
        "no samples": (empty, "it has no samples at 10 users"),
        "no summary": (unfinished, "it has no summary.json: give the folder of a run that ended"),
        "samples gone": (lost, "it has no samples at 10 users"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "another endpoint", "older format", "no samples", "no summary", "samples gone"],
)
def test_a_baseline_that_cannot_be_compared_with_is_refused_before_anything_starts(
    tmp_path: Path, case: str
) -> None:
    folder, message = bad_baselines(tmp_path)[case]
    result = plan(tmp_path, "--baseline", str(folder))
    assert_refused(result, tmp_path, 2, f"option: baseline {folder}: |{message}")


def measured_rows(count: int) -> str:
    return "".join(f"{1714564800123 + i},NoOp,1,1,200,1.234,measure,\n" for i in range(count))


def hostile_baselines(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Baselines whose documents are broken deep inside (issue 19, cases 4 and 10): the plan
    reads them whole, as the comparison will, and refuses each in one line."""
    corrupt = make_baseline(
        tmp_path / "corrupt",
        samples=HEADER
        + measured_rows(98)
        + "1714564800999,NoOp,1,1,200,fast,measure,\n"
        + measured_rows(50),
    )
    cases = {"corrupt at row 99": (corrupt, "samples.csv is malformed")}
    for name, document, message in [
        ("levels not objects", {"levels": [1, 2]}, "is not of type 'object'"),
        ("levels a string", {"levels": "ab"}, "[\"levels\"]: 'ab' is not of type 'array'"),
        ("users not a number", {"levels": [{"users": "²"}]}, "'²' is not of type 'integer'"),
        ("generator a list", {"levels": [{"users": 10, "generator": [1]}]}, "is not of type"),
    ]:
        folder = make_baseline(tmp_path / name)
        write(folder / "summary.json", json.dumps(document))
        cases[name] = (folder, f"its summary.json is not a run's summary|{message}")
    twice = make_baseline(tmp_path / "twice")
    write(twice / "summary.json", json.dumps({"levels": [{"users": 10}, {"users": 10}]}))
    cases["users twice"] = (twice, "its summary.json names a level twice (levels: [10, 10])")
    deep = make_baseline(tmp_path / "deep")
    write(deep / "summary.json", "[" * 100_000 + "]" * 100_000)
    cases["nested 100,000 deep"] = (
        deep,
        "its summary.json cannot be read: it is nested too deeply",
    )
    fifo = make_baseline(tmp_path / "fifo")
    (fifo / "summary.json").unlink()
    os.mkfifo(fifo / "summary.json")
    cases["a FIFO"] = (fifo, "its summary.json is a FIFO (named pipe), not a regular file")
    device = make_baseline(tmp_path / "device")
    (device / "level-10" / "samples.csv").unlink()
    (device / "level-10" / "samples.csv").symlink_to("/dev/zero")
    cases["a device"] = (device, "samples.csv is a character device, not a regular file")
    return cases


@pytest.mark.parametrize(
    "case",
    [
        "corrupt at row 99",
        "levels not objects",
        "levels a string",
        "users not a number",
        "users twice",
        "generator a list",
        "nested 100,000 deep",
        "a FIFO",
        "a device",
    ],
)
def test_a_baseline_is_read_whole_by_the_plan_with_the_comparisons_readers(
    tmp_path: Path, case: str
) -> None:
    folder, message = hostile_baselines(tmp_path)[case]
    result = plan(tmp_path, "-c", "10", "--baseline", str(folder))
    assert_refused(result, tmp_path, 2, f"option: baseline {folder}: |{message}")


def test_a_baseline_without_a_level_of_this_run_is_refused(tmp_path: Path) -> None:
    folder = make_baseline(tmp_path / "A")  # one level, of 10 users
    result = plan(tmp_path, "-c", "7 8", "--baseline", str(folder), "--fail-on-regression")
    assert_refused(
        result,
        tmp_path,
        2,
        "it has no level in common with this run (its levels 10 users; this run's levels 7 8 "
        "users)",
    )


def test_closed_users_and_arrival_rates_are_never_compared(tmp_path: Path) -> None:
    closed = make_baseline(tmp_path / "A")  # 10 users
    result = plan(tmp_path, "--rates", "10", "--baseline", str(closed), "--fail-on-regression")
    assert_refused(
        result,
        tmp_path,
        2,
        "its levels 10 users and this run's levels 10 req/s are not the same kind of level",
    )
    rates = make_baseline(tmp_path / "B")
    (rates / "level-10").rename(rates / "level-200")
    level = {"users": 1, "model": "open", "rate": 200}
    write(rates / "summary.json", json.dumps({"version": 2, "levels": [level]}))
    result = plan(tmp_path, "-c", "1 200", "--baseline", str(rates))
    assert_refused(
        result, tmp_path, 2, "its levels 200 req/s and this run's levels 1 200 users are not"
    )
    result = plan(tmp_path, "--rates", "100 200", "--baseline", str(rates))
    assert result.returncode == 0, result.stderr  # rate runs are paired by rate
    assert list(level_samples(rates)) == [200]


def test_only_the_levels_a_summary_names_are_read(tmp_path: Path) -> None:
    folder = make_baseline(tmp_path / "A")
    (folder / "level-²").mkdir()
    write(folder / "level-²" / "samples.csv", HEADER + SAMPLE)
    result = plan(tmp_path, "-c", "10", "--baseline", str(folder))
    assert result.returncode == 0, result.stderr
    assert list(level_samples(folder)) == [10]


def test_the_verdict_refuses_a_comparison_with_no_level_in_common(tmp_path: Path) -> None:
    # What the plan refuses can still happen to the verdict (the folder changed since):
    # "same" over no level at all would let --fail-on-regression pass.
    baseline = make_baseline(tmp_path / "A")  # 10 users
    run = make_baseline(tmp_path / "B")
    (run / "level-10").rename(run / "level-7")
    write(run / "summary.json", json.dumps({"version": 2, "levels": [{"users": 7}]}))
    plan_json = {"baseline": str(baseline), "tolerance": 10, "run_noise": 20}
    write(run / "plan.json", json.dumps(plan_json | {"fail_on_regression": True}))

    result = run_module("verdict", str(run), timeout=60)

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"python -m ecsload.commands.verdict: baseline {baseline}: no level of this run could "
        "be compared with it (levels only in the baseline: [10], only in this run: [7])"
    ]
    assert not (run / "comparison.json").exists()


@pytest.mark.parametrize("slower", [False, True])
def test_a_gate_on_levels_measured_once_is_judged_against_the_drift_floor(
    tmp_path: Path, slower: bool
) -> None:
    """One repeat per run: a gross change (4x) is slower and fails the gate (exit 7); an
    identical run is `not judged` (within the drift floor), passes, and comparison.txt
    says the smallest change it could have seen."""

    def rows(factor: int) -> str:
        return "".join(
            f"{1714564800000 + 10 * i},NoOp,{i % 10},1,200,{factor * (1 + i % 7)},measure,,0.000\n"
            for i in range(500)
        )

    baseline = make_baseline(tmp_path / "A", samples=HEADER + rows(1))
    run = make_baseline(tmp_path / "B", samples=HEADER + rows(4 if slower else 1))
    plan_json = {"baseline": str(baseline), "tolerance": 10, "run_noise": 0}
    write(run / "plan.json", json.dumps(plan_json | {"fail_on_regression": True}))

    result = run_module("verdict", str(run), timeout=60)

    comparison = json.loads((run / "comparison.json").read_text())
    text = " ".join((run / "comparison.txt").read_text().split())
    assert "measured in 1 and 1 repeat(s): judged against the drift between runs" in text
    assert comparison["levels"][0]["drift_floor"]["p50"] == 20.0
    if slower:
        assert comparison["verdict"] == "slower"
        assert result.returncode == EXIT_REGRESSION, result.stderr
    else:
        assert comparison["verdict"] == "not judged"
        assert "could see: p95 ±" in text
        assert (result.returncode, result.stderr) == (0, "")


def test_fail_on_says_that_it_replaces_the_config_files_thresholds(tmp_path: Path) -> None:
    # Issue 19, case 15: options override the config file; here a user adding one check
    # would lose the file's others without a word, so the plan says it.
    config = write(tmp_path / "c.json", json.dumps({"thresholds": ["error%<1", "p99<50"]}))
    result = plan(tmp_path, str(config), "--fail-on", "p95<100")
    assert result.returncode == 0, result.stderr
    assert saved_plan(result)["thresholds"] == ["p95<100"]
    assert result.stderr.splitlines() == [
        f"run_load_test.sh: note: --fail-on replaces the 2 threshold(s) of config file {config}: "
        "give them with --fail-on as well to keep them"
    ]
