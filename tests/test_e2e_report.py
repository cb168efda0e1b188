"""End to end: a real sweep's report.html opened in Debian's headless Chromium with no network,
its --graphs PDF, the report of a run stopped early, and `run_load_test.sh report`.
"""

import re
import signal
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser_support import CHROMIUM, visit_offline
from tests.e2e_support import (
    SCRIPT,
    clean_env,
    level_under_way,
    only_run_dir,
    read_json,
    run_script,
    script_in_background,
    wait_until_gone,
)

pytestmark = pytest.mark.e2e

SWEEP_CHARTS = 6  # throughput, latency, latency by type, errors, probe, generator


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
def test_a_sweeps_report_opens_offline_in_chromium_with_every_chart(tmp_path: Path) -> None:
    pdf = tmp_path / "graphs.pdf"
    result = run_script(
        "-v", "-c", "5 10", "-n", "1500", "-r", "100", "-t", "60", "--graphs", str(pdf),
        "-o", str(tmp_path / "results"),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path / "results")
    page = run_dir / "report.html"
    assert f"Find the report @ '{page}'" in result.stdout
    visit = visit_offline(page, tmp_path / "report.png")
    assert visit.requests == [page.resolve().as_uri()]
    assert visit.blocked == []
    assert visit.console_errors == []
    assert visit.charts == SWEEP_CHARTS + 2
    assert visit.title == f"Load test of {read_json(run_dir / 'summary.json')['endpoint']}"
    assert not visit.overflows_narrow
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert len(PdfReader(pdf).pages) == SWEEP_CHARTS + 2

    html = page.read_text()
    for level in read_json(run_dir / "summary.json")["levels"]:
        assert f"{level['requests']} @ {level['users']} from {level['started']}" in html
        assert f"{level['rps']:.1f}" in html
        assert f'href="level-{level["users"]}/report.html"' in html

    # The sweep's charts were drawn ahead by its run-end server (report/level_charts.py):
    # the report written again by itself, every chart drawn now, is the same page.
    page.unlink()
    again = subprocess.run(
        [str(SCRIPT), "report", str(run_dir)], env=clean_env(), capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        f"Find the report @ '{page}'\n",
        "",
    )
    assert page.read_text().count('<figure class="chart"') == SWEEP_CHARTS + 2
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert stamp.sub("", page.read_text()) == stamp.sub("", html)


def test_an_interrupted_sweep_reports_the_levels_that_finished(tmp_path: Path) -> None:
    args = ("-c", "5 20", "-n", "4000", "-t", "120", "-r", "100", "-q")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with script_in_background(*args, results=tmp_path, **pipes) as script:
        # the first level ends, the second starts: stop the sweep in its second level
        level_under_way(tmp_path, 20, 20_000, script)
        assert script.poll() is None, "the second level never got going"
        script.send_signal(signal.SIGINT)
        _, err = script.communicate(timeout=60)
        assert script.returncode == 130, err
        assert "interrupted" in err
        run_dir = only_run_dir(tmp_path)
        html = (run_dir / "report.html").read_text()
        assert html.count('<figure class="chart"') == SWEEP_CHARTS + 1
        assert " @ 5 from " in html and " @ 20 " not in html
        assert wait_until_gone(str(tmp_path), 15) == []
