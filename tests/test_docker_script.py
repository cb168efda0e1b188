"""scripts/local-docker.sh: its usage errors and refusals (one line, documented exit code), and
an idempotent start over the running daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docker_fixtures import (
    SCRIPT,
    LocalDocker,
)


def script(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def test_help_documents_commands_and_exit_codes() -> None:
    done = script("--help")
    assert done.returncode == 0
    for word in ("start", "stop", "status", "ECS_DOCKER_STATE", "Exit codes"):
        assert word in done.stdout


@pytest.mark.parametrize("args", [[], ["restart"], ["stop", "--all"], ["start", "x"]])
def test_usage_error_is_one_line_exit_1(args: list[str]) -> None:
    done = script(*args)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "--help" in done.stderr or "use --clean" in done.stderr


def test_status_of_nothing_is_exit_4(tmp_path: Path) -> None:
    done = script("status", ECS_DOCKER_STATE=str(tmp_path))
    assert done.returncode == 4
    assert done.stdout.splitlines() == ["dockerd: stopped", "registry: stopped"]


def test_clean_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious").write_text("keep me")
    done = script("stop", "--clean", ECS_DOCKER_STATE=str(tmp_path))
    assert done.returncode == 3
    assert "not a local-docker state folder" in done.stderr
    assert (tmp_path / "precious").exists()


def test_missing_package_is_named(tmp_path: Path) -> None:
    """Without dockerd on PATH (Debian puts it in /usr/sbin) the script names the package."""
    done = script("start", PATH="/usr/bin", ECS_DOCKER_STATE=str(tmp_path))
    assert done.returncode == 2
    assert "docker.io" in done.stderr
    assert "apt-get install" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
@pytest.mark.skipif(not shutil.which("dockerd"), reason="needs dockerd (Debian's docker.io)")
def test_not_root_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(SCRIPT), "start"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ECS_DOCKER_STATE": str(tmp_path / "state")},
    )
    assert done.returncode == 2
    assert "root" in done.stderr


@pytest.mark.docker
def test_start_is_idempotent(local_docker: LocalDocker) -> None:
    before = script("status")
    again = script("start")
    assert again.returncode == 0
    assert again.stdout.strip() == f"DOCKER_HOST={local_docker.docker_host}"
    assert script("status").stdout == before.stdout  # the same pids: nothing restarted


@pytest.mark.docker
@pytest.mark.skipif(not shutil.which("dockerd"), reason="needs dockerd (Debian's docker.io)")
@pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root")
def test_daemon_that_dies_at_start_is_reported_at_once(tmp_path: Path) -> None:
    """A broken daemon config: start says why at once (dockerd's own words), exit 3."""
    (tmp_path / "daemon.json").write_text("{broken")
    done = script("start", ECS_DOCKER_STATE=str(tmp_path))
    assert done.returncode == 3
    assert "dockerd exited at start" in done.stderr
    assert "daemon.json" in done.stderr
