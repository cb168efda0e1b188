"""End to end: what the red team broke (issue 29), each on the real script."""

import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_support import (
    SCRIPT,
    clean_env,
    level_under_way,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    script_in_background,
)
from tests.postgres_support import postgres_missing, postgres_server

pytestmark = pytest.mark.e2e

NOT_UTF8 = b"build-\xff\xfe".decode("utf-8", "surrogateescape")  # the bytes reach argv as such


def test_a_level_of_five_requests_by_five_users_with_a_label_that_is_not_utf8(
    tmp_path: Path,
) -> None:
    """-c 5 -n 5: no user sent twice, and the corrected percentiles crashed (IndexError);
    a label of bytes that are not UTF-8 crashed the plan (UnicodeEncodeError): exit 1,
    no summary, no report, no history row."""
    result = run_script(
        "-v", "-c", "5", "-n", "5", "-r", "100", "--label", NOT_UTF8, "-o", str(tmp_path)
    )  # -v: every table printed

    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    run_dir = only_run_dir(tmp_path)
    assert (run_dir / "summary.txt").read_text() in result.stdout
    level = read_json(run_dir / "summary.json")["levels"][0]
    assert level["requests"] == 5
    assert (run_dir / "report.html").is_file()
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        assert db.execute("SELECT label FROM runs").fetchall() == [("build-\ufffd\ufffd",)]
    assert not processes_mentioning(str(tmp_path))


