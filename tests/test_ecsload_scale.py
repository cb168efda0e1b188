"""More than one Locust process, through the real run_load_test.sh against a real node.

A level run by one process, by --processes 2, and by a master with two workers
over loopback must give the same tables: every request type of the model, and
Ok + Error == samples == Locust's own count == the level's requests. A worker
killed mid-level must not hang the level, and the loss must show; losing every
worker fails the level at once.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_support import (
    MODEL_TYPES,
    Sweep,
    level_under_way,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    sample_count,
    script_in_background,
    wait_until_gone,
)
from tests.node_fixtures import RunningNode

pytestmark = pytest.mark.e2e

LEVEL = ("-c", "20", "-n", "400", "-r", "1000", "-t", "120")
PACED_TYPES = ("NoOp", "Version", "Health-Check-Quick", "Health-Check-Slow")  # 0.5-1 s apart


@pytest.fixture
def endpoint(
    secured_node: tuple[RunningNode, tuple[str, str]],
    tmp_path: Path,
) -> tuple[str, Path]:
    """A real node that checks credentials, and a file with a pair it accepts."""
    node, (key, secret) = secured_node
    credentials = tmp_path / "credentials.txt"
    credentials.write_text(f"{key}:{secret}\n")
    return node.base, credentials


def assert_same_tables(level_dir: Path, requests: int) -> dict:
    """The level's summary: every type of the model measured from every user, no error,
    samples == Locust's count."""
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert set(level["types"]) == MODEL_TYPES
    assert sum(t["error"] for t in level["types"].values()) == 0, level
    ok = sum(t["ok"] for t in level["types"].values())
    assert ok == level["requests"] == requests
    assert level["samples"] == sample_count(level_dir) == level["locust_requests"]
    assert level["users_measured"] == level["users"]
    assert level["stopped_by"] == "requests"
    return level


def test_one_process_and_two_give_the_same_tables(tmp_path: Path) -> None:
    for name, extra in (("one", ()), ("two", ("--processes", "2"))):
        result = run_script(*LEVEL, *extra, "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr + result.stdout
        assert_same_tables(only_run_dir(tmp_path / name) / "level-20", 400)
    assert not processes_mentioning(str(tmp_path))


def test_a_worker_per_user_keeps_the_traffic_mix(tmp_path: Path) -> None:
    """--processes 10 at 10 users: four workers run one user that waits 0.5-1 s between
    requests. They used to hold tickets sized for the busiest worker and spend them at
    one a second: the level took 17 s instead of 3.5, and the paced kinds made 19% of
    its requests instead of about 2% (ecsload.plugin.budget)."""
    args = ("-c", "10", "-n", "600", "-r", "1000", "-t", "120", "--processes", "10")
    result = run_script(*args, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr + result.stdout
    level = assert_same_tables(only_run_dir(tmp_path) / "level-10", 600)
    paced = sum(level["types"][name]["ok"] for name in PACED_TYPES)
    assert paced < 0.1 * 600, level["types"]  # one process: 2-3%


@pytest.fixture
def sweep(tmp_path: Path, endpoint: tuple[str, Path]) -> Iterator[type[Sweep]]:
    started: list[Sweep] = []

    def start(workers: int, *args: str) -> Sweep:
        started.append(Sweep(tmp_path, endpoint, workers, *args))
        return started[-1]

    yield start  # type: ignore[misc]
    for one in started:
        one.kill()


def test_a_master_and_two_workers_give_the_same_tables(tmp_path: Path, sweep) -> None:
    # Two levels: the workers follow the sweep, reconnecting for the second.
    run = sweep(2, "-c", "20 24", "-n", "400", "-r", "1000", "-t", "120")
    (master_rc, master_out), *workers = run.finish()
    assert master_rc == 0, master_out
    for rc, out in workers:
        assert rc == 0, out
    run_dir = only_run_dir(tmp_path / "master")
    for users in (20, 24):
        level = assert_same_tables(run_dir / f"level-{users}", 400)
        assert level["workers"] == {"joined": 2, "finished": 2, "lost": 0, "rejected": 0}
    for i in range(2):
        worker_dir = only_run_dir(tmp_path / f"worker-{i}")
        assert sorted(p.name for p in worker_dir.glob("worker-*")) == ["worker-1", "worker-2"]
    assert wait_until_gone(str(tmp_path), 5) == []


def worker_locust(results: Path) -> int:
    """The pid of the Locust worker that a worker script runs, once it runs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in processes_mentioning(str(results)):
            if "locust" in line and "--worker" in line and "run_load_test" not in line:
                return int(line.split(":", 1)[0])
        time.sleep(0.1)
    raise AssertionError("the worker's Locust never started")


def test_a_worker_killed_mid_level_ends_the_level_and_shows_the_loss(tmp_path: Path, sweep) -> None:
    run = sweep(2, "-c", "20", "-n", "5000", "-r", "1000", "-t", "90")
    victim = worker_locust(tmp_path / "worker-1")
    reached = level_under_way(tmp_path / "master", 20, 5000, seconds=60)
    assert reached, "no sample reached the master"
    os.kill(victim, signal.SIGKILL)

    (master_rc, master_out), (survivor_rc, survivor_out), (victim_rc, victim_out) = run.finish()
    assert master_rc == 0, master_out
    assert survivor_rc == 0, survivor_out
    assert victim_rc == 4
    assert "no master at 127.0.0.1" in victim_out and "ended level 1" in victim_out
    level_dir = only_run_dir(tmp_path / "master") / "level-20"
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert level["workers"] == {"joined": 2, "finished": 1, "lost": 1, "rejected": 0}
    assert level["stopped_by"] in ("requests", "time")
    assert level["requests"] < 5000
    assert "1 worker(s) lost" in master_out  # the level's line names it ...
    assert "1 of 2 workers lost" in (level_dir / "summary.txt").read_text()  # ... its notes say it
    assert wait_until_gone(str(tmp_path), 5) == []


def forked_workers(results: Path) -> list[int]:
    """The workers that Locust's --processes forked: Locust processes whose parent is one
    (not the supervisor that runs the master, whose command line names Locust's too)."""
    locusts = {
        int(line.split(":", 1)[0])
        for line in processes_mentioning(str(results))
        if "-m locust" in line and "ecsload.commands.supervise" not in line
    }

    def parent(pid: int) -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("PPid:"))
        return int(line.split()[1])

    return [pid for pid in locusts if parent(pid) in locusts]


def test_every_forked_worker_killed_fails_the_level_before_its_time_cap(tmp_path: Path) -> None:
    """Locust's master stops the test when its last worker goes missing, but does not quit:
    without the harness's check the level waited for its cap (-t 120 here)."""
    args = ("-c", "4", "-n", "1000000", "-r", "1000", "-t", "120", "--processes", "2")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with script_in_background(*args, results=tmp_path, **pipes) as script:
        level_under_way(tmp_path, 4, 5000, script, seconds=60)
        workers = forked_workers(tmp_path)
        assert len(workers) == 2, "the two forked workers never measured"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        out, err = script.communicate(timeout=60)  # well before the level's 120 s cap
        assert script.returncode == 4, out + err
        assert "Locust failed at 4 concurrency: every Locust worker went missing" in err
        assert wait_until_gone(str(tmp_path), 5) == []
