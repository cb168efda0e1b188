"""The plan of a capacity search (run_load_test.sh capacity): its settings saved, and what
does not fit refused before anything starts, in one line with its exit code; the step's
Locust command line, and the capacity command's first decision."""

import json
import subprocess
from pathlib import Path

import pytest

from ecsload.plan.locust_command import level_command
from ecsload.run_folder import RunFolder
from tests.ecsload_support import assert_refused, command_env, evaluated, run_module


def search_plan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module(
        "plan", "capacity", "-o", str(tmp_path / "results"), *args, cwd=tmp_path,
        env=command_env(),
    )  # fmt: skip


def test_a_search_s_settings_are_saved_with_its_first_step(tmp_path: Path) -> None:
    result = search_plan(
        tmp_path, "--slo", "p99<50, error%<1", "--min-rate", "100", "--max-rate", "900",
        "--resolution", "2.5", "--fail-on", "capacity>=300",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shell = evaluated(result.stdout)
    plan = json.loads((Path(shell["RUN_DIR"]) / "plan.json").read_text())
    assert plan["search"] is True and plan["slo"] == ["p99<50", "error%<1"]
    assert (plan["min_rate"], plan["max_rate"], plan["resolution"]) == (100, 900, 2.5)
    assert plan["level_seconds"] == 5 and plan["number_of_requests"] == 0
    assert plan["thresholds"] == ["capacity>=300"] and shell["RATES"] == "100"
    step = level_command(plan, RunFolder(Path(shell["RUN_DIR"])).level(640), 640, False, "", "",
                         15.0)  # fmt: skip
    assert step[step.index("--level-seconds") + 1] == "15.0"
    assert step[step.index("--max-in-flight") + 1] == "960"  # 1.5 s of this step's rate
    assert step[step.index("--arrival-rate") + 1] == "640"
    decided = run_module("capacity", "next", shell["RUN_DIR"], env=command_env())
    assert decided.returncode == 0, decided.stderr
    rate, seconds, repeat, index, _at_most = decided.stdout.split()  # bash's `read`
    # p99 needs 1,000 answers: at 100/s its first step lasts 11 s, not -d's 5 (docs/capacity.md)
    assert (rate, seconds, repeat, index) == ("100", "11", "1", "1")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "capacity needs an objective: --slo EXPR"),
        (("--slo", "p99<50@100"), 2, "bad SLO 'p99<50@100'|no @LEVEL"),
        (("--slo", "capacity>100"), 2, "bad SLO|not capacity"),
        (("--slo", "p99<<50"), 2, "bad threshold 'p99<<50'"),
        (("--slo", "p99<50", "--min-rate", "500", "--max-rate", "100"), 2,
         "--min-rate 500 (option) is above --max-rate 100 (option)"),
        (("--slo", "p99<50", "--rates", "10 20"), 2, "rates does not go with capacity"),
        (("--slo", "p99<50", "-n", "100"), 2, "number_of_requests does not go with capacity"),
        (("--slo", "p99<50", "--fail-on", "p99<50"), 2,
         "with capacity, --fail-on gates the answer only (capacity>=R)"),
        (("--slo", "p99<50", "--resolution", "0"), 2, "'0' is not a positive number"),
        (("--slo", "p99<50", "-d", "300"), 2, "confirmation step (900 s: 3x -d, and"),
        (("--slo", "p99<50", "--min-rate", "5", "-t", "600"), 2,
         "confirmation step (660 s: 3x the 220 s a step at --min-rate 5 needs to send 1,000 "
         "requests for its percentile's answers, and the warmup) must fit under a level's time "
         "cap (-t 600 s): raise -t or --min-rate"),
        (("--slo", "NoOp.p99<50"), 2,  # NoOp is 5% of the arrivals: 20,000 requests a step
         "confirmation step (1320 s: 3x the 440 s a step at --min-rate 50 needs to send "
         "20,000 requests"),
        (("--slo", "probe.p99<50", "--probe-rate", "1", "-t", "600"), 2,
         "confirmation step (3300 s: 3x the 1100 s a step needs for the probe's answers at "
         "--probe-rate, and the warmup)"),
        (("--slo", "p99<50", "--master"), 2, "master does not go with capacity|--processes N"),
    ],
)  # fmt: skip
def test_what_does_not_fit_a_search_is_refused_before_anything_starts(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    assert_refused(search_plan(tmp_path, *args), tmp_path, code, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--slo", "p99<50"), "slo goes with the capacity search"),
        (("--min-rate", "10"), "min_rate goes with the capacity search"),
        (("--fail-on", "capacity>=10"), "gates a capacity search's answer"),
    ],
)
def test_a_sweep_refuses_the_search_s_settings(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_module(
        "plan", "-o", str(tmp_path / "results"), *args, cwd=tmp_path, env=command_env()
    )
    assert_refused(result, tmp_path, 2, message)
