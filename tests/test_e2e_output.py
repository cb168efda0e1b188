"""End to end: what a person sees of a default sweep fits one screen and ends with its answers.

A default sweep (no option but the results folder) against the nginx stand-in with
a 10 ms service time, as a deployment has: its whole terminal output, stdout and
stderr together and without -q, is at most 40 lines: a line per level (the same as
the level's summary.json says), the short table across levels, the answer lines and,
last, where the report is. Every figure stays in the files. `-v` printing every
table is checked by test_e2e_sweep.py (test_local_sweep_prints_tables_…).
"""

import re
from pathlib import Path

import pytest

from ecsload.report.tables import SHORT_TABLE_NOTE, level_line
from tests.e2e_support import clean_env, only_run_dir, read_json, run_script
from tests.nginx_support import DELAYED_ENDPOINTS, nginx_ecs, nginx_missing

pytestmark = pytest.mark.e2e

SCREEN_LINES = 40


def test_a_default_sweep_prints_its_answers_on_one_screen(tmp_path: Path) -> None:
    if missing := nginx_missing():
        pytest.skip(missing)
    delays = dict.fromkeys(DELAYED_ENDPOINTS, 10.0)
    with nginx_ecs(tmp_path / "stand-in", access_log=False, delays=delays) as server:
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        result = run_script("-o", str(tmp_path / "results"), env=env, timeout=600)

    assert result.returncode == 0, result.stderr + result.stdout
    terminal = (result.stdout + result.stderr).splitlines()
    assert len(terminal) <= SCREEN_LINES, "\n".join(terminal)
    run_dir = only_run_dir(tmp_path / "results")
    out = result.stdout.splitlines()
    summary = read_json(run_dir / "summary.json")
    assert [level["users"] for level in summary["levels"]] == [10, 15, 20, 25]
    for level in summary["levels"]:  # one line per level, what its files say
        assert level_line(level, f"level-{level['users']}/summary.txt") in out
        full = (run_dir / f"level-{level['users']}" / "summary.txt").read_text()
        assert "Request Type" in full and "Request Type" not in result.stdout
    # The short table, then the answers, then where the report is.
    assert SHORT_TABLE_NOTE in out
    assert summary["saturation"]["text"] in out
    assert out.index(summary["saturation"]["text"]) > out.index(SHORT_TABLE_NOTE)
    assert out[-1] == f"Find the report @ '{run_dir / 'report.html'}'"
    assert (run_dir / "report.html").is_file()
    # Every figure is still in the files: the whole table across levels.
    whole = (run_dir / "summary.txt").read_text()
    assert "p95 Tasks-Happy-Path" in whole and "p95 Tasks-Happy-Path" not in result.stdout


def test_an_arrival_rate_run_says_rates_everywhere(tmp_path: Path) -> None:
    if missing := nginx_missing():
        pytest.skip(missing)
    args = ("--rates", "100 200", "-n", "400", "--fail-on", "p99<1000@200", "--fail-on", "p99<1000")
    with nginx_ecs(tmp_path / "stand-in", access_log=False) as server:
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        result = run_script(*args, "-o", str(tmp_path / "results"), env=env, timeout=300)

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path / "results")
    files = {
        name: (run_dir / name).read_text()
        for name in ("summary.txt", "thresholds.txt", "junit.xml", "report.html")
    }
    files |= {f"level-{rate}": (run_dir / f"level-{rate}" / "summary.txt").read_text()
              for rate in (100, 200)}  # fmt: skip
    for name, text in {"terminal": result.stdout + result.stderr, **files}.items():
        assert not re.search(r"\b1 users\b|\b1, 1\b", text), name  # its users: one per process
    out = result.stdout.splitlines()
    assert any(line.startswith("100/s: ") for line in out)
    assert any(line.startswith("200/s: ") for line in out)
    assert "Thresholds: all 3 checks passed" in out
    assert "<dd>100, 200 req/s</dd>" in files["report.html"]
    assert files["thresholds.txt"].splitlines()[3].split()[:3] == ["Threshold", "Rate", "/s"]
    assert 'name="level 200/s"' in files["junit.xml"]
    assert "Ramp: 1 arrival user (one per Locust process) in " in files["level-200"]
