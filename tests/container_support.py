"""A compose project of deploy/compose.yaml on the test's own bridge network.

The master and its workers run in containers of the image scripts/build-image.sh makes,
against one of two targets. nginx (tests/nginx_support.py) on the host, listening only on
the gateway address of the project's bridge network, the one address of the host that the
containers reach (the daemon of scripts/local-docker.sh routes nothing else: no iptables,
no default bridge); it speaks HTTPS with a CA of the test's own, given as compose.ca.yaml's
secret. Or the compose file's own demo node (profile "demo"), in a container of the project.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.nginx_support import Nginx, free_port, nginx_ecs, write_sha_credentials
from tests.tls_support import issue, make_ca

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build-image.sh"
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
CA_FILE = ROOT / "deploy" / "compose.ca.yaml"  # the private CA's secret
IMAGE_USER = 10001  # the image's user (Dockerfile), who must read the secrets and write results


def random_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.231.0.0/16, so that two projects on one daemon rarely share a subnet."""
    return ipaddress.IPv4Network(f"10.231.{random.randrange(256)}.0/24")


def owned_by_image_user(path: Path) -> Path:
    os.chown(path, IMAGE_USER, IMAGE_USER)
    return path


@dataclass
class Project:
    """One compose project: its name, its compose files and arguments, its settings (the
    environment compose reads) and its folder (sweep.json, the secrets, results/)."""

    name: str
    folder: Path
    docker_host: str
    env: dict[str, str]
    files: tuple[Path, ...] = (COMPOSE_FILE,)
    options: tuple[str, ...] = ()  # before the command, e.g. --profile demo

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        files = [arg for path in self.files for arg in ("-f", str(path))]
        result = subprocess.run(
            ["docker-compose", "--no-ansi", "-p", self.name, *files, *self.options, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"docker-compose {args}: {result.stderr}"
        return result

    def docker(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            ["docker", "--host", self.docker_host, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"docker {args}: {result.stderr}"
        return result.stdout

    def container(self, service: str, index: int = 1) -> str:
        return f"{self.name}_{service}_{index}"

    def wait(self, service: str, index: int = 1, timeout: float = 300) -> int:
        """The container's exit code, once it has exited (bounded)."""
        return int(self.docker("wait", self.container(service, index), timeout=timeout))

    def exit_code(self, service: str, index: int) -> int:
        state = self.docker("inspect", "-f", "{{.State.ExitCode}}", self.container(service, index))
        return int(state)

    def logs(self, service: str, index: int = 1) -> str:
        result = subprocess.run(
            ["docker", "--host", self.docker_host, "logs", self.container(service, index)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout + result.stderr

    def run_dir(self) -> Path:
        runs = [p for p in (self.folder / "results").iterdir() if p.is_dir()]
        assert len(runs) == 1, runs
        return runs[0]

    def down(self) -> None:
        """Remove what the project made: containers, network, volumes."""
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.compose("down", "--volumes", "--timeout", "5")


def new_project(folder: Path, docker_host: str, image: str, workers: int, sweep: dict) -> Project:
    """A project's folder (sweep.json, results/ writable by the image's user) and settings, on
    a random subnet; nothing started."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results").mkdir()
    (folder / "sweep.json").write_text(json.dumps(sweep))
    return Project(
        name=f"ecsload{random.randrange(16**6):06x}",
        folder=folder,
        docker_host=docker_host,
        env={
            "PATH": os.environ["PATH"],
            "DOCKER_HOST": docker_host,
            "ECS_LOAD_IMAGE": image,
            "ECS_LOAD_WORKERS": str(workers),
            "ECS_LOAD_SWEEP": str(folder / "sweep.json"),
            "ECS_LOAD_RESULTS": str(owned_by_image_user(folder / "results")),
            "ECS_LOAD_SUBNET": str(random_subnet()),
        },
    )


@contextlib.contextmanager
def against_nginx(
    folder: Path, docker_host: str, image: str, workers: int, sweep: dict
) -> Iterator[tuple[Project, Nginx]]:
    """The project's containers created on its bridge network, nginx (HTTPS, Basic auth) on
    the network's gateway, then the master and `workers` workers started. Everything the
    project made is removed at the end, and nginx stopped."""
    project = new_project(folder, docker_host, image, workers, sweep)
    project.files = (COMPOSE_FILE, CA_FILE)
    gateway = str(next(ipaddress.IPv4Network(project.env["ECS_LOAD_SUBNET"]).hosts()))
    ca = make_ca(folder / "ca")
    chain, key = issue(folder / "tls", ca, (gateway,))
    # The containers are made first (the network's gateway address exists from then on), with
    # the endpoint nginx will have; the credentials file is made now and rewritten in place by
    # nginx_ecs, so the secret the containers mount is the pairs nginx accepts.
    port = free_port()
    (folder / "nginx").mkdir()
    credentials = owned_by_image_user(write_sha_credentials(folder / "nginx"))
    project.env.update(
        ECS_LOAD_CREDENTIALS=str(credentials),
        ECS_LOAD_CA_BUNDLE=str(owned_by_image_user(ca.pem)),
        ECS_ENDPOINT=f"https://{gateway}:{port}",
    )
    try:
        project.compose("up", "--no-start", "--scale", f"worker={workers}")
        with nginx_ecs(folder / "nginx", tls=(chain, key), host=gateway, port=port) as nginx:
            assert nginx.credentials == credentials
            project.compose("up", "--detach", "--scale", f"worker={workers}")
            yield project, nginx
    finally:
        project.down()


@contextlib.contextmanager
def against_demo_node(
    folder: Path, docker_host: str, image: str, workers: int, sweep: dict
) -> Iterator[Project]:
    """The compose file's demo: its node service first (bounded wait until it listens), then
    the master and `workers` workers against it, as the compose file's comment says."""
    project = new_project(folder, docker_host, image, workers, sweep)
    project.options = ("--profile", "demo")
    credentials = folder / "credentials.txt"
    credentials.write_text("demo-key:demo-secret\n")
    project.env.update(
        ECS_LOAD_CREDENTIALS=str(owned_by_image_user(credentials)),
        ECS_ENDPOINT="http://node:8448",
    )
    try:
        project.compose("up", "--detach", "node")
        deadline = time.monotonic() + 60
        while "ECS listening on" not in project.logs("node") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "ECS listening on" in project.logs("node"), project.logs("node")
        project.compose("up", "--detach", "--scale", f"worker={workers}", "master", "worker")
        yield project
    finally:
        project.down()
