"""The run history on hand-made runs: the store (SQLite), its schema checks, the stored
histograms as a comparison's baseline, change points on series with a known answer,
and the location's secrets and labels."""

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ecsload.history import histograms, store
from ecsload.history.baseline import between_run_noise, pooled_samples, stored_baseline
from ecsload.history.changes import change_points
from ecsload.history.record import level_histograms
from ecsload.history.schema import ALL_TYPES, SCHEMA_VERSION
from ecsload.history_location import (
    default_label,
    parse_history,
    parse_reference,
    without_secret,
)
from ecsload.report.comparison.pooled import SLOWER, Rule, compare
from ecsload.sample_columns import HEADER

TYPES = ("NoOp", "Tasks-Happy-Path")


def made_run(
    n: int, latency_ms: np.ndarray, target: str = "", label: str = "", rps: float = 100.0
) -> tuple[dict, list[dict], list[dict]]:
    """A stored run's rows: one level of 10 users, two types with the same latencies."""
    run = {
        "run_key": f"run-{n}",
        "target": target,
        "endpoint": "http://127.0.0.1:1",
        "label": label or f"build-{n}",
        "branch": "",
        "created": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
        "started": None,
        "ended": None,
        "recorded": "2026-01-01T01:00:00Z",
        "run_dir": f"/runs/{n}",
        "verdict": "",
        "plan": "{}",
    }
    levels = [{"users": 10, "seconds": 2.0, "generator_share": 20.0}]
    rows = []
    for name in (ALL_TYPES, *TYPES):
        rows.append(
            {
                "users": 10,
                "type": name,
                "requests": len(latency_ms),
                "errors": 0,
                "rate_limited": 0,
                "p50": float(np.percentile(latency_ms, 50)),
                "p95": float(np.percentile(latency_ms, 95)),
                "p99": float(np.percentile(latency_ms, 99)),
                "rps": rps,
                "goodput": rps,
                "histogram": histograms.encode(latency_ms),
            }
        )
    return run, levels, rows


def latencies(seed: int, scale: float = 1.0, n: int = 2000) -> np.ndarray:
    return np.exp(np.random.default_rng(seed).normal(math.log(20 * scale), 0.4, n))


def test_histogram_keeps_percentiles_within_one_percent() -> None:
    values = latencies(1)
    decoded = histograms.decode(histograms.encode(values))
    assert len(decoded) == len(values)
    for p in (50, 95, 99):
        assert np.percentile(decoded, p) == pytest.approx(np.percentile(values, p), rel=0.01)


def test_append_read_and_prune(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    for n in range(5):
        assert store.append(location, *made_run(n, latencies(n))) is not None
    assert store.append(location, *made_run(0, latencies(0))) is None  # already there
    store.append(location, *made_run(9, latencies(9), target="https://other"))
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, "", last=3)
        assert store.latest_target(connection) == "https://other"
    assert [run.label for run in runs] == ["build-2", "build-3", "build-4"]
    assert runs[0].levels[10]["NoOp"]["p95"] > runs[0].levels[10]["NoOp"]["p50"]
    assert store.prune(location, keep=2) == 3
    with store.transaction(location, create=False) as connection:
        assert [run.label for run in store.run_rows(connection, "")] == ["build-3", "build-4"]
        assert store.count_runs(connection) == 3


