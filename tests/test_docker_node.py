"""The docker runner inside a real node process (`ecservice.py --runner docker`), over loopback."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.docker_fixtures import (
    HAPPY_IMAGE,
    MISSING_IMAGE,
    LocalDocker,
    RunningNode,
    closed_port,
    start_node,
    stop_node,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def node(
    local_docker: LocalDocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNode]:
    """One node on the local daemon for the module; a 2 s task limit keeps the timeout short."""
    running = start_node(
        tmp_path_factory.mktemp("node"),
        "--runner=docker",
        f"--docker-remote-api={local_docker.docker_host}",
        "--task-timeout=2",
    )
    yield running
    assert stop_node(running.process) == 0


def post_task(url: str, image: str, cmd: list[str]) -> requests.Response:
    return requests.post(f"{url}/v1.1/tasks", json={"docker_image": image, "cmd": cmd}, timeout=60)


def decoded(response: requests.Response) -> tuple[int, bytes, bytes]:
    body = response.json()
    return body["exitCode"], base64.b64decode(body["stdout"]), base64.b64decode(body["stderr"])


def test_node_logs_the_docker_runner(node: RunningNode) -> None:
    assert "runner=docker" in node.log()


def test_happy_path_runs_in_a_container(node: RunningNode) -> None:
    response = post_task(node.url, HAPPY_IMAGE, ["echo", "hello world"])
    assert response.status_code == 201
    assert decoded(response) == (0, b"hello world\n", b"")
    assert "ecsnode.runners.docker container" in node.log()


def test_non_zero_exit_and_streams_apart(node: RunningNode) -> None:
    response = post_task(node.url, HAPPY_IMAGE, ["sh", "-c", "echo out; echo err >&2; exit 5"])
    assert response.status_code == 201
    assert decoded(response) == (5, b"out\n", b"err\n")


def test_image_not_found_is_404(node: RunningNode) -> None:
    assert post_task(node.url, MISSING_IMAGE, ["true"]).status_code == 404


def test_registry_down_is_500(node: RunningNode) -> None:
    image = f"127.0.0.1:{closed_port()}/ubuntu:14.04"
    assert post_task(node.url, image, ["true"]).status_code == 500


def test_timeout_kills_and_removes(node: RunningNode, local_docker: LocalDocker) -> None:
    token = uuid.uuid4().hex
    response = post_task(node.url, HAPPY_IMAGE, ["sh", "-c", f"sleep 60 #{token}"])
    assert response.status_code == 201
    exit_code, _, stderr = decoded(response)
    assert exit_code == 137
    assert b"time limit" in stderr
    assert local_docker.task_containers(token) == []


def test_comprehensive_health_green(node: RunningNode) -> None:
    response = requests.get(f"{node.url}/v1.1/_health", params={"quick": "false"}, timeout=60)
    assert response.status_code == 200
    component = response.json()["details"]["docker remote api"]
    assert component["status"] == "green"
    assert component["details"]["connectivity"] == "ok"
    assert component["details"]["api version"]


def test_daemon_down_health_red_and_task_500(tmp_path: Path) -> None:
    node = start_node(
        tmp_path, "--runner=docker", f"--docker-remote-api=unix://{tmp_path}/none.sock"
    )
    try:
        health = requests.get(f"{node.url}/v1.1/_health", params={"quick": "false"}, timeout=60)
        task = post_task(node.url, HAPPY_IMAGE, ["true"])
    finally:
        assert stop_node(node.process) == 0
    assert health.status_code == 503
    assert health.json()["details"]["docker remote api"]["status"] == "red"
    assert task.status_code == 500


@pytest.mark.parametrize("live", [True, False], ids=["daemon-up", "daemon-down"])
def test_auto_picks_docker_only_when_a_daemon_answers(
    local_docker: LocalDocker, tmp_path: Path, live: bool
) -> None:
    api = local_docker.docker_host if live else f"unix://{tmp_path}/none.sock"
    node = start_node(tmp_path, "--runner=auto", f"--docker-remote-api={api}")
    assert stop_node(node.process) == 0
    assert ("runner=docker" if live else "runner=process") in node.log()
