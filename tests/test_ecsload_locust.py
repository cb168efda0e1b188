"""The locustfile in real headless Locust against a real ECS node over loopback.

These tests are about the harness (the model, the budget, the samples,
level.json), so they run Locust directly; the end-to-end tests run the script.
"""

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.analysis.samples import read_samples
from tests.ecsload_support import (
    Target,
    command_env,
    kill_group,
    locust_args,
    node_running,
    run_command,
    run_module,
)

pytestmark = pytest.mark.e2e  # real Locust processes against a real node

MODEL = {
    "NoOp": 200,
    "Version": 200,
    "Health-Check-Quick": 200,
    "Health-Check-Slow": 200,
    "Tasks-Happy-Path": 201,
    "Tasks-Image-Not-Found": 404,
    "Tasks-Bad-Request-Body": 400,
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with node_running(tmp_path_factory.mktemp("node")) as target:
        yield target


def level_json(folder: Path) -> dict:
    return json.loads((folder / "level.json").read_text())


def by_type(folder: Path, measured: bool = True) -> dict[str, Counter]:
    """Request type → Counter of (ok, status) over the level's measured (or ramp) samples."""
    samples = read_samples(folder / "samples.csv")
    samples = samples.where(samples.measured == measured)
    result: dict[str, Counter] = {}
    for code, ok, status in zip(samples.type_code, samples.ok, samples.status, strict=True):
        result.setdefault(samples.type_names[code], Counter())[(bool(ok), int(status))] += 1
    return result


def run_level(
    node: Target, folder: Path, *args: str, credentials: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One headless Locust level with the locustfile against the node; it must exit 0.
    `credentials` "": none (the option left out, as the plan leaves it out)."""
    creds = str(node.credentials) if credentials is None else credentials
    signing = ("--ecs-credentials", creds) if creds else ()
    result = run_command(locust_args(node.url, folder, *args, *signing))
    assert result.returncode == 0, result.stderr
    return result


def test_a_level_measures_exactly_n_requests_of_every_kind_from_every_user(
    tmp_path: Path, node: Target
) -> None:
    run_level(node, tmp_path, "-u", "20", "-r", "1000", "--run-time", "60s",
              "--stop-after-requests", "500")  # fmt: skip

    info = level_json(tmp_path)
    assert info["stopped_by"] == "requests"
    assert info["samples"] == info["locust_requests"]  # every request Locust saw has a sample
    assert (info["users"], info["host"], info["time_cap_seconds"]) == (20, node.url, 60)
    assert info["users_by_kind"] == {
        "NoOpUser": 1,
        "VersionUser": 1,
        "QuickHealthUser": 2,
        "SlowHealthUser": 1,
        "TasksUser": 15,
    }
    assert info["ramp"]["completed"] and info["unanswered"] == 0
    generator = info["generator"]
    assert generator["processes"] == 1 and 0 < generator["cpu_percent"][0] < 200
    assert generator["cpu_percent"][0] <= generator["busy_percent"][0] + 1
    samples = by_type(tmp_path)
    assert sum(sum(c.values()) for c in samples.values()) == 500
    assert set(samples) == set(MODEL)
    for name, counts in samples.items():
        assert set(counts) == {(True, MODEL[name])}, name
    tasks = {name: sum(samples[name].values()) for name in MODEL if name.startswith("Tasks")}
    assert (
        tasks["Tasks-Happy-Path"]
        > 3 * (tasks["Tasks-Image-Not-Found"] + tasks["Tasks-Bad-Request-Body"]) / 2
    )
    all_samples = read_samples(tmp_path / "samples.csv")
    measured_users = set(all_samples.where(all_samples.measured).user_id.tolist())
    assert measured_users == set(range(1, 21))

    summary = run_module("summarize", "level", str(tmp_path), "--concurrency", "20")
    assert summary.returncode == 0, summary.stderr
    level = json.loads((tmp_path / "summary.json").read_text())["levels"][0]
    assert sum(t["ok"] for t in level["types"].values()) == level["requests"] == 500
    assert level["users_measured"] == 20


def test_the_ramp_is_recorded_apart_and_the_budget_opens_after_it(
    tmp_path: Path, node: Target
) -> None:
    # 6 users at 2 per second: the last starts after about 2 s.
    run_level(node, tmp_path, "-u", "6", "-r", "2", "--run-time", "60s",
              "--stop-after-requests", "300")  # fmt: skip
    info = level_json(tmp_path)
    assert 1.5 < info["ramp"]["seconds"] < 4 and info["ramp"]["completed"]
    samples = read_samples(tmp_path / "samples.csv")
    ramp, measured = samples.where(~samples.measured), samples.where(samples.measured)
    assert len(ramp) > 0 and len(measured) == 300
    assert ramp.timestamp_ms.min() < measured.timestamp_ms.min()
    assert len(set(measured.user_id.tolist())) == 6
    assert info["samples"] == len(samples) == info["locust_requests"]


def test_a_time_cap_during_the_ramp_measures_nothing_and_says_so(
    tmp_path: Path, node: Target
) -> None:
    run_level(node, tmp_path, "-u", "10", "-r", "1", "--run-time", "3s",
              "--stop-after-requests", "300")  # fmt: skip
    info = level_json(tmp_path)
    assert info["stopped_by"] == "time"
    assert not info["ramp"]["completed"] and 2 <= info["ramp"]["users_started"] < 10
    assert info["generator"] is None
    summary = run_module("summarize", "level", str(tmp_path))
    assert summary.returncode == 0, summary.stderr
    assert "0 @ 10: no request was measured" in summary.stdout
    assert "NOTE: the level stopped during its ramp" in summary.stdout
    level = json.loads((tmp_path / "summary.json").read_text())["levels"][0]
    assert level["requests"] == 0 and level["ramp"]["requests"] > 0 and level["all"] is None


def test_wrong_or_no_credentials_are_401_errors(tmp_path: Path, node: Target) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("0123456789abcdef0123456789abcdef:00000000000000000000000000000000\n")
    for name, credentials in (("wrong", str(wrong)), ("none", "")):
        folder = tmp_path / name
        folder.mkdir()
        result = run_level(node, folder, "-u", "4", "-r", "100", "--run-time", "60s",
                           "--stop-after-requests", "100", credentials=credentials)  # fmt: skip
        assert sum(sum(c.values()) for c in by_type(folder).values()) == 100
        answers = {key for counts in by_type(folder).values() for key in counts}
        assert answers == {(False, 401)}  # and the keep-alive connections survive them
        assert "got 401, expected 201" in result.stdout + result.stderr  # Locust's error report


def test_the_time_cap_stops_a_level_and_says_so(tmp_path: Path, node: Target) -> None:
    run_level(node, tmp_path, "-u", "3", "-r", "100", "--run-time", "2s",
              "--stop-after-requests", "100000000")  # fmt: skip
    info = level_json(tmp_path)
    assert info["stopped_by"] == "time"
    samples = read_samples(tmp_path / "samples.csv")
    assert 0 < len(samples.where(samples.measured)) < 100_000_000
    assert len(samples) == info["samples"] == info["locust_requests"] + info["unanswered"]


def test_sigterm_mid_level_keeps_every_sample(tmp_path: Path, node: Target) -> None:
    process = subprocess.Popen(
        locust_args(
            node.url,
            tmp_path,
            "-u",
            "3",
            "-r",
            "100",
            "--run-time",
            "60s",
            "--ecs-credentials",
            str(node.credentials),
        ),
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        samples = tmp_path / "samples.csv"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            not samples.exists() or samples.stat().st_size < 2000
        ):
            time.sleep(0.1)  # the recorder flushes at least once a second
        assert samples.exists() and samples.stat().st_size >= 2000, "samples never reached disk"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    finally:
        kill_group(process)
    info = level_json(tmp_path)
    assert info["stopped_by"] == "other"
    assert info["target_requests"] is None
    recorded = read_samples(samples)
    assert len(recorded) == info["samples"] == info["locust_requests"] + info["unanswered"]
    assert set(recorded.error[recorded.status == 0].tolist()) <= {
        b"no answer when the level was stopped"
    }


def test_hashed_credentials_stop_locust_with_one_line(tmp_path: Path, node: Target) -> None:
    htpasswd = tmp_path / ".htpasswd"
    htpasswd.write_text("0123456789abcdef0123456789abcdef:$apr1$ZjTqBB3f$IF9gdYAGlMrs2fuINjHsz.\n")
    result = run_command(
        locust_args(
            node.url, tmp_path, "-u", "1", "--run-time", "10s", "--ecs-credentials", str(htpasswd)
        )
    )
    assert result.returncode == 2
    assert "this is an .htpasswd, not the key:secret pairs" in result.stderr
    assert "Traceback" not in result.stderr


def test_ready_waits_for_a_healthy_endpoint(node: Target, tmp_path: Path) -> None:
    ok = run_module("ready", node.url, "--credentials", str(node.credentials), "--timeout", "10")
    assert ok.returncode == 0, ok.stderr
    unauthorised = run_module("ready", node.url, "--timeout", "0.5")
    assert unauthorised.returncode == 1
    assert unauthorised.stderr.strip().endswith("/v1.1/_health?quick=true answered 401 after 0.5 s")
    closed = run_module("ready", "http://127.0.0.1:9", "--timeout", "0.5")
    assert closed.returncode == 1
    assert "no answer (ConnectionError)" in closed.stderr