def test_newer_schema_and_corrupt_file_are_one_line_errors(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    store.append(str(newer), *made_run(1, latencies(1)))
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(store.HistoryError, match="newer than this ecs-load's"):
        store.append(str(newer), *made_run(2, latencies(2)))
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database" * 200)
    with pytest.raises(store.HistoryError, match="corrupt"):
        store.append(str(corrupt), *made_run(1, latencies(1)))
    with pytest.raises(store.HistoryError, match="unreachable") as refused:
        store.append("postgresql://ci:hunter2@127.0.0.1:1/h", *made_run(1, latencies(1)))
    assert "hunter2" not in str(refused.value) and "ci:***@127.0.0.1:1" in str(refused.value)
    absent = store.transaction(str(tmp_path / "absent.sqlite"), create=False)
    with pytest.raises(store.HistoryError, match="no such file"), absent:
        pass


def test_history_baseline_sees_a_slowdown_and_measures_the_run_noise(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    for n in range(6):  # between-run spread of p50: about 10% (the scale's SD)
        scale = math.exp(np.random.default_rng(100 + n).normal(0, 0.1))
        store.append(location, *made_run(n, latencies(n, scale)))
    stored = stored_baseline(location, "", parse_reference("history:6"))
    assert len(stored.runs) == 6
    assert 3 < stored.run_noise_percent < 25
    assert stored.samples[10]["NoOp"].count == 6 * 2000
    now = {10: {name: stored.samples[10][name].__class__(latencies(50, 2.0), 0) for name in TYPES}}
    rule = Rule(10, stored.run_noise_percent)
    assert compare(stored.samples, now, rule)["verdict"] == SLOWER
    same = {10: {name: stored.samples[10][name].__class__(latencies(51), 0) for name in TYPES}}
    assert compare(stored.samples, same, rule)["verdict"] == "same"
    assert between_run_noise(stored.runs[:2]) is None  # too few runs: the assumed noise


def test_change_point_found_at_the_step_and_none_in_a_flat_series() -> None:
    rng = np.random.default_rng(7)
    runs = []
    for n in range(60):
        scale = math.exp(rng.normal(0, 0.05)) * (1.2 if n >= 40 else 1.0)
        rate = 500 * math.exp(rng.normal(0, 0.05))
        figures = {"p50": 20 * scale, "p95": 40 * scale, "rps": rate, "goodput": rate}
        runs.append(
            store.StoredRun(
                n, "", None, f"b{n}", "", f"{n:03d}", "", None, {10: {ALL_TYPES: figures}}
            )
        )
    found = change_points(runs)
    assert {change.figure for change in found} == {"p50", "p95"}
    for change in found:
        assert change.direction == "slower" and abs(change.run_id - 40) <= 2
        assert 10 < change.change_percent < 30 and change.p_value < 0.001
    assert change_points(runs[:38]) == []
    falling = [
        store.StoredRun(
            **{
                **vars(run),
                "levels": {10: {ALL_TYPES: {"goodput": 1 / run.levels[10][ALL_TYPES]["p50"]}}},
            }
        )
        for run in runs
    ]
    assert [c.direction for c in change_points(falling)] == ["slower"]


def test_location_masks_secrets_and_labels_from_ci() -> None:
    url = "postgresql://ci:hunter2@db.example:5432/perf?password=hunter2"
    assert "hunter2" not in without_secret(url)
    assert without_secret(url).startswith("postgresql://ci:***@db.example:5432/perf")
    assert without_secret("/tmp/h.sqlite") == "/tmp/h.sqlite"
    with pytest.raises(ValueError, match="mysql"):
        parse_history("mysql://x/y")
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert default_label({"GITHUB_SHA": sha, "GITHUB_REF_NAME": "main"}) == (sha[:12], "main")
    assert default_label({"BUILD_NUMBER": "42", "GIT_BRANCH": "origin/dev"}) == ("42", "dev")
    assert default_label({}) == ("", "")
    assert parse_reference("last").runs == 1
    assert parse_reference("history").runs == 10
    assert parse_reference("history:3").runs == 3
    assert parse_reference("label:v1.2").label == "v1.2"
    assert parse_reference("results/2026") is None


def test_histograms_hold_answered_requests_only_over_every_repeat(tmp_path: Path) -> None:
    """A request with no answer (status 0, timed until the cap) is an error, never a latency:
    the stored histogram leaves it out, and the baseline read back counts it as no answer."""
    level = tmp_path / "level-10"
    for repeat, answered_ms in enumerate((5.0, 7.0), 1):
        folder = level / f"repeat-{repeat}"
        folder.mkdir(parents=True)
        rows = [f"{1000 + i},NoOp,1,1,200,{answered_ms},measure,,0.0\n" for i in range(20)]
        rows += [f"{2000 + i},NoOp,1,0,0,3000.0,measure,no answer,0.0\n" for i in range(5)]
        rows.append(f"900,NoOp,1,1,200,{answered_ms},ramp,,0.0\n")
        (folder / "samples.csv").write_text(HEADER + "".join(rows))
    found = level_histograms(level)
    assert len(histograms.decode(found["NoOp"])) == 40  # 20 answered a repeat: no capped, no ramp
    assert histograms.decode(found["NoOp"]).max() < 10

    run = store.StoredRun(
        id=1,
        target="t",
        endpoint=None,
        label="b1",
        branch="",
        created="",
        verdict="",
        run_dir=None,
        levels={10: {"NoOp": {"requests": 50, "errors": 10}}},
    )
    noop = pooled_samples([run], {1: {10: found}})[10]["NoOp"]
    assert (noop.count, noop.no_answer, noop.requests, noop.error_percent) == (40, 10, 50, 20.0)
