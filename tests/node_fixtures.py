"""Fixtures for the node tests: a real `ecservice.py` process on 127.0.0.1, and credentials.

`node_factory` starts nodes on --port 0 (each in its own process group, output in tmp_path)
and stops them all at teardown: SIGTERM first (the node kills its task children), then
SIGKILL for the group. Import the fixtures into a test module (or conftest.py) by name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "ecservice.py"
HAPPY_TASK = {"docker_image": "ubuntu:14.04", "cmd": ["echo", "hello world"]}
HTPASSWD_LINE = "key:$apr1$ecsload1$1DiU2j47VqeXS.v4Bo4ir1\n"
"""One usable htpasswd entry (key:secret, apr1-MD5) for tests that need auth on, not a pair."""
READY_WITHIN_S = 20.0
STOP_WITHIN_S = 15.0
WAIT_S = 20.0


@dataclass
class RunningNode:
    """A node process and where to reach it; `api` is the URL under /v1.1."""

    proc: subprocess.Popen[bytes]
    base: str
    folder: Path

    @property
    def api(self) -> str:
        return f"{self.base}/v1.1"

    @property
    def log(self) -> str:
        return (self.folder / "node.log").read_text()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the node and wait (bounded) for its exit code."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signum)
        return self.proc.wait(timeout=STOP_WITHIN_S)

    def kill(self) -> None:
        """Last resort: the node's whole process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_WITHIN_S)


def run_node(folder: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run the node to its end (for settings it must refuse), capturing its output."""
    return subprocess.run(
        [sys.executable, str(NODE), "--port", "0", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_node(folder: Path, *args: str, prefix: Sequence[str] = ()) -> RunningNode:
    """Start a node with `args` (on --port 0, runner process unless given) and wait until ready;
    `prefix` is a command that execs the node (the pid stays the node's)."""
    folder.mkdir(parents=True, exist_ok=True)
    ready = folder / "ready"
    has_runner = any(arg.startswith("--runner") for arg in args)
    command = [
        *prefix,
        sys.executable,
        str(NODE),
        "--port",
        "0",
        "--ready-file",
        str(ready),
        "--log-file",
        str(folder / "node.log"),
        *([] if has_runner else ["--runner", "process"]),
        *args,
    ]
    with open(folder / "stdout.txt", "wb") as out, open(folder / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(command, cwd=folder, stdout=out, stderr=err, start_new_session=True)
    node = RunningNode(proc, "", folder)
    deadline = time.monotonic() + READY_WITHIN_S
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            node.kill()
            stderr = (folder / "stderr.txt").read_text()
            raise AssertionError(f"the node did not get ready (exit {proc.returncode}): {stderr}")
        time.sleep(0.02)
    node.base = ready.read_text().strip()
    return node


@contextlib.contextmanager
def running_node(folder: Path, *args: str) -> Iterator[RunningNode]:
    """start_node for a `with` block (benchmarks, helpers): the node is stopped at its end."""
    node = start_node(folder, *args)
    try:
        yield node
    finally:
        _stop_all([node])


def _stop_all(started: list[RunningNode]) -> None:
    for node in started:
        if node.proc.poll() is None:
            try:
                node.stop()
            except subprocess.TimeoutExpired:
                node.kill()


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator[Callable[..., RunningNode]]:
    """start(*args, name="node") -> RunningNode; every node is stopped at teardown."""
    started: list[RunningNode] = []

    def start(*args: str, name: str = "node") -> RunningNode:
        node = start_node(tmp_path / name, *args)
        started.append(node)
        return node

    yield start
    _stop_all(started)


@dataclass(frozen=True)
class Credentials:
    htpasswd: Path
    pairs: list[tuple[str, str]]


def run_creds(*args: str, umask: int = -1) -> subprocess.CompletedProcess[str]:
    """Run `python -m ecsnode.creds ARGS` as an operator would (with `umask` if given)."""
    return subprocess.run(
        [sys.executable, "-m", "ecsnode.creds", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        umask=umask,
    )


def make_credentials(htpasswd: Path, count: int = 3) -> subprocess.CompletedProcess[str]:
    return run_creds(str(count), "--htpasswd", str(htpasswd))


def read_pairs(stdout: str) -> list[tuple[str, str]]:
    return [(key, secret) for key, _, secret in (line.partition(":") for line in stdout.split())]


@pytest.fixture
def credentials(tmp_path: Path) -> Credentials:
    """Three key:secret pairs made by `python -m ecsnode.creds`, hashed into an htpasswd file."""
    htpasswd = tmp_path / ".htpasswd"
    done = make_credentials(htpasswd)
    assert done.returncode == 0, done.stderr
    return Credentials(htpasswd, read_pairs(done.stdout))


@pytest.fixture(scope="module")
def secured_node(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningNode, tuple[str, str]]]:
    """One node per test module with auth on (creds command), and one valid key:secret pair."""
    folder = tmp_path_factory.mktemp("secured")
    done = make_credentials(folder / ".htpasswd")
    assert done.returncode == 0, done.stderr
    node = start_node(folder / "node", "--htpasswd", str(folder / ".htpasswd"))
    yield node, read_pairs(done.stdout)[0]
    _stop_all([node])


def wait_for(flag: Path, within: float = WAIT_S) -> None:
    """Wait (bounded) until `flag` exists: a task's sign that it got that far."""
    deadline = time.monotonic() + within
    while not flag.exists():
        assert time.monotonic() < deadline, f"{flag} never appeared"
        time.sleep(0.01)


@pytest.fixture
def task_scratch() -> Iterator[Path]:
    """A folder where a task, whichever user it runs as, can leave signs for the test (tmp_path
    is under root's 0700 pytest folder, which the node's task user cannot reach; and a task
    of a root node has a /tmp of its own, hence /var/tmp)."""
    folder = Path(tempfile.mkdtemp(prefix="ecs-node-test-", dir="/var/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def unique_sleep() -> str:
    """An argument for `sleep` (about 1003 s) that no other process on the machine has, so a
    test can find the processes it started (a task in a PID namespace cannot say its pid)."""
    return f"1003.{secrets.randbelow(10**9):09d}"


def processes_with(token: str) -> list[int]:
    """The live processes (not zombies) whose command line holds `token`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            command = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # it exited while we looked
        if token.encode() in command and state != "Z":
            found.append(int(name))
    return found


def assert_gone(token: str, within: float = WAIT_S) -> None:
    """Wait (bounded) until no process holds `token`; if some outlive the wait, kill them (a
    failed test leaves nothing running) and fail."""
    deadline = time.monotonic() + within
    while left := processes_with(token):
        if time.monotonic() > deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"{len(left)} processes of the task outlived it: {left}")
        time.sleep(0.05)


def wait_until_running(token: str, within: float = WAIT_S) -> None:
    """Wait (bounded) until a process with `token` in its command line runs."""
    deadline = time.monotonic() + within
    while not processes_with(token):
        assert time.monotonic() < deadline, f"no process with {token} started"
        time.sleep(0.02)


def post_task(
    node: RunningNode, body: object, auth: tuple[str, str] | None = None, **kw: Any
) -> requests.Response:
    """POST /tasks: a dict goes as JSON; anything else (str, bytes, chunk iterator) as it is."""
    if isinstance(body, dict):
        return requests.post(f"{node.api}/tasks", json=body, auth=auth, timeout=30, **kw)
    data: Any = body  # str, bytes or a chunk iterator: requests sends each as it is
    return requests.post(f"{node.api}/tasks", data=data, auth=auth, timeout=30, **kw)
