"""The level server and its client, and the forked children under them (ecsload/children.py).

Real processes throughout: a server on a Unix socket in the test's folder, its client as
bash runs it (`python -S`), and, for a stop, a real Locust level against nginx on
127.0.0.1.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.children import Child
from ecsload.exits import EXIT_ERROR, EXIT_LOCUST, EXIT_USAGE
from ecsload.sweeps_here import REGISTRY
from tests.e2e_support import processes_mentioning
from tests.ecsload_support import LOCUSTFILE, command_env, plan, planned
from tests.nginx_support import nginx_ecs, nginx_missing


def test_a_forked_child_returns_its_code_and_a_stop_kills_its_whole_group(tmp_path: Path) -> None:
    assert Child.fork(lambda: 7).finish(5) == 7
    marker = tmp_path / "grandchild"

    def stubborn() -> int:  # ignores SIGTERM, and leaves a grandchild in its group
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sh", "-c", "sleep 60; :", str(marker)])  # the marker: its $0
        time.sleep(60)
        return 0

    child = Child.fork(stubborn)
    deadline = time.monotonic() + 10
    while not processes_mentioning(str(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(str(marker))
    started = time.monotonic()
    assert child.stop(0.5) == 128 + signal.SIGKILL
    assert time.monotonic() - started < 5
    assert processes_mentioning(str(marker)) == []
    assert child.stop(0.5) == 128 + signal.SIGKILL  # once reaped, never signalled again


def test_a_child_stopped_before_it_leads_its_group_is_killed_all_the_same() -> None:
    """Just forked, a child is not yet the leader of a group of its own: a stop at once
    (the run-end server's drawer, stopped as the run's end began) killed no group, and the
    wait for the child never ended. Here the child stays in that state for 60 s, deaf to
    SIGTERM, then would block for ever."""

    def fork_then_linger() -> int:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)  # before Child.fork's setpgid
        return pid

    child = Child.fork(signal.pause, fork_then_linger)  # type: ignore[arg-type]
    time.sleep(0.2)
    assert os.getpgid(child.pid) == os.getpgid(0)  # in this process's group still
    assert child.stop(0) == 128 + signal.SIGKILL


@contextlib.contextmanager
def level_server(
    run_dir: Path, socket: Path, role: str = "levels"
) -> Iterator[subprocess.Popen[str]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "ecsload.commands.level_server", str(socket), str(run_dir), role],
        env=command_env(),
        text=True,
    )
    try:
        yield server
    finally:
        server.terminate()
        assert server.wait(timeout=30) in (0, 128 + signal.SIGTERM)  # after, before its imports


def client(socket: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-S", "-m", "ecsload.commands.level_client", str(socket), *args],
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def test_the_client_gets_the_commands_output_and_exit_code(tmp_path: Path) -> None:
    socket = tmp_path / "level.sock"
    with level_server(tmp_path, socket):
        asked = client(socket, "capacity", "next")  # tmp_path has no plan.json
        out, err = asked.communicate(timeout=60)
        assert asked.returncode == EXIT_LOCUST, err
        assert out == ""
        assert "plan.json" in err and len(err.splitlines()) == 1
        unknown = client(socket, "sleep", "10")
        assert unknown.communicate(timeout=30) == ("", "")
        assert unknown.returncode == EXIT_USAGE


def scheduling_policies(pid: int) -> dict[int, int]:
    """Each thread's scheduling policy (proc(5): field 41 of its stat), by thread ID."""
    policies = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            policies[int(task.name)] = int(fields[41 - 3])
    return policies