def master_port(marker: str, seconds: float = 60) -> int | None:
    """The --master-bind-port of the sweep's implicit master, once Locust runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in processes_mentioning(marker):
            words = line.split()
            if "--master-bind-port" in words and "--processes" in words:
                return int(words[words.index("--master-bind-port") + 1])
        time.sleep(0.1)
    return None


def test_a_rogue_client_sending_samples_to_the_master_changes_no_figure(
    tmp_path: Path,
) -> None:
    """Any local process could inject ecs_samples into a --processes sweep: 20,000 fake
    0.01 ms samples made --fail-on p95<50 pass against a 200 ms server."""
    import msgpack
    import zmq

    context = zmq.Context()
    sent = 0
    with script_in_background(
        *("-c", "4", "-d", "4", "-r", "100", "--processes", "2"),
        results=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as sweep:
        try:
            port = master_port(str(tmp_path))
            assert port is not None, "no master"
            assert level_under_way(tmp_path, 4, 200, sweep), "the level did not start"
            rogue = context.socket(zmq.DEALER)
            rogue.setsockopt(zmq.IDENTITY, b"rogue")
            rogue.setsockopt(zmq.LINGER, 0)
            rogue.connect(f"tcp://127.0.0.1:{port}")
            now = int(time.time() * 1000)
            fake = [f"{now},NoOp,7,1,200,0.010,measure,,0.000\n"] * 500
            for token in (None, "0" * 32):  # none, and a wrong one
                for _ in range(10):  # bounded: 20 messages of 500 fake samples
                    data: dict = {"lines": fake}
                    if token is not None:
                        data["token"] = token
                    # Locust's Message.serialize (locust.rpc.protocol), without importing
                    # locust here: it monkey-patches the test process.
                    rogue.send(msgpack.dumps(("ecs_samples", data, "rogue")))
                    sent += 1
                    time.sleep(0.1)
            rogue.close()
            out, err = sweep.communicate(timeout=240)
        finally:
            context.term()
    assert sweep.returncode == 0, err + out
    run_dir = only_run_dir(tmp_path)
    samples = (run_dir / "level-4" / "samples.csv").read_text().splitlines()[1:]
    assert not [line for line in samples if line.split(",")[5] == "0.010"]
    level = read_json(run_dir / "summary.json")["levels"][0]
    assert level["samples"] == len(samples)
    assert level["workers"]["rejected"] == sent
    assert f"{sent} foreign message(s) dropped" in out  # the level's line on the terminal
    warning = f"WARNING: {sent} harness message(s) without this run's token were dropped"
    assert warning in (run_dir / "level-4" / "summary.txt").read_text()
    assert not processes_mentioning(str(tmp_path))


def run_watching_for(secret: str, *args: str, env: dict[str, str]) -> tuple[int, str, list[str]]:
    """The script run to its end while every process's arguments are polled for `secret`:
    (exit code, its output, the command lines that held it). The script's own first
    command line (the user's, which the test gives it) holds it until the script runs
    itself again without it, at once: a later sight of it there counts."""
    seen: list[str] = []
    with subprocess.Popen(
        [str(SCRIPT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as script:
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.append(script.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        deadline = time.monotonic() + 300
        own = f"{script.pid}: "
        hidden = False
        while script.poll() is None and time.monotonic() < deadline:
            found = processes_mentioning(secret)
            seen += [line for line in found if hidden or not line.startswith(own)]
            hidden = hidden or runs_without(script.pid, secret)
            time.sleep(0.05)
        if script.poll() is None:
            script.kill()
        script.wait()
        reader.join(10)
    return script.returncode, "".join(output), seen


def runs_without(pid: int, secret: str) -> bool:
    """Whether the script's process now runs as itself without `secret` in its arguments.
    An empty command line is no such sign: the kernel shows one for a moment inside an
    exec (after Popen returns, before the new arguments are in place), and a poll there
    once took the user's own command line, read next, for a leak (CI, 1 run in ~20)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "run_load_test.sh" in cmdline and secret not in cmdline


def assert_nowhere(secret: str, output: str, seen: list[str], folder: Path) -> None:
    assert not seen, seen
    assert secret not in output
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if missing := postgres_missing():
        pytest.skip(missing)
    with postgres_server(Path(tempfile.mkdtemp(prefix="ecs-red-pg-"))) as url:
        yield url


PLANTED = "pl4nt-8c1e/zz"  # an unencoded / as well: SQLAlchemy's parse takes it whole


def test_a_history_password_is_in_no_command_line_output_or_file(
    tmp_path: Path, postgres_url: str
) -> None:
    """The password was on the report's command line (`env ECS_LOAD_HISTORY=…`), in
    baseline messages, and leaked by a masking that did not parse as SQLAlchemy does."""
    down = f"postgresql://ecs:{PLANTED}@127.0.0.1:1/history"
    code, output, seen = run_watching_for(
        PLANTED,
        "-v",
        "-c",
        "2",
        "-n",
        "10",
        "-r",
        "100",
        "--history",
        down,
        "-o",
        str(tmp_path / "down"),
        env=clean_env(),
    )
    assert code == 8, output  # the history it was told to use could not be written
    assert "postgresql://ecs:***@127.0.0.1:1/history" in output
    assert_nowhere(PLANTED, output, seen, tmp_path / "down")
    up_password = postgres_url.split(":")[2].split("@")[0]
    for run in ("first", "second"):  # the second reads the first as its baseline
        code, output, seen = run_watching_for(
            up_password,
            "-v",
            "-c",
            "2",
            "-n",
            "10",
            "-r",
            "100",
            "--baseline",
            "last",
            "-o",
            str(tmp_path / run),
            env=clean_env(ECS_LOAD_HISTORY=postgres_url),
        )
        assert code == 0, output
        assert "Added to the history postgresql://ecs:***@127.0.0.1" in output
        assert_nowhere(up_password, output, seen, tmp_path / run)
    assert (only_run_dir(tmp_path / "second") / "report.html").is_file()


def test_ctrl_c_between_repeats_leaves_a_partial_run_with_its_report(tmp_path: Path) -> None:
    """SIGINT during repeat 2 left no report.html, and `report RUN` refused the folder
    ("holds no level summary"); nothing marked the run partial."""
    with script_in_background(
        *("-c", "2 3", "-d", "1", "-r", "100", "--repeat", "2"),
        results=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as script:
        deadline = time.monotonic() + 180
        while not list(tmp_path.glob("*/level-2/repeat-2/samples.csv")):
            assert script.poll() is None and time.monotonic() < deadline, "no repeat 2"
            time.sleep(0.1)
        os.killpg(script.pid, signal.SIGINT)  # as a terminal's Ctrl-C
        _, err = script.communicate(timeout=120)
    assert script.returncode == 130, err
    run_dir = only_run_dir(tmp_path)
    summary = read_json(run_dir / "summary.json")
    assert summary["interrupted"] is True
    assert [level["users"] for level in summary["levels"]] == [2, 3]
    assert [r["repeat"] for r in summary["levels"][0]["repeats"]] == [1]
    assert "NOTE: the run was interrupted" in (run_dir / "summary.txt").read_text()
    assert (run_dir / "report.html").is_file()
    (run_dir / "report.html").unlink()
    again = run_script("report", str(run_dir))
    assert again.returncode == 0, again.stderr
    assert (run_dir / "report.html").is_file()
