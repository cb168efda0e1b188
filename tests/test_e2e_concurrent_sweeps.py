"""End to end: sweeps share a machine.

Two sweeps on one CI machine are ordinary. With --processes, Locust's implicit master used
its fixed port 5557, so the second sweep failed ("a port Locust needs is taken"); and each
script signalled PIDs it had reaped, which the kernel may have given to the other sweep's
Locust. bench/bench_concurrent_sweeps.py runs the longer check (10 rounds). And each
measured about half of what it measures alone, without a word: now a level says which
other sweep ran beside it (ecsload/sweeps_here.py).
"""

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ecsload.sweeps_here import registered
from tests.e2e_support import (
    SCRIPT,
    clean_env,
    kill_leftovers,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
)
from tests.nginx_support import nginx_ecs, nginx_missing

pytestmark = pytest.mark.e2e

SWEEP = ("-c", "2 3", "-n", "200", "-r", "100", "-t", "60", "--processes", "2")
LOCUST_MASTER_PORT = 5557


@contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Hold 127.0.0.1:PORT (when nobody else does already: then it is taken anyway)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        try:
            holder.bind(("127.0.0.1", port))
            holder.listen()
        except OSError:
            pass
        yield


def assert_complete(run_dir: Path, output: str) -> None:
    summary = read_json(run_dir / "summary.json")
    assert [level["concurrency"] for level in summary["levels"]] == [2, 3], output
    assert all(level["requests"] == 200 for level in summary["levels"]), output


def test_processes_do_not_need_locusts_fixed_master_port(tmp_path: Path) -> None:
    with port_taken(LOCUST_MASTER_PORT):
        result = run_script(*SWEEP, "-o", str(tmp_path), timeout=240)
    assert result.returncode == 0, result.stderr
    assert_complete(only_run_dir(tmp_path), result.stdout + result.stderr)
    assert not processes_mentioning(str(tmp_path))


def test_two_sweeps_with_processes_at_once_both_complete(tmp_path: Path) -> None:
    for round_ in range(2):
        results = [tmp_path / f"round-{round_}-sweep-{i}" for i in range(2)]
        sweeps = [
            subprocess.Popen(
                [str(SCRIPT), *SWEEP, "-o", str(folder)],
                env=clean_env(),
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for folder in results
        ]
        try:
            outputs = [sweep.communicate(timeout=300)[0] for sweep in sweeps]
        finally:
            for folder in results:
                kill_leftovers(str(folder))
        for sweep, folder, output in zip(sweeps, results, outputs, strict=True):
            assert sweep.returncode == 0, output
            assert "killed by" not in output and "exit 137" not in output, output
            assert_complete(only_run_dir(folder), output)
            assert not processes_mentioning(str(folder))


def test_a_level_beside_another_sweep_says_which_and_its_comparisons_note_it(
    tmp_path: Path,
) -> None:
    """The other sweep is this test, registered in the machine's register as a sweep's levels
    server registers (a real file and lock): the sweep under test cannot tell the two apart.
    A real second sweep would overlap the levels only by chance. A run alone, one beside the
    other sweep compared with it (a folder baseline), then one alone compared with that one
    from the history (`--baseline last`): both comparisons note it."""
    if missing := nginx_missing():
        pytest.skip(missing)
    history = tmp_path / "history.sqlite"
    with nginx_ecs(tmp_path / "stand-in", access_log=False) as server:
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        levels = ("-c", "2 3", "-n", "300", "--history", str(history))
        alone = run_script(*levels, "-o", str(tmp_path / "alone"), env=env, timeout=240)
        assert alone.returncode == 0, alone.stderr
        baseline = only_run_dir(tmp_path / "alone")
        other = tmp_path / "the-other-sweep"
        with registered(str(other)) as done:
            assert done
            beside = run_script(
                *levels, "--baseline", str(baseline), "-o", str(tmp_path / "beside"), env=env,
                timeout=240,
            )  # fmt: skip
        after = run_script(
            *levels, "--baseline", "last", "-o", str(tmp_path / "after"), env=env, timeout=240
        )
    assert beside.returncode == 0, beside.stderr
    assert after.returncode == 0, after.stderr
    run_dir = only_run_dir(tmp_path / "beside")
    for level in read_json(run_dir / "summary.json")["levels"]:
        (seen,) = level["other_sweeps"]
        assert seen["pid"] == os.getpid() and seen["run"] == str(other)
        table = (run_dir / f"level-{level['users']}" / "summary.txt").read_text()
        assert (
            "WARNING: another ecs-load sweep ran on this machine during this level "
            f"(pid {os.getpid()}, {other}): the two shared its cores" in table
        )
    for run in (baseline, only_run_dir(tmp_path / "after")):
        assert all(
            level["other_sweeps"] == [] for level in read_json(run / "summary.json")["levels"]
        )
        assert "sweep" not in (run / "summary.txt").read_text()
    assert "sweep" not in alone.stdout
    assert beside.stdout.count(", another sweep ran beside it") == 2  # each level's line
    for compared in (run_dir, only_run_dir(tmp_path / "after")):
        assert read_json(compared / "comparison.json")["shared_machine_levels"] == [2, 3]
        assert "NOTE: at 2, 3 users one run or both ran beside another ecs-load sweep" in (
            (compared / "comparison.txt").read_text().replace("\n", " ")
        )
