"""End to end: sweeps with --processes share a machine.

Two sweeps on one CI machine are ordinary. With --processes, Locust's implicit master used
its fixed port 5557, so the second sweep failed ("a port Locust needs is taken"); and each
script signalled PIDs it had reaped, which the kernel may have given to the other sweep's
Locust. bench/bench_concurrent_sweeps.py runs the longer check (10 rounds).
"""

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e_support import (
    SCRIPT,
    clean_env,
    kill_leftovers,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
)

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
