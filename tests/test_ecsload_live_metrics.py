"""Live metrics: remote write's encoding, the figures from sample lines, the pusher against a
real HTTP receiver on 127.0.0.1 (up, down, slow), the credentials file, the run's WARNING."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from ecsload.commands.summarize import metrics_warnings
from ecsload.plugin import live_metrics
from ecsload.plugin.live_metrics import (
    BUCKETS,
    PUSH_TIMEOUT,
    LevelMarks,
    LevelMetrics,
    LiveFigures,
    otlp_pusher,
    remote_write_pusher,
)
from ecsload.plugin.remote_write import decode, encode
from ecsload.receiver_auth import AuthFileError, read_auth
from ecsload.run_folder import LevelFolder, RunFolder
from ecsload.values import parse_metrics_url
from tests.ecsload_support import plan, write
from tests.nginx_support import free_port
from tests.prometheus_support import Receiver, http_receiver, otlp_points
from tests.test_grafana_dashboard import dashboard_metrics

LINES = [
    "1000,NoOp,1,1,200,0.800,measure,,0.100,4bf92f3577b34da6a3ce929d0e0e4736\n",
    "1000,NoOp,1,1,200,30.000,measure,,2.500,5bf92f3577b34da6a3ce929d0e0e4736\n",
    "1000,NoOp,2,0,503,1.000,measure,,0.000,6bf92f3577b34da6a3ce929d0e0e4736\n",
    "1000,NoOp,2,0,429,1.000,measure,,0.000,7bf92f3577b34da6a3ce929d0e0e4736\n",
    "1000,Version,3,0,0,0.300,measure,Dropped,0.300,\n",
    "1000,Version,3,1,200,2.000,ramp,,0.000,8bf92f3577b34da6a3ce929d0e0e4736\n",
]
LABELS = {"run": "r1", "endpoint": "http://127.0.0.1:1", "level": "5", "repeat": "1"}


def test_a_write_request_reads_back_with_its_labels_sorted() -> None:
    body = encode([({"__name__": "x", "b": "2", "a": "1"}, 3.5)], 1_700_000_000_000)
    assert decode(body) == [({"__name__": "x", "a": "1", "b": "2"}, [(3.5, 1_700_000_000_000)])]


def by_name(series: list, name: str) -> dict:
    return {
        tuple(
            sorted((k, v) for k, v in labels.items() if k not in LABELS and k != "__name__")
        ): value
        for labels, value in series
        if labels["__name__"] == name
    }


def test_each_line_counts_once_by_outcome_and_only_answers_are_latencies() -> None:
    figures = LiveFigures()
    figures.lateness["remote_write"] = 0.0
    figures.add_lines(LINES[:3])
    figures.add_lines(LINES[3:])
    series = figures.series(LABELS)
    assert all(labels.items() >= LABELS.items() for labels, _ in series)
    requests = by_name(series, "ecs_load_requests_total")
    assert requests == {
        (("outcome", "ok"), ("phase", "measure"), ("type", "NoOp")): 2,
        (("outcome", "error"), ("phase", "measure"), ("type", "NoOp")): 1,
        (("outcome", "rate_limited"), ("phase", "measure"), ("type", "NoOp")): 1,
        (("outcome", "dropped"), ("phase", "measure"), ("type", "Version")): 1,
        (("outcome", "ok"), ("phase", "ramp"), ("type", "Version")): 1,
    }
    buckets = by_name(series, "ecs_load_response_seconds_bucket")
    noop = {dict(key)["le"]: value for key, value in buckets.items() if ("type", "NoOp") in key}
    assert len(noop) == len(BUCKETS) + 1
    assert (noop["0.001"], noop["0.025"], noop["0.05"], noop["+Inf"]) == (1, 1, 2, 2)
    counts = by_name(series, "ecs_load_response_seconds_count")
    assert counts[(("phase", "measure"), ("type", "NoOp"))] == 2  # the errors are not in it
    sums = by_name(series, "ecs_load_response_seconds_sum")
    assert sums[(("phase", "measure"), ("type", "NoOp"))] == pytest.approx(0.0308)
    assert figures.take_lateness("remote_write") == pytest.approx(0.0025)
    assert figures.take_lateness("remote_write") == 0.0  # the largest since the last push


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    with http_receiver() as (url, handler):
        yield f"{url}/api/v1/write", handler


def test_a_push_carries_snappy_protobuf_and_the_files_credentials(
    tmp_path: Path, receiver: tuple[str, type[Receiver]]
) -> None:
    url, handler = receiver
    auth = read_auth(write(tmp_path / "auth", "bearer s3cr3t-token\n"))
    figures = LiveFigures()
    figures.add_lines(LINES)
    pusher = remote_write_pusher(url, auth, lambda: figures.series(LABELS))
    delivery = pusher.finish()
    assert delivery.document() == {
        "url": url,
        "pushes": 1,
        "failed": 0,
        "last_error": "",
        "final_delivered": True,
    }
    ((headers, body),) = handler.bodies
    assert headers["Content-Encoding"] == "snappy"
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["X-Prometheus-Remote-Write-Version"] == "0.1.0"
    assert headers["Authorization"] == "Bearer s3cr3t-token"
    pushed = decode(body)
    assert len(pushed) == len(figures.series(LABELS))
    assert {labels["__name__"] for labels, _ in pushed} >= {"ecs_load_requests_total"}


def test_a_receiver_down_or_slow_is_counted_never_waited_for_long(
    monkeypatch: pytest.MonkeyPatch, receiver: tuple[str, type[Receiver]]
) -> None:
    down = remote_write_pusher(f"http://127.0.0.1:{free_port()}/api/v1/write", {}, lambda: [])
    down.push()
    delivery = down.finish()
    assert (delivery.pushes, delivery.failed, delivery.final_delivered) == (2, 2, False)
    assert delivery.last_error == "ConnectionError"
    url, handler = receiver
    handler.delay = 3.0
    monkeypatch.setattr(live_metrics, "PUSH_TIMEOUT", 0.3)
    slow = remote_write_pusher(url, {}, lambda: [])
    started = time.monotonic()
    assert slow.push() is False
    assert time.monotonic() - started < 2.5  # given up after its timeout, not the receiver's 3 s
    assert slow.delivery.last_error in ("ReadTimeout", "ConnectionError")


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("bearer abc.def\n", "Bearer abc.def"),
        ("Basic prom:pa:ss word\n", "Basic cHJvbTpwYTpzcyB3b3Jk"),
    ],
)
def test_credentials_files(tmp_path: Path, text: str, header: str) -> None:
    assert read_auth(write(tmp_path / "auth", text)) == {"Authorization": header}


def test_a_bad_credentials_file_is_named_and_its_secret_never_shown(tmp_path: Path) -> None:
    path = write(tmp_path / "auth", "token hunter2\n")
    with pytest.raises(AuthFileError) as error:
        read_auth(path)
    assert str(path) in str(error.value) and "hunter2" not in str(error.value)
    with pytest.raises(AuthFileError, match="does not exist"):
        read_auth(tmp_path / "none")


def test_a_url_with_credentials_is_refused_without_repeating_them() -> None:
    with pytest.raises(ValueError) as error:
        parse_metrics_url("https://prom:hunter2@metrics.example.com/api/v1/write")
    assert "hunter2" not in str(error.value) and "--metrics-credentials" in str(error.value)
    assert parse_metrics_url(" http://127.0.0.1:9090/api/v1/write ") == (
        "http://127.0.0.1:9090/api/v1/write"
    )


def test_the_plan_checks_the_credentials_file_before_the_sweep(tmp_path: Path) -> None:
    secret = write(tmp_path / "auth", "token hunter2\n")
    alone = plan(tmp_path, "--metrics-credentials", str(secret))
    assert alone.returncode == 2 and "goes with --remote-write URL" in alone.stderr
    bad = plan(
        tmp_path,
        "--remote-write",
        "http://127.0.0.1:9/api/v1/write",
        "--metrics-credentials",
        str(secret),
    )
    assert bad.returncode == 2 and "neither `bearer TOKEN`" in bad.stderr
    assert "hunter2" not in bad.stderr + bad.stdout


def test_the_run_says_once_what_its_levels_could_not_push(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    assert metrics_warnings(run) == []
    for key, failed in ((5, 0), (10, 3)):
        folder = LevelFolder(tmp_path / f"level-{key}")
        folder.path.mkdir()
        document = {
            "url": "http://127.0.0.1:9/api/v1/write",
            "pushes": 4,
            "failed": failed,
            "last_error": "ConnectionError" if failed else "",
            "final_delivered": not failed,
        }
        folder.remote_write.write_text(json.dumps(document))
    assert metrics_warnings(run) == [
        "WARNING: remote write to http://127.0.0.1:9/api/v1/write: 3 of 8 pushes failed "
        "(ConnectionError); the receiver misses those points, and the final figures of 1 of 2 "
        "levels (the run's files are whole)"
    ]


def test_an_arrival_rate_level_pushes_every_gauge_and_mark_the_dashboard_reads() -> None:
    """A stand-in for a running Level (its attributes only): a real one needs Locust's
    runner; tests/test_e2e_metrics.py pushes from real levels."""
    level = SimpleNamespace(
        environment=SimpleNamespace(
            host="http://127.0.0.1:1", runner=SimpleNamespace(user_count=2)
        ),
        arrival_rate=50.0,
        started=1_700_000_000.0,
        ended=1_700_000_009.5,
        role=SimpleNamespace(budget=object()),
        generator_share=lambda: {"cpu_percent": 40.0, "busy_percent": 42.0},
    )
    marks = LevelMarks(run="r1", level="50", repeat="1", run_started=1_699_999_990.0, run_ends=True)
    metrics = LevelMetrics(level, marks)
    metrics.figures.add_lines(LINES)
    series = metrics.snapshot()
    values = {labels["__name__"]: value for labels, value in series}
    assert dashboard_metrics() <= set(values)
    assert values["ecs_load_offered_rate"] == 50.0
    assert values["ecs_load_generator_busy_ratio"] == pytest.approx(0.42)
    assert (
        values["ecs_load_run_end_seconds"]
        == values["ecs_load_level_end_seconds"]
        == 1_700_000_009.5
    )
    assert all(
        {k: labels[k] for k in LABELS}
        == {**LABELS, "endpoint": "http://127.0.0.1:1", "level": "50"}
        for labels, _ in series
    )


def test_otlp_carries_the_same_figures_through_the_sdks_exporter(
    receiver: tuple[str, type[Receiver]],
) -> None:
    url, handler = receiver
    level = SimpleNamespace(
        environment=SimpleNamespace(
            host="http://127.0.0.1:1", runner=SimpleNamespace(user_count=2)
        ),
        arrival_rate=None,
        started=1_700_000_000.0,
        ended=None,
        role=SimpleNamespace(budget=None),  # a master: no generator share of its own
    )
    marks = LevelMarks(run="r1", level="5", repeat="1", run_started=1_699_999_990.0, run_ends=False)
    metrics = LevelMetrics(level, marks)
    pusher = otlp_pusher(
        url.replace("/api/v1/write", "/v1/metrics"), {"Authorization": "Bearer t"}, metrics
    )
    metrics.add_output("otlp", pusher)
    metrics.figures.add_lines(LINES)
    assert pusher.finish().document()["final_delivered"] is True
    ((sent, body),) = handler.bodies
    headers = {name.lower(): value for name, value in sent.items()}
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["authorization"] == "Bearer t"
    points = otlp_points(body)
    attributes = [
        {a.key: a.value.string_value for a in p.attributes} for p in points["ecs_load_requests"]
    ]
    assert all(a.items() >= LABELS.items() for a in attributes)
    measured = [
        p.as_int or p.as_double
        for p, a in zip(points["ecs_load_requests"], attributes, strict=True)
        if a["phase"] == "measure"
    ]
    assert sum(measured) == 5
    [noop] = [
        p
        for p in points["ecs_load_response_seconds"]
        if {a.key: a.value.string_value for a in p.attributes}["type"] == "NoOp"
    ]
    assert (noop.count, list(noop.explicit_bounds)) == (2, list(BUCKETS))
    assert set(points) >= {
        "ecs_load_users",
        "ecs_load_level_start_seconds",
        "ecs_load_run_start_seconds",
    }


def test_an_otlp_collector_that_is_down_is_a_failed_push_within_its_timeout() -> None:
    level = SimpleNamespace(
        environment=SimpleNamespace(host="", runner=None),
        arrival_rate=None,
        started=1.0,
        ended=None,
        role=SimpleNamespace(budget=None),
    )
    metrics = LevelMetrics(level, LevelMarks("r", "5", "1", 0.0, False))
    pusher = otlp_pusher(f"http://127.0.0.1:{free_port()}/v1/metrics", {}, metrics)
    started = time.monotonic()
    assert pusher.push() is False
    assert time.monotonic() - started < PUSH_TIMEOUT + 3
    assert pusher.delivery.failed == 1
