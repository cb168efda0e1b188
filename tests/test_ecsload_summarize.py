"""`python -m ecsload.commands.summarize level|run`, run for real on recorded samples."""

import json
from pathlib import Path

import numpy as np
import pytest
from dateutil.parser import isoparse

from ecsload.plugin.recorder import SampleFile
from ecsload.vocabulary import PERCENTILES
from tests.ecsload_support import run_module

START_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z
TYPE_KEYS = {
    *(
        "ok",
        "error",
        "rate_limited",
        "no_answer",
        "min",
        *(f"p{p}" for p in PERCENTILES),
        "max",
        "m",
        "b",
    ),
    *("answers", "few", "corrected", "ci", "mean"),
}


Row = tuple[int, str, int, int, int, float, str, str]


def write_level(folder: Path, rows: list[Row], info: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    samples = SampleFile(folder / "samples.csv")
    samples.write([",".join(map(str, row)) + ",0.000\n" for row in rows])  # sent when due
    samples.close()
    if info is not None:
        (folder / "level.json").write_text(json.dumps(info))
    return folder


def steady_rows(n: int, slope: float = 0.0, phase: str = "measure") -> list[Row]:
    """n requests over n/10 seconds, cycling over three types, latency rising by `slope` ms/s."""
    names = ("Version", "NoOp", "Tasks-Happy-Path")
    rows = []
    for i in range(n):
        status, ok = (503, 0) if i % 50 == 0 else (200, 1)
        latency = round(2.0 + slope * i / 10, 3)
        rows.append((START_MS + 100 * i, names[i % 3], i % 7, ok, status, latency, phase, ""))
    return rows


def test_level_summary_files_and_contract(tmp_path: Path) -> None:
    rows = steady_rows(300, slope=0.5)
    info = {
        "users": 5,
        "host": "http://127.0.0.1:1234",
        "stopped_by": "time",
        "target_requests": 1000,
        "time_cap_seconds": 30,
        "locust_requests": 300,
    }
    folder = write_level(tmp_path / "level-5", rows, info)

    result = run_module("summarize", "level", str(folder), "--concurrency", "5", timeout=60)

    assert result.returncode == 0, result.stderr
    text = (folder / "summary.txt").read_text()
    assert result.stdout == text
    assert "300 @ 5 from 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:29.917Z" in text
    assert "NOTE: the level hit its time cap of 30 s after 300 of 1000 requests." in text
    assert "WARNING: 2.0% of the requests were rate limited" in text
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["endpoint"] == "http://127.0.0.1:1234"
    [level] = summary["levels"]
    assert level["concurrency"] == level["users"] == 5
    assert level["requests"] == 300
    assert level["users_measured"] == 7  # the rows cycle over 7 user ids
    assert isoparse(level["started"]).timestamp() * 1000 == START_MS
    assert level["seconds"] == pytest.approx(29.917)
    assert level["rps"] == pytest.approx(300 / 29.917, abs=1e-3)
    assert level["stopped_by"] == "time"
    assert list(level["types"]) == ["NoOp", "Tasks-Happy-Path", "Version"]
    for name, stats in level["types"].items():
        assert set(stats) == TYPE_KEYS
        mine = [r for r in rows if r[1] == name]
        assert stats["ok"] + stats["error"] == len(mine)
        assert stats["rate_limited"] == sum(r[4] == 503 for r in mine)
        assert stats["p95"] == pytest.approx(np.percentile([r[5] for r in mine], 95), abs=1e-3)
        assert stats["m"] == pytest.approx(0.5, abs=1e-3)
    assert level["all"]["b"] == pytest.approx(2.0, abs=1e-3)
    assert level["all"]["ok"] + level["all"]["error"] == 300


def test_only_the_measured_phase_is_in_the_figures_and_the_probe_is_beside_it(
    tmp_path: Path,
) -> None:
    ramp = [(START_MS - 5000 + i, "NoOp", 1, 1, 200, 999.0, "ramp", "") for i in range(40)]
    folder = write_level(tmp_path / "level-7", ramp + steady_rows(300), {"users": 7})
    probe = ["timestamp_ms,status,response_time_ms\n", f"{START_MS - 1000},200,50.0\n"]
    probe += [f"{START_MS + 1000 * i},200,{0.25 * (i + 1)}\n" for i in range(20)]
    probe += [f"{START_MS + 25_000},0,10000.0\n", f"{START_MS + 40_000},200,50.0\n"]
    (folder / "probe.csv").write_text("".join(probe))

    result = run_module("summarize", "level", str(folder), "--probe-rate", "2")

    assert result.returncode == 0, result.stderr
    level = json.loads((folder / "summary.json").read_text())["levels"][0]
    assert level["requests"] == 300 and level["samples"] == 340
    assert level["ramp"]["requests"] == 40
    assert level["all"]["max"] < 999  # no ramp sample in the figures
    assert level["probe"] == {  # 21 probe requests sent while measuring, one with no answer
        "rate": 2.0,
        "count": 21,
        "errors": 1,
        "p50": pytest.approx(2.625),
        "p95": pytest.approx(4.7625, abs=1e-3),
        "p99": pytest.approx(4.9525, abs=1e-3),
        "max": 5.0,
        "few": ["p95", "p99"],  # 20 answers: enough for a p50 only
    }
    assert "Ramp: 7 users in ? s, 40 requests, not in the table" in result.stdout
    assert (
        "Probe: GET _noop at 2/s, 20 answers, 1 errors, p50 2.62 ms, p99 4.95* ms" in result.stdout
    )


def test_run_summary_orders_levels_by_concurrency(tmp_path: Path) -> None:
    for users in (10, 5):
        folder = write_level(
            tmp_path / f"level-{users}",
            steady_rows(30 * users),
            {"users": users, "host": "http://127.0.0.1:9"},
        )
        assert run_module("summarize", "level", str(folder)).returncode == 0

    result = run_module("summarize", "run", str(tmp_path), timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (tmp_path / "summary.txt").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["endpoint"] == "http://127.0.0.1:9"
    assert summary["version"] == 2
    assert [level["concurrency"] for level in summary["levels"]] == [5, 10]
    assert [level["requests"] for level in summary["levels"]] == [150, 300]
    level_5 = json.loads((tmp_path / "level-5" / "summary.json").read_text())["levels"][0]
    assert summary["levels"][0] == level_5


@pytest.mark.parametrize("samples", [None, ""])
def test_a_level_without_samples_is_exit_4(tmp_path: Path, samples: str | None) -> None:
    folder = tmp_path / "level-3"
    folder.mkdir()
    if samples is not None:
        SampleFile(folder / "samples.csv").close()
    result = run_module("summarize", "level", str(folder), "--concurrency", "3")
    assert result.returncode == 4
    assert result.stderr.count("\n") == 1
    assert "the level at 3 users recorded no samples" in result.stderr
    assert not (folder / "summary.json").exists()


def test_a_run_without_level_summaries_is_exit_4(tmp_path: Path) -> None:
    result = run_module("summarize", "run", str(tmp_path))
    assert result.returncode == 4
    assert "has a summary" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["level"],
        ["walk", "."],
        ["level", ".", "--concurrency", "0"],
        ["run", "/no/such/folder"],
        ["level", "."],  # no --concurrency and no level.json to take it from
    ],
)
def test_usage_errors_are_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = run_module("summarize", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