def test_the_run_end_server_imports_at_idle_priority_and_runs_the_runs_end_without_gevent(
    tmp_path: Path,
) -> None:
    socket = tmp_path / "run-end.sock"
    with level_server(tmp_path, socket, "run-end") as server:
        # Its imports go on while the levels run: a thread of their own at SCHED_IDLE; the
        # main thread, which forks the commands, keeps the normal policy.
        deadline = time.monotonic() + 30
        while os.SCHED_IDLE not in scheduling_policies(server.pid).values():
            assert time.monotonic() < deadline, "no thread at SCHED_IDLE while importing"
            time.sleep(0.005)
        assert scheduling_policies(server.pid)[server.pid] == os.SCHED_OTHER
        report = client(socket, "report", "-q")  # tmp_path holds no level summary
        out, err = report.communicate(timeout=60)
        assert out == ""
        assert report.returncode == EXIT_USAGE, err
        assert "holds no level summary" in err and len(err.splitlines()) == 1
        # Imports done: their thread is gone (on a loaded machine, at SCHED_IDLE, its exit
        # itself may wait a moment for a core).
        deadline = time.monotonic() + 10
        while scheduling_policies(server.pid) != {server.pid: os.SCHED_OTHER}:
            assert time.monotonic() < deadline, scheduling_policies(server.pid)
            time.sleep(0.01)
        # Its imports are the run's end's: the report's charts fork helpers with a plain
        # fork, which gevent would have patched.
        maps = Path(f"/proc/{server.pid}/maps").read_text()
        assert "matplotlib" in maps and "gevent" not in maps
        level = client(socket, "level", "10", "1", "1", "1")  # the levels server's, not its
        assert level.communicate(timeout=30) == ("", "")
        assert level.returncode == EXIT_USAGE


def test_the_levels_server_imports_what_a_levels_locust_loads_and_reaps_no_child() -> None:
    """Each level's Locust, forked from the levels server, loads locustfile.py anew: what
    that imports is the server's already (WARM), not 0.04 s of every level's start. And
    none of those imports runs a subprocess under gevent: its child watcher would reap the
    children a level waits for (ecsload/children.py: `No child processes`)."""
    loads = (  # in a process of its own: pytest's has imported much else
        "import importlib, importlib.util, os, sys\n"
        "from ecsload.commands.level_server import ROLES, WARM\n"
        "for path, _ in ROLES['levels'].values(): importlib.import_module(path)\n"
        "for path in WARM['levels']: importlib.import_module(path)\n"
        "before = set(sys.modules)\n"
        f"spec = importlib.util.spec_from_file_location('locustfile', {str(LOCUSTFILE)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted(set(sys.modules) - before))\n"
        "import gevent, gevent.os\n"
        "pid = gevent.os.fork_gevent()\n"
        "if pid == 0:\n"
        "    os._exit(3)\n"
        "gevent.sleep(0.2)  # the event loop runs: a child watcher would reap it now\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", loads], env=command_env(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "3"]


def test_a_levels_server_started_before_the_plan_serves_once_told_the_run(
    tmp_path: Path,
) -> None:
    """Started before the plan (RUN_DIR `-`), it answers nothing but `run RUN_DIR`, once;
    then it serves that run, and puts its sweep on the machine's register."""
    socket = tmp_path / "levels.sock"
    with level_server(Path("-"), socket) as server:
        early = client(socket, "capacity", "next")
        assert early.communicate(timeout=60) == ("", "")
        assert early.returncode == EXIT_USAGE
        assert not (REGISTRY / f"{server.pid}.json").exists()
        told = client(socket, "run", str(tmp_path))
        assert told.communicate(timeout=60) == ("", "") and told.returncode == 0
        assert json.loads((REGISTRY / f"{server.pid}.json").read_text())["run"] == str(tmp_path)
        again = client(socket, "run", str(tmp_path / "other"))
        assert again.communicate(timeout=60) == ("", "") and again.returncode == EXIT_USAGE
        asked = client(socket, "capacity", "next")  # tmp_path has no plan.json: its error
        _out, err = asked.communicate(timeout=60)
        assert asked.returncode == EXIT_LOCUST and "plan.json" in err, err
    assert not (REGISTRY / f"{server.pid}.json").exists()


