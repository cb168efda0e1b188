"""End to end: a hung or dead target never passes a threshold, and a dead local node is noticed.

Issue 19, cases 1 and 2: the real script against a server on 127.0.0.1 that accepts
and never answers, against a port where nothing listens, and against its own local
node killed with SIGKILL in the middle of a level (the test started that node through
the script, so it signals only its own process).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ecsload.exits import EXIT_NODE, EXIT_THRESHOLDS
from tests.e2e_support import (
    clean_env,
    level_under_way,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    script_in_background,
)
from tests.nginx_support import free_port
from tests.test_e2e_hardening import silent_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.e2e


def test_latency_thresholds_fail_as_not_measured_on_a_service_that_never_answers(
    tmp_path: Path,
    silent_server: str,  # noqa: F811
) -> None:
    env = clean_env(ECS_ENDPOINT=silent_server)
    result = run_script(
        *("-v", "-c", "5", "-n", "100", "-t", "3", "--probe-rate", "0", "--no-credentials"),
        *("--fail-on", "p95<5000", "--fail-on", "max<5000"),
        *("--fail-on", "Tasks-Happy-Path.p99<4000", "-o", str(tmp_path)),
        env=env,
    )

    assert result.returncode == EXIT_THRESHOLDS, result.stderr + result.stdout
    assert "Thresholds: 3 of 3 checks FAILED" in result.stdout
    summary = read_json(only_run_dir(tmp_path) / "summary.json")
    [level] = summary["levels"]
    assert level["all"]["p95"] is None and level["all"]["no_answer"] == level["requests"]
    for check in summary["verdict"]["thresholds"]:
        assert check["measured"] is None
        scope = check["expr"].partition(".")[0] if "." in check["expr"] else None
        if scope is None or scope in level["types"]:
            assert "at 5 users was answered" in check["not_measured"]
        else:  # no user of that kind got to send one before the cap: not measured either
            assert check["not_measured"] == f"no {scope} request was sent at 5 users"
    assert f"WARNING: none of the {level['requests']} requests at 5 users was answered" in (
        result.stdout
    )


def test_a_level_where_no_request_connects_says_so_in_one_line(tmp_path: Path) -> None:
    env = clean_env(ECS_ENDPOINT=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    result = run_script(
        *("-c", "2", "-n", "50", "-t", "5", "--probe-rate", "0", "--no-credentials"),
        *("-o", str(tmp_path)),
        env=env,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    [short] = [line for line in result.stdout.splitlines() if line.startswith("2 users: ")]
    assert "! no request answered" in short
    notes = (only_run_dir(tmp_path) / "level-2" / "summary.txt").read_text().splitlines()
    [line] = [line for line in notes if line.startswith("WARNING: none")]
    assert "at 2 users was answered" in line and "ConnectionRefusedError" in line
    assert "is the target up and reachable?" in line


def test_a_local_node_killed_during_a_level_stops_the_sweep_at_once(tmp_path: Path) -> None:
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    plan = ("-c", "5 6", "-n", "3000", "-r", "10", "--fail-on", "p95<1000")
    with script_in_background(*plan, results=tmp_path, **pipes) as script:
        assert level_under_way(tmp_path, 5, 2000, script), "the first level never got going"
        [node] = [
            p
            for p in processes_mentioning("ecservice.py")
            if str(tmp_path) in p and "ecsload.commands.supervise" not in p  # the node itself
        ]
        os.kill(int(node.split(":", 1)[0]), signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = script.communicate(timeout=60)
        stopped_after = time.monotonic() - killed

        assert script.returncode == EXIT_NODE, stderr
        assert (
            "run_load_test.sh: the local ECS node exited (signal 9) during level 5: the sweep "
            "stops; see "
        ) in stderr
        assert "Traceback" not in stderr
        assert stopped_after < 20  # Locust stopped at once, not at the level's end
        run_dir = only_run_dir(tmp_path)
        assert not (run_dir / "level-6").exists()
        assert not (run_dir / "summary.json").exists()  # no verdict over refused requests
        assert not processes_mentioning(str(tmp_path))
