"""End to end: live metrics to Debian's Prometheus (remote write), a receiver that is down, and
the traceparent header on every request as nginx's access log records it."""

import csv
import re
from pathlib import Path

import pytest

from tests.e2e_support import clean_env, only_run_dir, read_json, run_script
from tests.nginx_support import Nginx, free_port
from tests.prometheus_support import (
    http_receiver,
    otlp_points,
    prometheus_missing,
    prometheus_receiver,
)
from tests.test_grafana_dashboard import dashboard_metrics

pytestmark = pytest.mark.e2e

LEVELS = ("3", "6")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]")


def sweep(nginx: Nginx, results: Path, *args: str) -> tuple[int, str, Path]:
    env = clean_env(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    result = run_script(
        "-c", " ".join(LEVELS), "-n", "300", "-r", "100", "-o", str(results), *args, env=env
    )
    return result.returncode, result.stdout + result.stderr, only_run_dir(results)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_sweep_writes_each_levels_counts_and_histogram_to_prometheus(
    tmp_path: Path, nginx: Nginx, processes: str
) -> None:
    """With --processes 2 the master pushes what its workers' samples say: counted once."""
    if missing := prometheus_missing():
        pytest.skip(missing)
    with prometheus_receiver(tmp_path / "prometheus") as prometheus:
        code, output, run_dir = sweep(
            nginx,
            tmp_path / "results",
            *("--processes", processes, "--remote-write", prometheus.write_url),
        )
        assert code == 0, output
        assert "remote write" not in output  # every push went through: no WARNING
        run = run_dir.name
        totals = prometheus.query(
            f'sum by (level) (ecs_load_requests_total{{phase="measure", run="{run}"}})'
        )
        pushed = {item["metric"]["level"]: float(item["value"][1]) for item in totals}
        summary = read_json(run_dir / "summary.json")
        expected = {str(level["users"]): float(level["requests"]) for level in summary["levels"]}
        assert pushed == expected
        buckets = prometheus.query(
            f'sum by (level, le) (ecs_load_response_seconds_bucket{{phase="measure", run="{run}"}})'
        )
        assert {item["metric"]["level"] for item in buckets} == set(LEVELS)
        level_info = read_json(run_dir / f"level-{LEVELS[0]}" / "level.json")
        # the master and its workers, or the lone process
        assert level_info["generator"]["processes"] == (1 if processes == "1" else 3)
        names = prometheus.names()
        for name in (
            "ecs_load_users",
            "ecs_load_lateness_seconds",
            "ecs_load_level_start_seconds",
            "ecs_load_level_end_seconds",
            "ecs_load_run_start_seconds",
            "ecs_load_run_end_seconds",
        ):
            assert name in names
        # every query of the Grafana dashboard has data; the offered rate is an arrival-rate
        # level's, the generator's busy share a lone process's (test_ecsload_live_metrics
        # checks that both are written there)
        unwritten = {"ecs_load_offered_rate"}
        if processes != "1":
            unwritten.add("ecs_load_generator_busy_ratio")
        assert dashboard_metrics() - unwritten <= names
        assert ("ecs_load_generator_busy_ratio" in names) == (processes == "1")
        ends = prometheus.query(f'ecs_load_run_end_seconds{{run="{run}"}}')
        assert [item["metric"]["level"] for item in ends] == [LEVELS[-1]]


@pytest.mark.parametrize(
    ("option", "path", "name"),
    [("--remote-write", "/api/v1/write", "remote write"), ("--otlp", "/v1/metrics", "OTLP")],
)
def test_a_receiver_that_is_down_costs_one_warning_never_the_run(
    tmp_path: Path, nginx: Nginx, option: str, path: str, name: str
) -> None:
    down = f"http://127.0.0.1:{free_port()}{path}"  # nothing listens there
    code, output, run_dir = sweep(nginx, tmp_path / "results", option, down)
    assert code == 0, output
    assert (run_dir / "report.html").is_file()
    warnings = [line for line in output.splitlines() if down in line]  # and none on stderr
    assert len(warnings) == 1, output
    assert warnings[0].startswith(f"WARNING: {name} to {down}: ")
    assert "pushes failed" in warnings[0]


def test_every_request_carries_a_traceparent_whose_id_is_in_the_samples(
    tmp_path: Path, nginx: Nginx
) -> None:
    code, output, run_dir = sweep(nginx, tmp_path / "results", "--trace-sample", "0.5")
    assert code == 0, output
    # Locust's requests (FastHttpUser's agent); the probe's carry no traceparent
    logged = [
        line for line in nginx.access_log.read_text().splitlines() if "gevent-http-client" in line
    ]
    assert len(logged) >= len(LEVELS) * 300
    headers = [line.rsplit(" ", 1)[1] for line in logged]
    matches = [TRACEPARENT.fullmatch(header) for header in headers]
    assert all(matches), [h for h, m in zip(headers, matches, strict=True) if not m][:3]
    trace_ids = [m.group(1) for m in matches if m]
    assert "0" * 32 not in trace_ids and len(set(trace_ids)) == len(trace_ids)
    flags = {header[-2:] for header in headers}
    assert flags == {"00", "01"}  # sampled at 0.5: both, over hundreds of requests
    recorded = set()
    for level in LEVELS:
        with (run_dir / f"level-{level}" / "samples.csv").open() as f:
            recorded |= {row["trace_id"] for row in csv.DictReader(f)}
    assert recorded == set(trace_ids)


def test_a_sweep_sends_the_same_counts_over_otlp(tmp_path: Path, nginx: Nginx) -> None:
    """An OTLP/HTTP collector's side, in this process (Prometheus 2.42 takes no OTLP): each
    level's last push says its measured requests, as summary.json does."""
    with http_receiver() as (url, handler):
        code, output, run_dir = sweep(nginx, tmp_path / "results", "--otlp", f"{url}/v1/metrics")
        bodies = [body for _, body in handler.bodies]
    assert code == 0, output
    assert "WARNING: OTLP" not in output
    measured: dict[str, float] = {}  # by level: the last push's total
    histograms: set[str] = set()
    for body in bodies:
        points = otlp_points(body)
        totals: dict[str, float] = {}
        for point in points.get("ecs_load_requests", []):
            attributes = {a.key: a.value.string_value for a in point.attributes}
            if attributes["phase"] == "measure":
                level = attributes["level"]
                totals[level] = totals.get(level, 0) + (point.as_int or point.as_double)
        measured.update(totals)
        for point in points.get("ecs_load_response_seconds", []):
            histograms.add({a.key: a.value.string_value for a in point.attributes}["level"])
    summary = read_json(run_dir / "summary.json")
    assert measured == {str(level["users"]): level["requests"] for level in summary["levels"]}
    assert histograms == set(LEVELS)
