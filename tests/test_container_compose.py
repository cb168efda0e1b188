"""The packaged harness in real containers: the image built from scratch (mmdebstrap's Debian
base, PyPI's wheels), then deploy/compose.yaml's master and three worker containers on the
project's own bridge network, sweeping a real nginx over HTTPS (tests/container_support.py).

Nothing leaves the machine: the private daemon of scripts/local-docker.sh has no default
bridge and no iptables; the project's bridge network (an explicit subnet) reaches the host
only at its gateway address, where nginx listens.
"""

import csv
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container_support import BUILD_SCRIPT, against_demo_node, against_nginx
from tests.docker_fixtures import LocalDocker
from tests.e2e_support import read_json

# The first test also builds the image (the module's fixture): minutes, not pytest's 300 s.
pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(1200)]

WORKERS = 3
BASE = "ecs-load-base:bookworm"  # build-image.sh's mmdebstrap base
USERS_PER_WORKER = 1_000_000  # worker i's users are numbered from i * 1,000,000 + 1
SWEEP = {"concurrency": [6, 9], "number_of_requests": 300, "hatch_rate": 100,
         "level_time_cap": 120, "probe_rate": 0}  # fmt: skip


@pytest.fixture(scope="module")
def image(local_docker: LocalDocker) -> Iterator[str]:
    """scripts/build-image.sh from scratch (a new mmdebstrap base too); the images it made
    (the base too) are removed at the end."""
    tag = f"ecs-load-test-{uuid.uuid4().hex[:8]}:1"
    env = {"PATH": os.environ["PATH"], "DOCKER_HOST": local_docker.docker_host}
    started = time.monotonic()
    built = subprocess.run(
        [str(BUILD_SCRIPT), "--rebuild-base", "--tag", tag],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == tag
    print(f"image built in {time.monotonic() - started:.0f} s: {built.stderr.splitlines()[-1]}")
    try:
        yield tag
    finally:
        name = tag.split(":")[0]
        subprocess.run(
            ["docker", "--host", local_docker.docker_host, "rmi", tag, f"{name}:latest", BASE],
            capture_output=True,
            timeout=120,
            check=False,
        )


def measured_rows(level_dir: Path) -> list[dict[str, str]]:
    with (level_dir / "samples.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_image_sweeps_with_three_worker_containers_and_keeps_every_request(
    tmp_path: Path, local_docker: LocalDocker, image: str
) -> None:
    with against_nginx(tmp_path, local_docker.docker_host, image, WORKERS, SWEEP) as (
        project,
        nginx,
    ):
        master_rc = project.wait("master", timeout=300)
        master_out = project.logs("master")
        assert master_rc == 0, master_out
        for i in range(1, WORKERS + 1):
            assert project.wait("worker", i, timeout=60) == 0, project.logs("worker", i)
            assert "The master's sweep is over after 2 level(s)" in project.logs("worker", i)

        run_dir = project.run_dir()
        assert (run_dir / "report.html").is_file()
        assert (run_dir / "summary.json").is_file()
        summary = read_json(run_dir / "summary.json")
        samples = 0
        for users, level in zip(SWEEP["concurrency"], summary["levels"], strict=True):
            rows = measured_rows(run_dir / f"level-{users}")
            samples += len(rows)
            measured = [row for row in rows if row["phase"] == "measure"]
            assert len(measured) == SWEEP["number_of_requests"]
            assert len({row["user_id"] for row in measured}) == users
            assert {int(row["user_id"]) // USERS_PER_WORKER for row in rows} == {0, 1, 2}
            assert (level["users"], level["users_measured"]) == (users, users)
            assert level["workers"] == {
                "joined": WORKERS,
                "finished": WORKERS,
                "lost": 0,
                "rejected": 0,
            }
            assert level["samples"] == len(rows) == level["locust_requests"]
            assert f"{SWEEP['number_of_requests']} @ {users} from " in master_out
        # Every request nginx answered is a sample on the master, the ramp's included (the
        # probe is off; the endpoint's check is a TLS handshake, not a request).
        assert nginx.requests_seen() == samples


def test_a_killed_worker_container_shows_as_the_note_and_the_sweep_ends(
    tmp_path: Path, local_docker: LocalDocker, image: str
) -> None:
    """Against the compose file's demo node (its tasks run as processes in its container)."""
    sweep = {**SWEEP, "concurrency": [6], "number_of_requests": 1500, "level_time_cap": 90}
    with against_demo_node(tmp_path, local_docker.docker_host, image, WORKERS, sweep) as project:
        assert samples_arrive(tmp_path / "results", seconds=120), project.logs("master")
        project.docker("kill", project.container("worker", 2))

        master_rc = project.wait("master", timeout=180)
        master_out = project.logs("master")
        assert master_rc == 0, master_out
        assert "NOTE: 1 of 3 workers lost mid-level" in master_out
        level = read_json(project.run_dir() / "summary.json")["levels"][0]
        assert level["workers"] == {"joined": 3, "finished": 2, "lost": 1, "rejected": 0}
        # The dead worker's unused tickets and last second of samples are lost, or none at all
        # when it had just sent them (the workers lease tickets by their demand).
        assert level["requests"] <= 1500
        if level["requests"] < 1500:
            assert f"{1500 - level['requests']} of the 1500 requests have no sample" in master_out
        for i in (1, 3):
            assert project.wait("worker", i, timeout=60) == 0, project.logs("worker", i)
        assert project.exit_code("worker", 2) == 137  # SIGKILL


def samples_arrive(results: Path, seconds: float) -> bool:
    """True once the master's level has written samples (bounded wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for samples in results.glob("*/level-*/samples.csv"):
            if samples.stat().st_size > 5_000:
                return True
        time.sleep(0.2)
    return False
