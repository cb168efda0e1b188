"""The report's charts drawn ahead (ecsload/report/level_charts.py), in this process as the
run-end server runs them, on run folders made the way a sweep makes them: real matplotlib,
real forked drawers, real SCHED_IDLE."""

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.commands.report import main as report_main
from ecsload.report import level_charts
from ecsload.report.charts import sweep_builds
from ecsload.report.drawing import drawn
from ecsload.report.level_charts import AHEAD, Ahead, drawn_ahead, report_builds
from tests.test_ecsload_report import SWEEP_CHARTS, make_run, write_level

pytestmark = pytest.mark.e2e  # draws whole reports: seconds of matplotlib


@pytest.fixture(autouse=True)
def nothing_ahead() -> Iterator[None]:
    AHEAD.clear()
    yield
    AHEAD.clear()


def levels_of(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "summary.json").read_text())["levels"]


def plan_levels(run_dir: Path, users: list[int], search: bool = False) -> None:
    plan = json.loads((run_dir / "plan.json").read_text())
    (run_dir / "plan.json").write_text(json.dumps({**plan, "concurrency": users, "search": search}))


def policy_becomes(pid: int, policy: int) -> bool:
    """Whether the process's scheduling policy is `policy` within 5 s."""
    deadline = time.monotonic() + 5
    while os.sched_getscheduler(pid) != policy and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.sched_getscheduler(pid) == policy


def test_charts_drawn_ahead_are_the_ones_the_report_draws_and_the_report_takes_them(
    tmp_path: Path,
) -> None:
    run_dir = make_run(tmp_path)  # its plan names levels 5 and 10, both finished
    ahead = Ahead(str(run_dir))
    ahead.look()  # every planned level has its summary: the run's end, every chart
    ahead.before("report")
    levels = levels_of(run_dir)
    taken = drawn_ahead(run_dir, levels)
    assert len(taken) == SWEEP_CHARTS + 2 and all(taken)
    assert taken == drawn(report_builds(run_dir, levels))  # byte for byte

    assert report_main([str(run_dir), "-q"]) == 0
    with_ahead = (run_dir / "report.html").read_text()
    AHEAD.clear()
    assert report_main([str(run_dir), "-q"]) == 0
    drawn_by_the_report = (run_dir / "report.html").read_text()
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert stamp.sub("", with_ahead) == stamp.sub("", drawn_by_the_report)


def test_a_chart_is_taken_only_if_drawn_from_the_reports_own_inputs(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    ahead = Ahead(str(run_dir))
    ahead.look()
    ahead.before("report")
    levels = levels_of(run_dir)
    assert all(drawn_ahead(run_dir, levels))

    changed = [dict(levels[0], m_note="a verdict's rewrite"), levels[1]]
    taken = drawn_ahead(run_dir, changed)  # every sweep chart and that level's: drawn again
    assert [chart is None for chart in taken] == [True] * SWEEP_CHARTS + [True, False]

    samples = run_dir / "level-10" / "samples.csv"
    os.utime(samples, ns=(samples.stat().st_atime_ns, samples.stat().st_mtime_ns + 1))
    taken = drawn_ahead(run_dir, levels)
    assert [chart is None for chart in taken] == [False] * SWEEP_CHARTS + [False, True]

    other_types = [dict(level, types={**level["types"], "Health": level["types"]["NoOp"]})
                   for level in levels]  # fmt: skip
    assert not any(drawn_ahead(run_dir, other_types))  # the colours changed: every chart


def test_while_levels_run_only_finished_levels_are_drawn_at_idle_priority(
    tmp_path: Path,
) -> None:
    run_dir = make_run(tmp_path)
    plan_levels(run_dir, [5, 10, 15])
    ahead = Ahead(str(run_dir))
    ahead.look()
    assert ahead.drawer is not None
    assert policy_becomes(ahead.drawer.pid, os.SCHED_IDLE)  # the drawer sets its own
    ahead.before("report")
    levels = levels_of(run_dir)
    sweep = len(sweep_builds(levels))
    taken = drawn_ahead(run_dir, levels)
    assert not any(taken[:sweep]) and all(taken[sweep:])

    ahead.look()  # nothing new: no drawer
    assert ahead.drawer is None
    level = write_level(run_dir, 15, 300, seed=15)  # the last level ends
    levels = [*levels, level]
    ahead.look()
    assert ahead.drawer is not None
    assert os.sched_getscheduler(ahead.drawer.pid) == os.SCHED_OTHER  # nothing else runs
    ahead.before("report")
    assert all(drawn_ahead(run_dir, levels))


def test_a_capacity_search_s_end_is_its_first_run_end_request(tmp_path: Path) -> None:
    """A search finds its steps as it goes: no plan says which level is the last."""
    run_dir = make_run(tmp_path)
    plan_levels(run_dir, [], search=True)
    ahead = Ahead(str(run_dir))
    ahead.look()
    ahead.before("report")
    levels = levels_of(run_dir)
    sweep = len(sweep_builds(levels))
    assert not any(drawn_ahead(run_dir, levels)[:sweep])
    ahead.before("summarize")
    ahead.before("report")
    assert all(drawn_ahead(run_dir, levels))


def test_a_stuck_drawer_costs_the_report_only_time(tmp_path: Path, monkeypatch) -> None:
    """A drawer that never ends is stopped after BOOSTED_SECONDS; the report draws all."""
    run_dir = make_run(tmp_path)
    monkeypatch.setattr(level_charts, "BOOSTED_SECONDS", 0.5)
    monkeypatch.setattr(level_charts, "drawn_now", lambda *_args, **_kw: signal.pause())
    ahead = Ahead(str(run_dir))
    ahead.look()
    drawer = ahead.drawer
    assert drawer is not None
    waited = time.monotonic()
    ahead.before("report")
    assert time.monotonic() - waited >= 0.5
    assert ahead.drawer is None  # stopped (SIGTERM, then SIGKILL at once) and reaped:
    assert drawer.code in (128 + signal.SIGTERM, 128 + signal.SIGKILL)
    assert not any(drawn_ahead(run_dir, levels_of(run_dir)))
    assert report_main([str(run_dir), "-q"]) == 0
    page = (run_dir / "report.html").read_text()
    assert len(re.findall(r'<figure class="chart"[^>]*>\s*<svg', page)) == SWEEP_CHARTS + 2
