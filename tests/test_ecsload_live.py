"""The live line's figures, read from a level's files while they grow (a writer here appends
to them as the recorder and the probe do), and the line made of them."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from ecsload.analysis.samples import PROBE_ROW, GrowingRows
from ecsload.report.live import STARTING, LevelWatch, LiveFigures, live_line
from ecsload.sample_columns import HEADER, PROBE_HEADER

START_MS = 1_795_000_000_000


def sample(i: int, phase: str, ok: bool = True, ms: float = 10.0) -> str:
    return f"{START_MS + 100 * i},NoOp,1,{int(ok)},{200 if ok else 500},{ms:.3f},{phase},,0.000\n"


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def test_growing_rows_read_whole_lines_only_and_nothing_before_the_file(tmp_path: Path) -> None:
    path = tmp_path / "probe.csv"
    rows = GrowingRows(path, PROBE_HEADER, PROBE_ROW)
    assert len(rows.read_new()) == 0  # not there yet
    append(path, PROBE_HEADER[:5])
    assert len(rows.read_new()) == 0  # the header is being written
    append(path, PROBE_HEADER[5:] + "1,200,1.5\n2,200,2")
    assert rows.read_new().tolist() == [(1, 200, 1.5)]
    append(path, ".5\n3,0,10.0\n")
    assert rows.read_new().tolist() == [(2, 200, 2.5), (3, 0, 10.0)]
    assert len(rows.read_new()) == 0


def test_the_figures_are_the_tables_over_what_was_written_so_far(tmp_path: Path) -> None:
    samples, probe, progress = (tmp_path / n for n in ("samples.csv", "probe.csv", "progress.json"))
    watch = LevelWatch(tmp_path)
    assert watch.update(time.time()).phase == STARTING

    started = time.time() - 30
    progress.write_text(json.dumps({"users": 3, "phase": "ramp", "started": started}))
    append(samples, HEADER + sample(0, "ramp") + sample(1, "ramp", ok=False))
    append(probe, PROBE_HEADER + f"{START_MS},200,1.0\n")
    ramp = watch.update(started + 12)
    assert (ramp.phase, ramp.users, ramp.requests, ramp.errors) == ("ramp", 3, 2, 1)
    assert ramp.p95 is None and ramp.probe_p50 == 1.0 and ramp.elapsed == pytest.approx(12)

    progress.write_text(
        json.dumps(
            {
                "users": 5,
                "phase": "measure",
                "started": started,
                "measure_started": started + 1,
                "generator": {"cpu_percent": 41.5},
            }
        )
    )
    times = np.arange(2, 102) * 1.0
    lines = [sample(i, "measure", ok=i % 10 != 0, ms=ms) for i, ms in enumerate(times, 2)]
    append(samples, "".join(lines[:60]) + lines[60][:7])  # the last line half written
    append(probe, f"{START_MS + 150},200,7.0\n{START_MS + 250},200,3.0\n{START_MS + 350},0,9.0\n")
    first = watch.update(started + 13)
    assert (first.requests, first.errors) == (60, 6)
    assert first.p95 == pytest.approx(np.percentile(times[:60], 95))
    assert first.probe_p50 == 3.0  # from the measured phase on, answered ones only
    assert first.cpu_percent == 41.5

    append(samples, lines[60][7:] + "".join(lines[61:]))
    then = watch.update(started + 14)
    assert (then.requests, then.errors) == (100, 10)
    assert then.p95 == pytest.approx(np.percentile(times, 95))
    # 10 requests a second sent, each a little slower: completions in the last 5 s
    ends = START_MS + 100 * np.arange(102) + np.r_[10.0, 10.0, times]
    recent = np.count_nonzero(ends > ends.max() - 5000)
    assert then.rps == pytest.approx(recent / 5)


def test_the_cpu_share_waits_until_it_means_something(tmp_path: Path) -> None:
    (tmp_path / "progress.json").write_text(
        json.dumps(
            {
                "phase": "measure",
                "started": 100.0,
                "measure_started": 100.0,
                "generator": {"cpu_percent": 99.0},
            }
        )
    )
    watch = LevelWatch(tmp_path)
    assert watch.update(100.5).cpu_percent is None
    assert watch.update(103.0).cpu_percent == 99.0


def figures(**changes: object) -> LiveFigures:
    values = {
        "phase": "measure",
        "users": 25,
        "requests": 1234,
        "errors": 1,
        "rps": 268.4,
        "p95": 42.04,
        "probe_p50": 1.25,
        "cpu_percent": 83.4,
        "elapsed": 12.2,
    }
    return LiveFigures(**{**values, **changes})  # type: ignore[arg-type]


def test_the_line() -> None:
    assert live_line(figures(), 2, 4, 25, 3000, 600) == (
        "level 2/4, 25 users, 12 s (cap in 588 s) | 1,234/3,000 requests, 268 req/s, "
        "1 error, p95 42.0 ms | probe p50 1.2 ms, Locust CPU 83%"
    )
    assert (
        live_line(
            figures(
                phase="ramp",
                users=7,
                requests=40,
                errors=0,
                p95=None,
                probe_p50=None,
                cpu_percent=None,
                rps=None,
            ),
            1,
            1,
            25,
            3000,
            None,
        )
        == "level 1/1, 25 users, 12 s | ramp: 7/25 users running, 40 requests, 0 errors"
    )
    assert live_line(figures(phase=STARTING), 3, 4, 30, 10, 60) == (
        "level 3/4, 30 users | starting Locust"
    )
    assert "| 1,234 requests," in live_line(figures(), 1, 1, 25, None, 600)
    assert live_line(figures(), 1, 3, 1, 3000, 600, rate=200).startswith(
        "level 1/3, 200/s, 12 s (cap in 588 s) | 1,234/3,000 requests"
    )
