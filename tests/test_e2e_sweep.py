"""End to end: the real run_load_test.sh sweeps a real ECS node over loopback.

Nothing is mocked: the script makes its own venv-less run with the project's
Python, starts (or is pointed at) a real node process, runs real headless
Locust per level and summarises the samples it recorded.
"""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e_support import (
    MODEL_TYPES,
    SCRIPT,
    clean_env,
    level_under_way,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    sample_count,
    script_in_background,
    wait_until_gone,
)

pytestmark = pytest.mark.e2e

# Small levels, fast hatching: Locust gives every user kind a user from 15 users on,
# and they all start before the count is reached.
SMALL_SWEEP = ("-c", "15 20", "-n", "300", "-r", "1000", "-t", "120")


def totals(summary_level: dict) -> tuple[int, int]:
    """(ok, error) over all request types of one level of summary.json."""
    types = summary_level["types"].values()
    return sum(t["ok"] for t in types), sum(t["error"] for t in types)


def test_local_sweep_prints_tables_and_keeps_every_sample(tmp_path: Path) -> None:
    result = run_script("-v", *SMALL_SWEEP, "-o", str(tmp_path))

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path)
    out = result.stdout
    assert "Started ECS - PID = " in out
    for users in (15, 20):
        level_dir = run_dir / f"level-{users}"
        assert f"Find locust log file @ '{level_dir}/locust.log' for {users} concurrency" in out
        assert f"Find locust output @ '{level_dir}/output.txt' for {users} concurrency" in out
        assert f" @ {users} from " in out
        assert (level_dir / "summary.txt").read_text() in out
    summary = read_json(run_dir / "summary.json")
    assert [level["concurrency"] for level in summary["levels"]] == [15, 20]
    for level in summary["levels"]:
        level_dir = run_dir / f"level-{level['concurrency']}"
        assert set(level["types"]) == MODEL_TYPES
        ok, error = totals(level)
        assert error == 0, level
        assert ok == sample_count(level_dir) == level["requests"]
        assert level["requests"] == 300
    assert (run_dir / "summary.txt").read_text() in out
    assert (run_dir / "plan.json").is_file()
    assert read_json(run_dir / "node" / "status.json")["runner"] in {"process", "docker"}
    assert not processes_mentioning(str(tmp_path))


@pytest.fixture
def node_with_credentials(tmp_path: Path, node_factory) -> tuple[str, Path]:
    """A real node that checks an .htpasswd, and the plaintext pairs that match it."""
    creds = tmp_path / "creds.txt"
    htpasswd = tmp_path / ".htpasswd"
    with creds.open("w") as out:
        subprocess.run(
            [sys.executable, "-m", "ecsnode.creds", "2", "--htpasswd", str(htpasswd)],
            stdout=out,
            check=True,
            cwd=SCRIPT.parent,
        )
    return node_factory("--htpasswd", str(htpasswd)).base, creds


def test_endpoint_mode_authenticates_with_the_plaintext_pairs(
    tmp_path: Path, node_with_credentials: tuple[str, Path]
) -> None:
    endpoint, creds = node_with_credentials
    env = clean_env(ECS_ENDPOINT=endpoint, ECS_CREDENTIALS=str(creds))
    result = run_script(*SMALL_SWEEP, "-o", str(tmp_path / "results"), env=env)

    assert result.returncode == 0, result.stderr + result.stdout
    summary = read_json(only_run_dir(tmp_path / "results") / "summary.json")
    assert summary["endpoint"] == endpoint
    for level in summary["levels"]:
        assert totals(level)[1] == 0, level


def test_endpoint_mode_with_wrong_credentials_shows_the_401s_as_errors(
    tmp_path: Path, node_with_credentials: tuple[str, Path]
) -> None:
    endpoint, _ = node_with_credentials
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef\n")
    env = clean_env(ECS_ENDPOINT=endpoint, ECS_CREDENTIALS=str(wrong))
    result = run_script("-c", "5", "-n", "100", "-r", "100", "-o", str(tmp_path / "r"), env=env)

    assert result.returncode == 0, result.stderr + result.stdout
    level = read_json(only_run_dir(tmp_path / "r") / "summary.json")["levels"][0]
    ok, error = totals(level)
    assert ok == 0
    assert error == level["requests"] >= 100


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["ctrl-c", "sigkill"],
)
def test_a_stopped_script_leaves_nothing_running(
    tmp_path: Path, signum: signal.Signals, exit_code: int
) -> None:
    """Ctrl-C: the trap stops Locust and the node. SIGKILL (a CI job's timeout): no trap
    runs, and the kernel's parent-death signal stops them instead."""
    args = ("-c", "20", "-n", "1000000", "-r", "100", "-t", "120")
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    with script_in_background(*args, results=tmp_path, **pipes) as script:
        under_way = level_under_way(tmp_path, 20, 10_000, script)
        assert under_way and script.poll() is None, "the level never got going"
        assert processes_mentioning(str(tmp_path)), "expected a node and Locust to be running"

        script.send_signal(signum)
        assert script.wait(timeout=20) == exit_code
        if signum == signal.SIGINT:
            assert "interrupted" in script.stderr.read()
        assert wait_until_gone(str(tmp_path), 15) == []