def test_a_server_of_no_known_role_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ecsload.commands.level_server", str(tmp_path / "s"),
         str(tmp_path), "everything"],
        env=command_env(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert done.stderr == (
        "usage: python -m ecsload.commands.level_server SOCKET RUN_DIR|- levels|run-end\n"
    )
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("stopped", ["importing", "serving"])
def test_a_stopped_server_removes_its_socket_and_the_folder_made_for_it(
    tmp_path: Path, stopped: str
) -> None:
    folder = tmp_path / "ecs-load.socket"
    folder.mkdir()
    socket = folder / "level.sock"
    with level_server(tmp_path, socket) as server:
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert socket.exists()
        if stopped == "serving":  # an answer comes once the imports are done
            assert client(socket, "sleep", "1").wait(timeout=60) == EXIT_USAGE
    assert not folder.exists()
    assert not (REGISTRY / f"{server.pid}.json").exists()  # the sweep's registration

    (folder / "other").mkdir(parents=True)  # a folder holding more is not the server's alone
    with level_server(tmp_path, socket):
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert sorted(path.name for path in folder.iterdir()) == ["other"]


@pytest.mark.parametrize("role", ["levels", "run-end"])
def test_a_stop_at_any_point_of_the_imports_is_silent_and_leaves_nothing(
    tmp_path: Path, role: str
) -> None:
    # A stop that raised inside an import (gevent patching the import locks) ended in a
    # traceback on the script's stderr: a bad certificate's one line became a hundred.
    for delay in (0.01, 0.1, 0.2, 0.3, 0.4, 0.5):  # after it bound its socket
        folder = tmp_path / f"at-{delay}"
        folder.mkdir()
        server = subprocess.Popen(
            [sys.executable, "-m", "ecsload.commands.level_server", str(folder / "s.sock"),
             str(tmp_path), role],
            env=command_env(), stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (folder / "s.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        finally:
            server.kill()  # one that would not stop must not outlive the test
        assert err == "", f"stopped after {delay} s: {err}"
        assert server.returncode in (0, 128 + signal.SIGTERM)
        assert not folder.exists()
        assert not (REGISTRY / f"{server.pid}.json").exists()  # the sweep's registration


def test_no_server_is_one_line_and_exit_1(tmp_path: Path) -> None:
    asked = client(tmp_path / "none.sock", "capacity", "next")
    _, err = asked.communicate(timeout=30)
    assert asked.returncode == EXIT_ERROR
    assert "the level server at" in err and len(err.splitlines()) == 1


@pytest.mark.e2e  # a real Locust level against nginx
def test_a_client_that_hangs_up_stops_its_level_and_the_server_stops_clean(
    tmp_path: Path,
) -> None:
    if missing := nginx_missing():
        pytest.skip(missing)
    with nginx_ecs(tmp_path / "nginx", access_log=False) as target:
        env = {"ECS_ENDPOINT": target.url, "ECS_CREDENTIALS": str(target.credentials)}
        planned_run = plan(tmp_path, "-c", "2", "-d", "60", "--no-history", "-q", **env)
        assert planned_run.returncode == 0, planned_run.stderr
        run_dir = Path(planned(planned_run)["run_dir"])
        socket = tmp_path / "level.sock"
        with level_server(run_dir, socket) as server:
            asked = client(socket, "level", "2", "1", "1", "1", target.url, str(target.credentials))
            samples = run_dir / "level-2" / "samples.csv"
            deadline = time.monotonic() + 30
            while not (samples.exists() and samples.stat().st_size) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert samples.stat().st_size, "the level never started"
            asked.kill()  # the client goes: its level must go too, keeping what it measured
            asked.communicate(timeout=10)
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
            deadline = time.monotonic() + 20
            while children.read_text().split() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert children.read_text().split() == []
            info = (run_dir / "level-2" / "level.json").read_text()
            assert '"stopped_by": "other"' in info
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=10) == 0
        assert processes_mentioning(str(run_dir)) == []
        assert not os.path.exists(run_dir / "level-2" / "summary.json")  # stopped: no table
