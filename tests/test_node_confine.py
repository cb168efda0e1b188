"""A task cannot become a way in, nor outlive its request: real nodes, real tasks.

The tests of a root node's confinement (task user, PID namespace, parent-death signal) need
root, as CI runs them; elsewhere they skip with that reason. The not-root test runs the node
in a user namespace as uid 1000: it is really not root there (no setpriv, no PID namespace),
yet can still read the virtualenv, which lives under /root (0700) on the development machine.
"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import pwd
import statistics
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.node_fixtures import (
    HAPPY_TASK,
    assert_gone,
    post_task,
    run_node,
    start_node,
    unique_sleep,
    wait_until_running,
)

pytestmark = pytest.mark.e2e  # node processes with tasks and signals, on real time

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the task user needs a node run as root")
BOMB_TIMEOUT_S = 4


def run(node, cmd: list[str]) -> tuple[int, bytes, bytes]:
    answer = post_task(node, {**HAPPY_TASK, "cmd": cmd})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["exitCode"], base64.b64decode(body["stdout"]), base64.b64decode(body["stderr"])


@as_root
def test_tasks_of_a_root_node_run_as_nobody(node_factory):
    node = node_factory()
    nobody = pwd.getpwnam("nobody")
    assert run(node, ["id", "-u"])[:2] == (0, f"{nobody.pw_uid}\n".encode())
    assert run(node, ["id", "-G"])[1] == f"{nobody.pw_gid}\n".encode()  # no other groups
    assert "tasks run as nobody" in node.log


@as_root
def test_task_user_flag(node_factory):
    daemon = pwd.getpwnam("daemon")
    node = node_factory("--task-user", "daemon")
    assert run(node, ["id", "-u"])[1] == f"{daemon.pw_uid}\n".encode()


@as_root
def test_a_task_owns_its_folder_and_nothing_the_node_keeps_private(node_factory, task_scratch):
    private = task_scratch / "run"  # like the harness's run folder: 0700, the node's user's
    private.mkdir(mode=0o700)
    (private / "credentials.txt").write_text("key:secret\n")
    node = node_factory()
    code, out, _ = run(node, ["sh", "-c", "touch mine && stat -c %U . mine"])
    assert (code, out) == (0, b"nobody\nnobody\n")
    code, out, err = run(node, ["cat", str(private / "credentials.txt")])
    assert (code, out) == (1, b"")
    assert b"Permission denied" in err
    code, _, err = run(node, ["sh", "-c", f"echo x > {private}/planted"])
    assert code != 0 and b"Permission denied" in err
    assert run(node, ["su", "-c", "id -u", "root"])[0] != 0  # no way up
    assert not (private / "planted").exists()


@pytest.mark.parametrize("user", ["root", "no-such-user-here"])
def test_task_user_must_be_an_unprivileged_user(tmp_path, user):
    done = run_node(tmp_path, "--runner", "process", "--task-user", user)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and f"--task-user {user}" in done.stderr


@as_root
def test_a_setsid_process_dies_when_its_task_ends(node_factory):
    node = node_factory()
    token = unique_sleep()
    assert run(node, ["setsid", "-f", "sleep", token])[0] == 0
    assert_gone(token)


@as_root
def test_a_setsid_process_dies_when_its_task_times_out(node_factory):
    node = node_factory("--task-timeout", "1")
    token = unique_sleep()
    code, _, err = run(node, ["sh", "-c", f"setsid -f sleep {token}; exec sleep 60"])
    assert code == 137 and b"time limit" in err
    assert_gone(token)


@as_root
def test_a_setsid_process_dies_when_the_node_stops(node_factory):
    node = node_factory()
    token = unique_sleep()
    task = {**HAPPY_TASK, "cmd": ["sh", "-c", f"setsid -f sleep {token}; exec sleep 60"]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(post_task, node, task)
        wait_until_running(token)
        assert node.stop() == 0
    assert_gone(token)


@as_root
def test_tasks_die_when_the_node_is_killed(node_factory):
    """Even SIGKILL of the node ends its tasks (the kernel's parent-death signal)."""
    node = node_factory()
    token = unique_sleep()
    task = {**HAPPY_TASK, "cmd": ["sh", "-c", f"setsid -f sleep {token}; exec sleep 60"]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(post_task, node, task)
        wait_until_running(token)
        node.proc.kill()
        node.proc.wait(timeout=30)
        with pytest.raises(requests.ConnectionError):
            running.result()
    assert_gone(token)


@as_root
def test_files_a_task_writes_to_tmp_and_shm_go_with_it(node_factory):
    node = node_factory()
    name = f"ecs-test-left-{unique_sleep()}"
    script = (
        f"head -c 30M /dev/zero > /tmp/{name} && head -c 30M /dev/zero > /dev/shm/{name} && "
        f"touch $HOME/{name} && ls /tmp /dev/shm"
    )
    code, out, err = run(node, ["sh", "-c", script])
    assert code == 0, err
    assert out.split().count(name.encode()) == 2  # written where the task looked
    for folder in ("/tmp", "/dev/shm"):  # the node's, and every other process's
        assert not (Path(folder) / name).exists(), folder
    code, out, _ = run(node, ["sh", "-c", "ls -A /tmp /dev/shm | grep -c ecs-test-left"])
    assert out == b"0\n"  # the next task starts with both empty


@as_root
def test_a_task_writes_no_file_larger_than_its_limit(node_factory):
    node = node_factory("--task-files", "8")
    for target in ("/tmp/big", "/dev/shm/big", "big"):
        code, _, err = run(node, ["sh", "-c", f"head -c 20M /dev/zero > {target}"])
        assert code == 128 + 25, (target, err)  # SIGXFSZ: RLIMIT_FSIZE at 8 MiB


def test_process_limit(node_factory):
    node = node_factory("--task-processes", "8")
    script = "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done; wait"
    err = run(node, ["sh", "-c", script])[2].lower()
    # "Cannot fork"; or, should other processes of the task user already hold the count,
    # the command's own start fails ("Resource temporarily unavailable").
    assert b"fork" in err or b"resource temporarily unavailable" in err


def test_memory_limit(node_factory):
    node = node_factory("--task-memory", "256")
    code, _, err = run(node, ["dd", "if=/dev/zero", "of=/dev/null", "bs=512M", "count=1"])
    assert code == 1 and b"memory exhausted" in err
    assert run(node, ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"])[0] == 0


def test_cpu_limit(node_factory):
    node = node_factory("--task-cpu", "1", "--task-timeout", "20")
    started = time.monotonic()
    code, _, err = run(node, ["sh", "-c", "while :; do :; done"])
    assert code == 137 and b"time limit" not in err  # killed by the CPU limit, not the clock
    assert time.monotonic() - started < 15


BOMBS = {
    "shell": ["sh", "-c", "b(){ b|b& }; b; sleep 60 # TOKEN"],
    "python": [
        "python3",
        "-c",
        "import os  # TOKEN\nwhile True:\n    try: os.fork()\n    except OSError: pass",
    ],
}


@as_root
@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_fork_bomb_is_contained_and_the_node_keeps_answering(node_factory, bomb):
    """The bomb hits the process limit, the timeout ends it, and _noop stays quick meanwhile.

    The bounds are loose on purpose (2 shared cores): seconds would mean the node starved.
    """
    node = node_factory("--task-timeout", str(BOMB_TIMEOUT_S))
    token = unique_sleep()
    cmd = [part.replace("TOKEN", token) for part in bomb]
    seconds: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with requests.Session() as session:
            while not done.is_set() and len(seconds) < 1000:
                started = time.monotonic()
                assert session.get(f"{node.api}/_noop", timeout=2).status_code == 200
                seconds.append(time.monotonic() - started)
                time.sleep(0.05)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        polling = pool.submit(poll)
        try:
            code, _, err = run(node, cmd)
        finally:
            done.set()
        polling.result()
    assert code == 137 and b"time limit" in err
    assert_gone(token)
    assert len(seconds) >= 10
    assert statistics.median(seconds) < 0.25, seconds
    assert run(node, ["echo", "still here"])[1] == b"still here\n"


def test_a_node_that_is_not_root_runs_tasks_as_its_own_user(tmp_path):
    prefix = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]
    node = start_node(tmp_path, prefix=prefix)
    try:
        assert run(node, ["id", "-u"])[1] == b"1000\n"
        assert "tasks run as the node's user in a process group each" in node.log
        assert "no PID namespace per task" in node.log
    finally:
        node.stop()
