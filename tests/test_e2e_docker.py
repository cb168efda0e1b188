"""End to end with real containers: run_load_test.sh's local node on the docker runner.

The daemon and the loopback registry are real (scripts/local-docker.sh); the
harness finds the daemon through DOCKER_HOST, as an operator's run would.
"""

import re
from pathlib import Path

import pytest

from tests.docker_fixtures import LocalDocker
from tests.e2e_support import clean_env, only_run_dir, read_json, run_script

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_local_sweep_runs_the_happy_path_in_real_containers(
    tmp_path: Path, local_docker: LocalDocker
) -> None:
    env = clean_env(DOCKER_HOST=local_docker.docker_host)
    result = run_script(
        "-v", "-c", "4", "-n", "40", "-r", "100", "-t", "120", "-o", str(tmp_path), env=env
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "runs tasks with the docker runner" in result.stdout
    run_dir = only_run_dir(tmp_path)
    assert read_json(run_dir / "node" / "status.json")["runner"] == "docker"
    happy = read_json(run_dir / "summary.json")["levels"][0]["types"]["Tasks-Happy-Path"]
    assert happy["error"] == 0
    assert happy["ok"] > 0
    node_log = (run_dir / "node" / "ecs.log").read_text()
    assert len(re.findall(r"container \w{12} exited 0", node_log)) == happy["ok"]
    assert local_docker.task_containers() == []
