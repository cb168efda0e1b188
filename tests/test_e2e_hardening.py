"""End to end: what a hostile but fair user found (issue 11), each reproduced and now handled.

A target that never answers, a full disk, a virtualenv another user made, secrets
on disk: the real script, bounded in time. The tests that need root (a tmpfs of
their own, another user) skip without it; CI runs as root.
"""

import contextlib
import csv
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_support import (
    ROOT,
    SCRIPT,
    clean_env,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    script_in_background,
)

pytestmark = pytest.mark.e2e

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a tmpfs, another user)")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers (for 120 s at most)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    done = threading.Event()

    def hold() -> None:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    done.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()


def test_requests_unanswered_at_the_time_cap_are_errors_and_the_sweep_goes_on(
    tmp_path: Path, silent_server: str
) -> None:
    env = clean_env(ECS_ENDPOINT=silent_server)
    result = run_script(
        "-v", "-n", "200", "-c", "2 5", "-t", "5", "--no-credentials", "-o", str(tmp_path),
        env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path)
    levels = read_json(run_dir / "summary.json")["levels"]
    assert [level["users"] for level in levels] == [2, 5]
    for level in levels:
        users = level["users"]
        assert level["stopped_by"] == "time"
        assert level["requests"] == users  # one request per user, none answered
        assert level["all"]["error"] == users and level["all"]["ok"] == 0
        assert 4.5 <= level["seconds"] <= 5.5  # the measured phase lasted until the cap
        with (run_dir / f"level-{users}" / "samples.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert {(row["status"], row["error"]) for row in rows} == {
            ("0", "no answer before the time cap")
        }
        assert f"NOTE: {users} request(s) had no answer before the time cap" in result.stdout


def test_a_request_timeout_makes_each_unanswered_request_an_error_and_the_level_goes_on(
    tmp_path: Path, silent_server: str
) -> None:
    env = clean_env(ECS_ENDPOINT=silent_server)
    result = run_script(
        *("-n", "6", "-c", "2", "-t", "30", "--request-timeout", "1", "--probe-rate", "0"),
        *("--no-credentials", "-o", str(tmp_path)),
        env=env,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path)
    [level] = read_json(run_dir / "summary.json")["levels"]
    assert level["stopped_by"] == "requests"  # not the 30 s cap: each request gave up after 1 s
    assert level["requests"] == level["all"]["error"] == level["all"]["no_answer"] == 6
    assert level["all"]["p50"] is None  # a timed-out request is no latency
    with (run_dir / "level-2" / "samples.csv").open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["phase"] == "measure"]
    assert {row["status"] for row in rows} == {"0"}
    assert all(900 <= float(row["response_time_ms"]) <= 3000 for row in rows), rows
    assert read_json(run_dir / "plan.json")["sources"]["request_timeout"] == "option"


@NEEDS_ROOT
def test_a_full_disk_stops_the_level_and_says_so(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)], check=True)
    try:
        result = run_script("-c", "5", "-n", "100000", "-r", "100", "-t", "60", "-o", str(disk))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(
        "run_load_test.sh: Locust failed at 5 concurrency: the disk is full"
    )
    assert "Traceback" not in result.stderr


@NEEDS_ROOT
def test_the_local_nodes_secrets_are_private(tmp_path: Path) -> None:
    result = run_script("-c", "2", "-n", "50", "-r", "100", "-o", str(tmp_path))

    assert result.returncode == 0, result.stderr
    node = only_run_dir(tmp_path) / "node"
    assert stat.S_IMODE(node.stat().st_mode) == 0o700
    for secret in ("credentials.txt", ".htpasswd"):
        assert stat.S_IMODE((node / secret).stat().st_mode) == 0o600, secret
    other_user = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         "cat", str(node / "credentials.txt")],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert other_user.returncode != 0 and "Permission denied" in other_user.stderr


@NEEDS_ROOT
def test_a_virtualenv_another_user_made_is_named_as_the_cause() -> None:
    # Outside pytest's own folder, which only root may enter.
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        project = Path(folder) / "project"
        shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "results"))
        (project / ".venv" / "bin").mkdir(parents=True)
        (project / ".venv").chmod(0o700)  # root's, as a root-run first start leaves it
        Path(folder).chmod(0o755)
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             str(project / SCRIPT.name), "-c", "1"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**clean_env(), "HOME": folder},
        )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "exists but user nobody cannot use it (its owner: root)" in result.stderr
    assert "python3-venv" not in result.stderr


def test_the_local_node_accepts_the_users_own_credentials_byte_for_byte(tmp_path: Path) -> None:
    creds = tmp_path / "mine.txt"
    # A BOM, CRLF, and a secret with spaces at both ends: all must reach the node as written.
    creds.write_bytes(
        b"\xef\xbb\xbf0123456789abcdef0123456789abcdef: with spaces \r\n"
        b"fedcba9876543210fedcba9876543210:plain\r\n"
    )
    env = clean_env(ECS_CREDENTIALS=str(creds))
    result = run_script("-c", "5", "-n", "200", "-r", "100", "-o", str(tmp_path / "r"), env=env)

    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    level = read_json(run_dir / "summary.json")["levels"][0]
    assert level["all"]["error"] == 0 and level["all"]["ok"] == 200
    assert read_json(run_dir / "plan.json")["credentials"] == str(creds)
    assert not (run_dir / "node" / "credentials.txt").exists()  # no pairs of its own


def test_ctrl_c_after_the_summary_exits_with_the_verdict_and_says_what_is_complete(
    tmp_path: Path,
) -> None:
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    graphs = str(tmp_path / "graphs.pdf")  # the PDF keeps the report busy for a while
    with script_in_background(
        "-c", "2", "-n", "100", "-r", "100", "--graphs", graphs, results=tmp_path, **pipes
    ) as script:
        deadline = time.monotonic() + 120
        report = []
        while not report and time.monotonic() < deadline and script.poll() is None:
            report = [
                p for p in processes_mentioning("ecsload.commands.report") if str(tmp_path) in p
            ]
            time.sleep(0.05)
        assert report, "the report was never written"
        # Held still, so that the Ctrl-C falls while it runs (its charts drawn ahead, it
        # may otherwise be done within one look), then let go once the script has seen it.
        held = []
        for pid in (int(line.split(":", 1)[0]) for line in report):
            with contextlib.suppress(ProcessLookupError):  # a chart helper done meanwhile
                os.kill(pid, signal.SIGSTOP)
                held.append(pid)
        assert held, "the report was over before the Ctrl-C"
        os.kill(script.pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the script
        time.sleep(0.5)
        for pid in held:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        _, stderr = script.communicate(timeout=60)
        assert script.returncode == 0, stderr
        assert (
            "interrupted after the summary was written: summary.txt and summary.json are complete"
            in (stderr)
        )
        assert "the report was not: write it with" in stderr
        assert (only_run_dir(tmp_path) / "summary.json").is_file()
        assert not processes_mentioning(str(tmp_path))
