"""The docker runner, called directly, over the real daemon and loopback registry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from ecsnode.runners.base import ImageNotFound, RunnerError, TaskResult
from ecsnode.runners.docker import DockerRunner, docker_available
from ecsnode.runners.process import OUTPUT_CAP
from ecsnode.settings import Settings
from tests.docker_fixtures import (
    HAPPY_IMAGE,
    MISSING_IMAGE,
    REGISTRY,
    LocalDocker,
    closed_port,
)

pytestmark = pytest.mark.docker


def settle(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def run_task(local: LocalDocker, image: str, cmd: list[str], **settings: Any) -> TaskResult:
    """One task on a fresh runner, closed afterwards."""

    async def go() -> TaskResult:
        runner = DockerRunner(Settings(docker_remote_api=local.docker_host, **settings))
        try:
            return await runner.run(image, cmd, None)
        finally:
            await runner.close()

    return settle(go())


def test_echo_round_trip(local_docker: LocalDocker) -> None:
    result = run_task(local_docker, HAPPY_IMAGE, ["echo", "hello world"])
    assert result == TaskResult(0, b"hello world\n", b"")


def test_non_zero_exit_code(local_docker: LocalDocker) -> None:
    assert run_task(local_docker, HAPPY_IMAGE, ["sh", "-c", "exit 3"]).exit_code == 3


def test_stdout_and_stderr_kept_apart(local_docker: LocalDocker) -> None:
    cmd = ["sh", "-c", "echo out; echo err >&2; echo more out"]
    result = run_task(local_docker, HAPPY_IMAGE, cmd)
    assert (result.stdout, result.stderr) == (b"out\nmore out\n", b"err\n")


def test_output_is_capped(local_docker: LocalDocker) -> None:
    result = run_task(local_docker, HAPPY_IMAGE, ["sh", "-c", "yes | head -c 300000"])
    assert len(result.stdout) == OUTPUT_CAP


def test_container_has_no_network(local_docker: LocalDocker) -> None:
    result = run_task(local_docker, HAPPY_IMAGE, ["ls", "/sys/class/net"])
    assert result.stdout.split() == [b"lo"]


def test_command_that_cannot_start_is_127(local_docker: LocalDocker) -> None:
    result = run_task(local_docker, HAPPY_IMAGE, ["no-such-command"])
    assert result.exit_code == 127
    assert b"no-such-command" in result.stderr


@pytest.mark.parametrize("image", [MISSING_IMAGE, f"{REGISTRY}/ubuntu:no-such-tag"])
def test_image_not_found(local_docker: LocalDocker, image: str) -> None:
    with pytest.raises(ImageNotFound, match="not found"):
        run_task(local_docker, image, ["true"])


def test_registry_down_is_a_runner_error(local_docker: LocalDocker) -> None:
    image = f"127.0.0.1:{closed_port()}/ubuntu:14.04"
    with pytest.raises(RunnerError, match="pull of"):
        run_task(local_docker, image, ["true"])


def test_pull_with_creds(local_docker: LocalDocker) -> None:
    """The loopback registry asks for no credentials; given ones must not break the pull."""
    creds = {"email": "a@example.com", "username": "u", "password": "p"}

    async def go() -> TaskResult:
        runner = DockerRunner(Settings(docker_remote_api=local_docker.docker_host))
        try:
            return await runner.run(HAPPY_IMAGE, ["echo", "ok"], creds)
        finally:
            await runner.close()

    assert settle(go()).stdout == b"ok\n"


def test_image_removed_behind_the_runner_is_pulled_again(local_docker: LocalDocker) -> None:
    """The runner remembers images it saw; one deleted since is fetched again, not a 500."""
    image = f"{REGISTRY}/busybox:latest"

    async def go() -> tuple[TaskResult, TaskResult]:
        runner = DockerRunner(Settings(docker_remote_api=local_docker.docker_host))
        try:
            first = await runner.run(image, ["echo", "1"], None)
            await asyncio.to_thread(local_docker.client.remove_image, image)
            return first, await runner.run(image, ["echo", "2"], None)
        finally:
            await runner.close()

    assert [r.stdout for r in settle(go())] == [b"1\n", b"2\n"]


def test_task_over_its_timeout_is_killed_and_removed(local_docker: LocalDocker) -> None:
    token = uuid.uuid4().hex
    cmd = ["sh", "-c", f"echo started; sleep 60; echo {token}"]
    result = run_task(local_docker, HAPPY_IMAGE, cmd, task_timeout=1)
    assert result.exit_code == 137
    assert result.stdout == b"started\n"
    assert b"time limit" in result.stderr
    assert local_docker.task_containers(token) == []


def test_close_kills_running_tasks(local_docker: LocalDocker) -> None:
    """A node stopping with a task in flight leaves no container behind."""
    token = uuid.uuid4().hex

    async def go() -> TaskResult:
        runner = DockerRunner(Settings(docker_remote_api=local_docker.docker_host))
        task = asyncio.create_task(
            runner.run(HAPPY_IMAGE, ["sh", "-c", f"sleep 60 #{token}"], None)
        )
        for _ in range(200):  # until its container runs: at most 20 s
            if any(c["State"] == "running" for c in local_docker.task_containers(token)):
                break
            await asyncio.sleep(0.1)
        await runner.close()
        return await task

    assert settle(go()).exit_code == 137
    assert local_docker.task_containers(token) == []


def test_health_green(local_docker: LocalDocker) -> None:
    runner = DockerRunner(Settings(docker_remote_api=local_docker.docker_host))
    name, health = settle(runner.health())
    settle(runner.close())
    assert name == "docker remote api"
    assert health["status"] == "green"
    assert health["details"]["connectivity"] == "ok"
    assert health["details"]["api version"] == local_docker.client.version()["ApiVersion"]


def test_docker_available(local_docker: LocalDocker, tmp_path: Path) -> None:
    assert docker_available(Settings(docker_remote_api=local_docker.docker_host))
    assert not docker_available(Settings(docker_remote_api=f"unix://{tmp_path}/none.sock"))


def test_daemon_down_health_red_and_task_500(tmp_path: Path) -> None:
    """No daemon at all (a socket path nothing listens on): health is red, a task a RunnerError."""
    runner = DockerRunner(Settings(docker_remote_api=f"unix://{tmp_path}/none.sock"))
    name, health = settle(runner.health())
    assert (name, health["status"]) == ("docker remote api", "red")
    assert "unreachable" in health["details"]["connectivity"]
    assert health["details"]["api version"] is None
    with pytest.raises(RunnerError, match="unreachable"):
        settle(runner.run(HAPPY_IMAGE, ["true"], None))
    settle(runner.close())
