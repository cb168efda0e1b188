"""Stalls are seen: the real run_load_test.sh against tests/stall_server.py and nginx.

The stall stand-in answers in about a millisecond and freezes for 1 s every 5 s,
logging each stall, so the truth is known: what a client arriving at a constant
rate waited (tests.stall_server.truth). A closed level must warn and its
corrected p99 come within 25% of that truth; an arrival-rate level's p99 within
15%; a rate beyond the stand-in shows dropped arrivals or the generator's
lateness. Against nginx, every arrival of a level split over Locust processes
(--processes 2, --master with two workers) is a sample, as many as nginx logged.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ecsload.analysis.samples import read_probe, read_samples
from tests.e2e_support import (
    MODEL_TYPES,
    ROOT,
    Sweep,
    clean_env,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
    sample_count,
)
from tests.nginx_support import Nginx, free_port, nginx_ecs, nginx_missing
from tests.stall_server import StallServer, stall_server, truth

pytestmark = pytest.mark.e2e


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[StallServer, dict[str, str]]]:
    credentials = tmp_path / "credentials.txt"
    credentials.write_text("key:secret\n")
    with stall_server(tmp_path / "stalls", free_port()) as server:
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(credentials))
        yield server, env


def level_truth(server: StallServer, level: dict) -> dict[str, float]:
    """What a constant-rate client saw over the level's measured phase, from the stall log."""
    start = level_start(level)
    end = start + level["seconds"]
    return truth(server.stalls(), start, end, service_ms=level["all"]["p50"])


def level_start(level: dict) -> float:
    from datetime import datetime

    return datetime.fromisoformat(level["started"].replace("Z", "+00:00")).timestamp()


