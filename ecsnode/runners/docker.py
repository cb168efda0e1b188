"""The docker runner: each task runs in a new container of a real Docker daemon, as ECS does.

A task's life is the ECS one: check the image (pull it when it is not here), create a container
with no network and a memory cap, start it, wait for it within the task's time limit (kill it
after), read stdout and stderr apart, and always remove it. The `docker` SDK is synchronous, so
each task's whole life runs in one thread of a pool as large as the node's task limit (the node's
semaphore is the only queue). Containers carry the label ecs-load=1 so a leftover is easy to find.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.types import LogConfig
from docker.utils import kwargs_from_env, parse_repository_tag

from ecsnode.runners.base import ImageNotFound, RunnerError, TaskResult, TaskRunner
from ecsnode.runners.process import EXIT_CANNOT_START, OUTPUT_CAP
from ecsnode.settings import Settings

log = logging.getLogger(__name__)

LABELS = {"ecs-load": "1"}
"""Every container this runner creates carries these labels (`docker ps -a -f label=ecs-load`)."""

MEMORY_LIMIT = "256m"
"""Memory cap of a task's container: a load-test task must not starve the node's host."""

LOG_LIMIT = LogConfig(type=LogConfig.types.JSON, config={"max-size": "8m", "max-file": "2"})
"""At most 16 MB of output on the daemon's disk per container, and never less than 8 MB, which
holds all of OUTPUT_CAP even as one-byte lines (json-file stores ~70 bytes per line). The runner
reads the first OUTPUT_CAP bytes of each stream that the daemon kept."""

_UNREACHABLE = (docker.errors.DockerException, requests.exceptions.RequestException)
"""What the SDK raises when it cannot talk to the daemon at all (no socket, refused, timeout)."""


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    """Where the daemon is: docker_remote_api, else DOCKER_HOST (and its TLS env), else the
    default socket, which is what `docker` itself would use."""
    kwargs: dict[str, Any] = dict(kwargs_from_env())
    if settings.docker_remote_api:
        kwargs["base_url"] = settings.docker_remote_api
    return kwargs


def _daemon_address(settings: Settings) -> str:
    return _client_kwargs(settings).get("base_url", "unix:///var/run/docker.sock")


def _reason(error: Exception) -> str:
    """The daemon's own words when it gave any, else the error's text (first line)."""
    text = getattr(error, "explanation", None) or str(error) or type(error).__name__
    return str(text).splitlines()[0]


def docker_available(settings: Settings) -> bool:
    """True when a daemon answers a ping within the connect timeout (for --runner auto)."""
    timeout = settings.docker_remote_api_connect_timeout
    try:
        client = docker.APIClient(
            version="auto",
            timeout=timeout,  # type: ignore[arg-type]  # docker-py hands it to requests, which takes seconds as floats
            **_client_kwargs(settings),
        )
    except _UNREACHABLE:
        return False
    try:
        return bool(client.ping())
    except _UNREACHABLE:
        return False
    finally:
        client.close()


class DockerRunner(TaskRunner):
    name = "docker"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._address = _daemon_address(settings)
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_tasks, thread_name_prefix="docker-task"
        )
        self._lock = threading.Lock()
        self._client: docker.APIClient | None = None
        self._present: set[str] = set()
        self._running: set[str] = set()

    def _api(self) -> docker.APIClient:
        """The client, made on first use (making it asks the daemon its API version, and the
        daemon may come up after the node): a failure is retried on the next task."""
        with self._lock:
            if self._client is None:
                settings = self._settings
                try:
                    client = docker.APIClient(
                        version="auto",
                        timeout=settings.docker_remote_api_request_timeout,  # type: ignore[arg-type]  # docker-py hands it to requests, which takes seconds as floats
                        max_pool_size=settings.max_concurrent_tasks + 1,
                        **_client_kwargs(settings),
                    )
                except _UNREACHABLE as error:
                    raise RunnerError(self._unreachable(error)) from None
                # A (connect, read) pair: requests applies each to its own phase of a call.
                client.timeout = (  # type: ignore[assignment]  # requests takes the pair too
                    settings.docker_remote_api_connect_timeout,
                    settings.docker_remote_api_request_timeout,
                )
                self._client = client
            return self._client

    async def run(self, image: str, cmd: list[str], creds: dict[str, str] | None) -> TaskResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, image, cmd, creds)

    def _run(self, image: str, cmd: list[str], creds: dict[str, str] | None) -> TaskResult:
        """A task's whole life, in a pool thread; daemon failures become RunnerError (500)."""
        try:
            api = self._api()
            self._ensure_image(api, image, creds)
            try:
                container = self._create(api, image, cmd)
            except docker.errors.ImageNotFound:
                # Removed from the daemon since we saw it: forget it, fetch it again, once.
                self._present.discard(image)
                self._ensure_image(api, image, creds)
                container = self._create(api, image, cmd)
            try:
                return self._execute(api, container)
            finally:
                self._remove(api, container)
        except _UNREACHABLE as error:
            raise RunnerError(f"docker failed running {image}: {_reason(error)}") from None

    def _ensure_image(
        self, api: docker.APIClient, image: str, creds: dict[str, str] | None
    ) -> None:
        """Pull the image unless the daemon has it, as ECS does. Images seen present are
        remembered so a busy node does not ask again per task; with creds the image is pulled
        every time, so the registry checks them on every task that gives them."""
        if creds is None:
            if image in self._present:
                return
            try:
                api.inspect_image(image)
            except docker.errors.ImageNotFound:
                pass
            else:
                self._present.add(image)
                return
        repository, tag = parse_repository_tag(image)
        try:
            for event in api.pull(repository, tag, stream=True, decode=True, auth_config=creds):
                if "error" in event:
                    raise RunnerError(f"pull of {image} failed: {event['error']}")
        except docker.errors.NotFound as error:
            raise ImageNotFound(f"image {image} not found: {_reason(error)}") from None
        except docker.errors.APIError as error:
            raise RunnerError(f"pull of {image} failed: {_reason(error)}") from None
        log.info("pulled %s", image)
        if creds is None:
            self._present.add(image)

    def _create(self, api: docker.APIClient, image: str, cmd: list[str]) -> str:
        host_config = api.create_host_config(
            network_mode="none", mem_limit=MEMORY_LIMIT, log_config=LOG_LIMIT
        )
        created = api.create_container(
            image, cmd, labels=LABELS, network_disabled=True, host_config=host_config
        )
        return created["Id"]

    def _execute(self, api: docker.APIClient, container: str) -> TaskResult:
        """Start, wait within the time limit (kill after it), and read the output."""
        timeout = self._settings.task_timeout
        with self._lock:
            self._running.add(container)
        try:
            try:
                api.start(container)
            except docker.errors.APIError as error:
                if not error.is_client_error():
                    raise
                return self._not_started(api, container)
            try:
                exit_code = api.wait(container, timeout=timeout)["StatusCode"]  # type: ignore[arg-type]  # docker-py passes it to requests, which takes floats
                timed_out = False
            except requests.exceptions.RequestException:
                # The wait's read timeout (the SDK reports it as a connection error on a socket).
                # Should the daemon be gone instead, the kill below fails and says so.
                self._kill(api, container)
                exit_code = api.wait(container)["StatusCode"]
                timed_out = True
        finally:
            with self._lock:
                self._running.discard(container)
        stdout = self._logs(api, container, stdout=True)
        stderr = self._logs(api, container, stdout=False)
        if timed_out:
            stderr += f"ecs: task killed after its {timeout:g} s time limit\n".encode()
        log.info("container %.12s exited %d", container, exit_code)
        return TaskResult(exit_code, stdout, stderr)

    def _not_started(self, api: docker.APIClient, container: str) -> TaskResult:
        """A command the daemon could not start (not found, not executable) is the task's
        failure, not the runner's: the exit code the daemon recorded (127, 126), the reason on
        stderr, as `docker run` and the process runner answer."""
        state = api.inspect_container(container)["State"]
        reason = f"ecs: cannot start the command: {state['Error']}\n"
        return TaskResult(state["ExitCode"] or EXIT_CANNOT_START, b"", reason.encode())

    def _kill(self, api: docker.APIClient, container: str) -> None:
        """Kill a container; one that has just exited by itself is fine (409 not running)."""
        try:
            api.kill(container)
        except docker.errors.APIError as error:
            if error.status_code != 409:
                raise

    def _logs(self, api: docker.APIClient, container: str, stdout: bool) -> bytes:
        """One of the container's two streams, at most OUTPUT_CAP bytes of it."""
        stream = api.logs(container, stdout=stdout, stderr=not stdout, stream=True, follow=False)
        kept = bytearray()
        try:
            for chunk in stream:
                kept += chunk[: OUTPUT_CAP - len(kept)]
                if len(kept) >= OUTPUT_CAP:
                    break
        finally:
            stream.close()
        return bytes(kept)

    def _remove(self, api: docker.APIClient, container: str) -> None:
        """Remove the container whatever happened; a failure is logged, never hides the task's
        own outcome (the label lets an operator find what is left)."""
        try:
            api.remove_container(container, force=True)
        except _UNREACHABLE as error:
            log.warning("could not remove container %.12s: %s", container, _reason(error))

    async def health(self) -> tuple[str, dict[str, object]]:
        """Green when the daemon answers a ping and tells its API version."""
        details: dict[str, object] = await asyncio.to_thread(self._probe)
        status = "green" if details["connectivity"] == "ok" else "red"
        return "docker remote api", {"status": status, "details": details}

    def _probe(self) -> dict[str, object]:
        try:
            api = self._api()
            api.ping()
            version = api.version(api_version=False)["ApiVersion"]
        except RunnerError as error:
            return {"connectivity": str(error), "api version": None}
        except _UNREACHABLE as error:
            return {"connectivity": self._unreachable(error), "api version": None}
        return {"connectivity": "ok", "api version": version}

    def _unreachable(self, error: Exception) -> str:
        return f"docker daemon at {self._address} unreachable: {_reason(error)}"

    async def close(self) -> None:
        """Kill the containers still running (their threads then remove them), then wait for
        the pool: every thread is bounded by the Docker timeouts."""
        with self._lock:
            running, client = list(self._running), self._client
        if client is not None:
            for container in running:
                await asyncio.to_thread(self._kill_quietly, client, container)
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        if client is not None:
            client.close()

    def _kill_quietly(self, api: docker.APIClient, container: str) -> None:
        try:
            self._kill(api, container)
        except _UNREACHABLE as error:
            log.warning("could not kill container %.12s: %s", container, _reason(error))
