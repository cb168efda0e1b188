"""End to end: timed levels (-d, --warmup) and repeats (--repeat) against a real local node,
with every figure's 95% interval in the tables, summary.json and the report."""

import csv
import re
from pathlib import Path

import pytest
from dateutil.parser import isoparse

from tests.e2e_support import only_run_dir, read_json, run_script

pytestmark = pytest.mark.e2e

SECONDS = 3
LEVELS = (5, 10)


def test_timed_repeated_levels_last_their_seconds_interleave_and_combine(tmp_path: Path) -> None:
    result = run_script(
        "-c",
        " ".join(map(str, LEVELS)),
        "-d",
        str(SECONDS),
        "--warmup",
        "1",
        "--repeat",
        "2",
        "-r",
        "1000",
        "-q",
        "-v",  # the per-level tables, read below (without -v a level prints one line)
        "-o",
        str(tmp_path),
        timeout=300,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path)
    out = result.stdout
    starts = []
    for repeat in (1, 2):
        for users in LEVELS:
            folder = run_dir / f"level-{users}" / f"repeat-{repeat}"
            level = read_json(folder / "summary.json")["levels"][0]
            # a timed level lasts its seconds, and its title says so
            assert abs(level["seconds"] - SECONDS) <= 0.5, level["seconds"]
            assert level["stopped_by"] == "seconds"
            title = (folder / "summary.txt").read_text().splitlines()[1]
            assert re.search(
                rf" @ {users} \(repeat {repeat}\) in \d+\.\d s \(timed: -d {SECONDS} after 1 s "
                "warmup\\) from ",
                title,
            ), title
            phases = {row["phase"] for row in csv.DictReader((folder / "samples.csv").open())}
            assert {"warmup", "measure"} <= phases <= {"ramp", "warmup", "measure"}
            starts.append(isoparse(read_json(folder / "level.json")["started"]))
    assert starts == sorted(starts)  # 5 10, 5 10: interleaved
    summary = read_json(run_dir / "summary.json")
    for level in summary["levels"]:
        repeats = [
            read_json(run_dir / f"level-{level['users']}" / f"repeat-{r}" / "summary.json")
            for r in (1, 2)
        ]
        # the tables combine the repeats
        assert level["requests"] == sum(doc["levels"][0]["requests"] for doc in repeats)
        assert [r["repeat"] for r in level["repeats"]] == [1, 2]
        assert f"{level['requests']} @ {level['users']} over 2 repeats in " in out
        # intervals in summary.json ...
        assert level["uncertainty"]["repeats"] == 2
        low, high = level["ci"]["rps"]
        assert low <= level["rps"] <= high
        low, high = level["all"]["ci"]["p95"]
        assert low <= level["all"]["p95"] <= high
        assert set(level["types"]["Tasks-Happy-Path"]["ci"]) == {"p50", "p95", "p99", "m", "b"}
    # ... in the tables ...
    assert "95% intervals (block bootstrap" in out
    assert re.search(r"Requests/s +\d+\.\d ±\d+\.\d", out)
    # ... and in the report
    page = (run_dir / "report.html").read_text()
    assert "95% interval" in page