def test_a_closed_level_warns_of_stalls_and_its_corrected_p99_is_the_truth(
    tmp_path: Path, stand_in: tuple[StallServer, dict[str, str]]
) -> None:
    server, env = stand_in
    args = ("-q", "-v", "-c", "20", "-r", "100", "-n", "15000", "-t", "60", "--probe-rate", "0")
    result = run_script(*args, "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    level = read_json(only_run_dir(tmp_path / "out") / "level-20" / "summary.json")["levels"][0]
    assert level["model"] == "closed"
    assert level["stalls"]["count"] >= 1, level["stalls"]
    assert "WARNING: no answer for" in result.stdout
    expected = level_truth(server, level)["p99"]
    corrected = level["all"]["corrected"]["p99"]
    assert abs(corrected / expected - 1) <= 0.25, (corrected, expected)
    assert level["all"]["p99"] < expected / 4  # what the closed users alone recorded
    assert "99 corrected" in result.stdout


def test_an_arrival_rate_level_times_each_request_from_its_schedule(
    tmp_path: Path, stand_in: tuple[StallServer, dict[str, str]]
) -> None:
    server, env = stand_in
    args = ("-q", "-v", "--rates", "200", "-n", "2400", "-t", "60", "--probe-rate", "0")
    result = run_script(*args, "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    level_dir = only_run_dir(tmp_path / "out") / "level-200"
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert level["model"] == "open" and level["rate"] == 200
    assert level["requests"] == 2400 and level["dropped"] == 0
    assert abs(level["lateness"]["achieved"] / 200 - 1) < 0.05, level["lateness"]
    # Answered per second: the rate, less what a freeze still held at the level's end (at
    # most its 1 s of arrivals); never more (the answers' middle 95% once read 219/s).
    assert 0.9 < level["rps"] / 200 < 1.02, level["rps"]
    expected = level_truth(server, level)["p99"]
    assert abs(level["all"]["p99"] / expected - 1) <= 0.15, (level["all"]["p99"], expected)
    assert level["stalls"]["count"] >= 1
    assert "WARNING: no answer for" in result.stdout
    assert "200/s (constant arrivals, timed from their schedule)" in result.stdout
    assert "1 users" not in result.stdout  # its rate names it, never its arrival users
    samples = read_samples(level_dir / "samples.csv")
    due = samples.timestamp_ms[samples.measured]
    assert abs(float(due.max() - due.min()) / 1000 - 2399 / 200) < 0.1  # on its schedule


def test_a_rate_beyond_the_stand_in_is_never_a_silently_lower_rate(
    tmp_path: Path, stand_in: tuple[StallServer, dict[str, str]]
) -> None:
    _, env = stand_in
    args = (
        "-q",
        "-v",
        "--rates",
        "3000",
        "-n",
        "9000",
        "--max-in-flight",
        "50",
        "--probe-rate",
        "0",
    )
    result = run_script(*args, "-t", "60", "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    level = read_json(only_run_dir(tmp_path / "out") / "level-3000" / "summary.json")["levels"][0]
    assert level["requests"] == 9000  # every arrival is a sample, sent, late or dropped
    assert level["dropped"] or level["lateness"]["behind"], level
    answered = level["requests"] - level["dropped"]
    if answered < 0.95 * 9000 or level["rps"] < 0.95 * 3000:
        assert "WARNING: the generator, not the service, is behind" in result.stdout or (
            "were dropped" in result.stdout
        )


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    if reason := nginx_missing():
        pytest.fail(reason)
    with nginx_ecs(tmp_path / "nginx") as server:
        yield server


def assert_every_arrival_on_the_master(level_dir: Path, nginx: Nginx, requests: int) -> None:
    """Every arrival a sample (as many as nginx logged), none in a ramp, the rate split."""
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert level["requests"] == requests and level["ramp"]["requests"] == 0
    assert sample_count(level_dir) == nginx.requests_seen() == requests
    assert level["dropped"] == 0 and level["all"]["error"] == 0
    samples = read_samples(level_dir / "samples.csv")
    per_user = [int((samples.user_id == user).sum()) for user in set(samples.user_id.tolist())]
    assert len(per_user) == 2, per_user
    assert min(per_user) > 0.4 * requests, per_user  # each process sent its half


def test_an_arrival_rate_level_over_two_processes_loses_no_sample(
    tmp_path: Path, nginx: Nginx
) -> None:
    assert nginx.credentials is not None
    env = clean_env(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    args = ("-q", "--rates", "400", "-n", "2000", "-t", "60", "--processes", "2")
    result = run_script(*args, "--probe-rate", "0", "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert_every_arrival_on_the_master(only_run_dir(tmp_path / "out") / "level-400", nginx, 2000)
    assert not processes_mentioning(str(tmp_path / "out"))


def test_two_processes_interleave_their_arrivals_rather_than_send_them_in_pairs(
    tmp_path: Path, nginx: Nginx
) -> None:
    """At 100/s over --processes 2, arrivals are due every 10 ms, alternately from each
    process; each starting its own schedule sent pairs 1 ms apart (gaps of 1 and 19 ms)."""
    assert nginx.credentials is not None
    env = clean_env(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    args = ("-q", "--rates", "100", "-n", "400", "-t", "60", "--processes", "2")
    result = run_script(*args, "--probe-rate", "0", "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    level_dir = only_run_dir(tmp_path / "out") / "level-100"
    lags = read_json(level_dir / "level.json")["generator"]["loop_lag_ms"]
    assert lags[0] is None and all(lag["samples"] > 0 for lag in lags[1:]), lags  # the master's
    assert len(lags) == 3  # the master and each worker's event loop
    samples = read_samples(level_dir / "samples.csv")
    order = np.argsort(samples.timestamp_ms, kind="stable")
    due = samples.timestamp_ms[order].astype(float)  # whole ms
    users = samples.user_id[order]
    assert len(set(users.tolist())) == 2
    due_gaps = np.diff(due)
    assert due_gaps.min() >= 9, due_gaps[:40]  # never two arrivals due together
    assert np.median(due_gaps) == 10
    both = users[1:] != users[:-1]  # the next arrival is the other process's
    assert both.mean() > 0.9, users[:40]
    sent = np.sort(due + samples.late_ms[order])
    send_gaps = np.diff(sent)
    assert 9 <= np.median(send_gaps) <= 11, send_gaps[:40]
    assert (send_gaps < 3).mean() < 0.1, send_gaps[:40]  # pairs were half of them


def test_an_arrival_rate_level_over_a_master_and_two_workers_loses_no_sample(
    tmp_path: Path, nginx: Nginx
) -> None:
    assert nginx.credentials is not None
    run = Sweep(
        tmp_path,
        (nginx.url, nginx.credentials),
        2,
        *("-q", "--rates", "400", "-n", "2000", "-t", "60", "--probe-rate", "0"),
    )
    try:
        (master_rc, master_out), *workers = run.finish()
    finally:
        run.kill()
    assert master_rc == 0, master_out
    for rc, out in workers:
        assert rc == 0, out
    level_dir = only_run_dir(tmp_path / "master") / "level-400"
    assert_every_arrival_on_the_master(level_dir, nginx, 2000)
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert level["workers"] == {"joined": 2, "finished": 2, "lost": 0, "rejected": 0}


def test_the_probe_times_each_request_from_its_slot_and_skips_none(
    tmp_path: Path, stand_in: tuple[StallServer, dict[str, str]]
) -> None:
    """At 10/s over a 1 s stall: ten slots fall in it, each answered late and timed from
    its slot (~1000, 900, … 100 ms), none skipped; the closed probe recorded one."""
    server, env = stand_in
    out = tmp_path / "probe.csv"
    args = [server.url, "--out", str(out), "--rate", "10", "--max-seconds", "4.5"]
    result = subprocess.run(
        [sys.executable, "-m", "ecsload.commands.probe", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = read_probe(out)
    assert len(rows) == 45  # every slot of 4.5 s at 10/s
    assert set(np.diff(rows["timestamp_ms"]).tolist()) <= {99, 100, 101}
    [(stall_start, stall_end)] = [
        s for s in server.stalls() if s[0] < rows["timestamp_ms"][-1] / 1000
    ]
    slow = rows["response_time_ms"] > 50
    assert 8 <= int(slow.sum()) <= 12, rows
    assert rows["response_time_ms"].max() == pytest.approx(
        (stall_end - stall_start) * 1000, rel=0.15
    )


def test_poisson_arrivals_come_at_random_at_the_rate_and_in_the_models_mix(
    tmp_path: Path, nginx: Nginx
) -> None:
    assert nginx.credentials is not None
    env = clean_env(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    args = ("-q", "--rates", "500", "--arrivals", "poisson", "-n", "3000", "--probe-rate", "0")
    result = run_script(*args, "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    level_dir = only_run_dir(tmp_path / "out") / "level-500"
    level = read_json(level_dir / "summary.json")["levels"][0]
    assert level["arrivals"] == "poisson" and level["requests"] == 3000
    assert nginx.requests_seen() == 3000 and level["all"]["error"] == 0
    samples = read_samples(level_dir / "samples.csv")
    due = np.sort(samples.timestamp_ms.astype(float))
    gaps = np.diff(due)
    assert 1.5 < gaps.mean() < 2.5  # 500/s
    assert 0.8 < gaps.std() / gaps.mean() < 1.2  # exponential gaps: as spread as they are long
    tasks = sum(level["types"][t]["ok"] for t in level["types"] if t.startswith("Tasks-"))
    assert 0.70 < tasks / 3000 < 0.80  # the tasks kind's weight: 75%
    assert set(level["types"]) == MODEL_TYPES
