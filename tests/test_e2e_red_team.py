"""End to end: what the red team broke (issue 29), each on the real script."""

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e_support import (
    level_under_way,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    script_in_background,
)

pytestmark = pytest.mark.e2e

NOT_UTF8 = b"build-\xff\xfe".decode("utf-8", "surrogateescape")  # the bytes reach argv as such


def test_a_level_of_five_requests_by_five_users_with_a_label_that_is_not_utf8(
    tmp_path: Path,
) -> None:
    """-c 5 -n 5: no user sent twice, and the corrected percentiles crashed (IndexError);
    a label of bytes that are not UTF-8 crashed the plan (UnicodeEncodeError): exit 1,
    no summary, no report, no history row."""
    result = run_script("-c", "5", "-n", "5", "-r", "100", "--label", NOT_UTF8, "-o", str(tmp_path))

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
    assert f"WARNING: {sent} harness message(s) without this run's token were dropped" in out
    assert not processes_mentioning(str(tmp_path))
