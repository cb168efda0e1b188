"""Fixtures for the docker tests: the private daemon and loopback registry of
scripts/local-docker.sh, started once per session (and stopped after it only when this session
started them), and a real node process driven over loopback.

Test modules import `local_docker_fixture` (the fixture `local_docker`) to use it. Missing
packages or no root make the docker tests skip with the script's own reason (in CI,
tests/conftest.py turns that skip into a failure).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "local-docker.sh"
REGISTRY = "127.0.0.1:5000"
HAPPY_IMAGE = f"{REGISTRY}/ubuntu:14.04"
MISSING_IMAGE = f"{REGISTRY}/bindle:berry"
EXIT_MISSING_PREREQUISITE = 2
LABEL_FILTER = {"label": "ecs-load=1"}


@dataclass(frozen=True)
class LocalDocker:
    """The running daemon: its DOCKER_HOST and a client for checks the runner must not do."""

    docker_host: str
    client: docker.APIClient

    def task_containers(self, token: str = "") -> list[dict]:
        """Containers the runner made (label ecs-load=1), those whose command has `token`."""
        found = self.client.containers(all=True, filters=LABEL_FILTER)
        return [c for c in found if token in c["Command"]]


def _script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _docker_host(stdout: str) -> str:
    """The DOCKER_HOST=... value that `start` prints (and `status` mentions)."""
    for word in stdout.split():
        if word.startswith("DOCKER_HOST="):
            return word.removeprefix("DOCKER_HOST=")
    raise AssertionError(f"no DOCKER_HOST in the script's output: {stdout!r}")


@pytest.fixture(scope="session", name="local_docker")
def local_docker_fixture() -> Iterator[LocalDocker]:
    """The daemon and registry, up for the whole session; none of the runner's containers may
    be left when the session ends."""
    was_running = _script("status").returncode == 0
    started = _script("start")
    if started.returncode == EXIT_MISSING_PREREQUISITE:
        pytest.skip(f"local Docker unavailable: {started.stderr.strip()}")
    assert started.returncode == 0, f"scripts/local-docker.sh start failed: {started.stderr}"
    client = docker.APIClient(base_url=_docker_host(started.stdout), version="auto", timeout=60)
    try:
        yield LocalDocker(_docker_host(started.stdout), client)
        left = [c["Id"][:12] for c in client.containers(all=True, filters=LABEL_FILTER)]
        assert not left, f"task containers left behind: {left}"
    finally:
        client.close()
        if not was_running:
            stopped = _script("stop")
            assert stopped.returncode == 0, stopped.stderr


def closed_port() -> int:
    """A loopback port nothing listens on (just released by the kernel), for a 'registry down'."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class RunningNode:
    url: str
    log_file: Path
    process: subprocess.Popen[str]

    def log(self) -> str:
        return self.log_file.read_text()


def start_node(tmp_path: Path, *args: str) -> RunningNode:
    """Start `ecservice.py ARGS --port 0` in its own process group; wait (bounded) for its
    ready file. The caller stops it with `stop_node`."""
    ready = tmp_path / "ready"
    log_file = tmp_path / "node.log"
    stderr = tmp_path / "node.stderr"
    with stderr.open("w") as stderr_file:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "ecservice.py"),
                "--port=0",
                f"--ready-file={ready}",
                f"--log-file={log_file}",
                *args,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            text=True,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not ready.exists():
        stop_node(process)
        raise AssertionError(f"the node did not start: {stderr.read_text()}")
    return RunningNode(ready.read_text().strip(), log_file, process)


def stop_node(process: subprocess.Popen[str]) -> int:
    """SIGTERM the node's process group and wait; SIGKILL it if it would not stop in 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=30)
