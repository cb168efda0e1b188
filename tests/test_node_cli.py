"""The node as a command: settings, refusals, the ready signal, logs, and a graceful stop."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import re
import signal
import time
from collections.abc import Callable

import pytest
import requests

import ecsnode
from tests.node_fixtures import (
    HAPPY_TASK,
    HTPASSWD_LINE,
    assert_gone,
    post_task,
    run_node,
    unique_sleep,
    wait_for,
    wait_until_running,
)

pytestmark = pytest.mark.e2e  # node processes with tasks and signals, on real time


def assert_one_line_refusal(done, *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--port", "http"], "--port"),
        (["--port", "65536"], "port"),
        (["--runner", "kubernetes"], "--runner"),
        (["--log-level", "loud"], "--log-level"),
        (["--max-concurrent-tasks", "0"], "--max-concurrent-tasks"),
        (["--task-timeout", "-1"], "--task-timeout"),
        (["--images", "ubuntu"], "images"),
        (["--no-such-flag"], "--no-such-flag"),
        (["--config", "missing.conf"], "missing.conf"),
        (["--htpasswd", "missing.htpasswd"], "missing.htpasswd"),
        (["--deployment", "missing.json"], "missing.json"),
        (["--log-file", "no/such/folder/node.log"], "--log-file"),
        (["--delay", "noop"], "--delay"),
        (["--delay", "nap=5"], "--delay"),
        (["--delay", "noop=-1"], "--delay noop="),
        (["--delay", "tasks=fast"], "--delay tasks="),
        (["--address", "192.0.2.1"], "credentials"),
        (["--address", "host.invalid", "--htpasswd", "h", "--allow-remote-tasks"], "cannot listen"),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, args, word):
    (tmp_path / "h").write_text(HTPASSWD_LINE)
    assert_one_line_refusal(run_node(tmp_path, *args), word)


@pytest.mark.parametrize(
    ("ini", "word"),
    [
        ("port=8448\n", "[ecs]"),
        ("[ecs]\nport=8448\nworkers=4\n", "workers"),
        ("[ecs]\nport=eighty\n", "port"),
        ("[ecs]\nmax_concurrent_executing_http_requests=none\n", "max_concurrent"),
        ("[ecs]\ndocker_remote_api_connect_timeout=soon\n", "docker_remote_api_connect_timeout"),
        ("[ecs]\nlog_level=chatty\n", "log_level"),
    ],
)
def test_bad_config_files_exit_2_with_one_line(tmp_path, ini, word):
    (tmp_path / "ecs.conf").write_text(ini)
    assert_one_line_refusal(run_node(tmp_path, "--config", "ecs.conf"), word)


def test_non_loopback_with_process_runner_needs_consent(tmp_path):
    (tmp_path / "h").write_text(HTPASSWD_LINE)
    done = run_node(tmp_path, "--address", "0.0.0.0", "--htpasswd", "h", "--runner", "process")
    assert_one_line_refusal(done, "--allow-remote-tasks")


@pytest.mark.parametrize(
    ("content", "word"),
    [
        ("", "no entries"),
        ("\n\n", "no entries"),
        ("k1:secret\nk2:other secret\n", "none of its 2 entries has a supported hash"),
    ],
    ids=["empty", "blank lines", "plaintext only"],
)
def test_htpasswd_without_a_usable_entry_exits_2(tmp_path, content, word):
    (tmp_path / "h").write_text(content)
    log = tmp_path / "node.log"
    done = run_node(tmp_path, "--htpasswd", "h", "--log-file", str(log))
    assert_one_line_refusal(done, "htpasswd file h", word)
    assert "listening" not in log.read_text()


def test_htpasswd_with_some_unusable_entries_says_so(node_factory, tmp_path):
    (tmp_path / "h").write_text("plain:secret\n" + HTPASSWD_LINE)
    node = node_factory("--htpasswd", str(tmp_path / "h"))
    assert requests.get(f"{node.api}/_noop", auth=("key", "secret"), timeout=30).status_code == 200
    assert "1 of 2 entries have no supported hash" in node.log


@pytest.mark.parametrize("flag", ["--ready-file", "--status-file"])
@pytest.mark.parametrize("where", ["no/such/folder/file", "."], ids=["missing folder", "a folder"])
def test_unwritable_ready_or_status_file_exits_2_before_listening(tmp_path, flag, where):
    log = tmp_path / "node.log"
    done = run_node(tmp_path, flag, where, "--log-file", str(log))
    assert_one_line_refusal(done, f"cannot write {flag} {where}")
    assert "listening" not in log.read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["node.log"]


def test_status_file_tells_url_runner_pid_and_version(node_factory):
    node = node_factory("--status-file", "status.json")
    status = json.loads((node.folder / "status.json").read_text())
    assert status == {
        "url": node.base,
        "runner": "process",
        "pid": node.proc.pid,
        "version": ecsnode.__version__,
    }
    assert requests.get(f"{status['url']}/v1.1/_noop", timeout=30).status_code == 200
    assert not [path for path in node.folder.iterdir() if ".tmp" in path.name]


def timed(call: Callable[[], requests.Response]) -> tuple[int, float]:
    started = time.monotonic()
    status = call().status_code
    return status, time.monotonic() - started


def test_delay_slows_the_named_endpoints_after_auth_without_blocking(node_factory, credentials):
    delay_s = 0.4
    node = node_factory(
        "--htpasswd", str(credentials.htpasswd),
        "--delay", "noop=100", "--delay", "noop=400", "--delay", "tasks=400",
    )  # fmt: skip
    auth = credentials.pairs[0]

    def noop() -> requests.Response:
        return requests.get(f"{node.api}/_noop", auth=auth, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda _: timed(noop), range(4)))
        together = time.monotonic() - started
    assert all(status == 200 and took >= delay_s for status, took in answers)
    assert together < 3 * delay_s  # four 0.4 s delays at once: the loop kept serving
    status, took = timed(lambda: post_task(node, HAPPY_TASK, auth))
    assert status == 201 and took >= delay_s
    status, took = timed(lambda: requests.get(f"{node.api}/_version", auth=auth, timeout=30))
    assert status == 200 and took < delay_s
    status, took = timed(lambda: requests.get(f"{node.api}/_noop", timeout=30))
    assert status == 401 and took < delay_s  # refusals are not delayed
    assert "test-only latency (--delay): noop +400 ms, tasks +400 ms" in node.log


def test_port_in_use_exits_2(node_factory, tmp_path):
    node = node_factory()
    port = node.base.rsplit(":", 1)[1]
    assert_one_line_refusal(run_node(tmp_path, "--port", port), "cannot listen")


def test_help_documents_flags_and_exit_codes(tmp_path):
    done = run_node(tmp_path, "--help")
    assert done.returncode == 0
    for flag in [
        "--config",
        "--htpasswd",
        "--deployment",
        "--runner",
        "--ready-file",
        "--status-file",
        "--delay",
        "Exit codes",
    ]:
        assert flag in done.stdout


def test_config_file_of_the_original_harness(node_factory, tmp_path):
    (tmp_path / "ecs.conf").write_text(
        "[ecs]\naddress=0.0.0.0\nport=8448\nlog_level=debug\n"
        "max_concurrent_executing_http_requests=250\n"
        "docker_remote_api=http://172.17.42.1:2375\n"
        "docker_remote_api_connect_timeout=3000\ndocker_remote_api_request_timeout=300000\n"
    )
    node = node_factory("--config", str(tmp_path / "ecs.conf"), "--address", "127.0.0.1")
    assert node.base.startswith("http://127.0.0.1:")  # flags beat the file
    assert requests.get(f"{node.api}/_noop", timeout=30).status_code == 200
    assert " DEBUG " in node.log  # log_level came from the file


def test_ready_line_ready_file_and_logs(node_factory, credentials):
    node = node_factory("--htpasswd", str(credentials.htpasswd), "--address", "127.0.0.2")
    assert node.base.startswith("http://127.0.0.2:")
    assert (node.folder / "stdout.txt").read_text() == f"ECS listening on {node.base}\n"
    key, secret = credentials.pairs[0]
    requests.get(f"{node.api}/_version", auth=(key, secret), timeout=30)
    requests.get(f"{node.api}/_version", timeout=30)
    assert node.stop() == 0
    log = node.log
    assert "runner=process" in log
    assert re.search(rf"ecsnode.access GET /v1.1/_version 200 [0-9.]+ms key={key}$", log, re.M)
    assert re.search(r"ecsnode.access GET /v1.1/_version 401 [0-9.]+ms key=-$", log, re.M)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_graceful_stop_lets_a_task_in_flight_finish(node_factory, task_scratch, signum):
    node = node_factory()
    started = task_scratch / "started"
    task = {**HAPPY_TASK, "cmd": ["sh", "-c", f"touch {started}; sleep 1; echo done"]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(post_task, node, task)
        wait_for(started)
        node.proc.send_signal(signum)
        answer = running.result()
    assert answer.status_code == 201
    assert answer.json()["stdout"] == "ZG9uZQo="  # base64 of "done\n"
    assert node.proc.wait(timeout=30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{node.api}/_noop", timeout=5)


def test_stop_kills_tasks_that_outlast_the_grace(node_factory):
    node = node_factory("--stop-grace", "0.3")
    token = unique_sleep()
    task = {**HAPPY_TASK, "cmd": ["sleep", token]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(post_task, node, task)
        wait_until_running(token)
        assert node.stop() == 0
        with contextlib.suppress(requests.ConnectionError):
            running.result()  # the killed task's answer, unless the node closed first
    assert_gone(token)
