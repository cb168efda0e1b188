"""The capacity search end to end: the real run_load_test.sh capacity against a stand-in of
known capacity (tests/limit_server.py: 4 requests at once, 10 ms each, at most 400/s) and
against nginx, whose tens of thousands of requests/s one Locust process cannot send.

Short steps (-d 2; at these rates a step for p99 lasts 3-4 s, for its 1,000 answers) keep
each search near a minute on a busy machine; the answer must still land where the
stand-in's truth puts it, three times of three.
"""

import math
import os
import subprocess
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, visit_offline
from tests.e2e_support import SCRIPT, clean_env, only_run_dir, read_json, run_script
from tests.limit_server import limit_server
from tests.nginx_support import Nginx, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[dict[str, str]]:
    credentials = tmp_path / "credentials.txt"
    credentials.write_text("key:secret\n")
    with limit_server(free_port(), at_once=4, ms=10) as url:
        yield clean_env(ECS_ENDPOINT=url, ECS_CREDENTIALS=str(credentials))


def search(out: Path, env: dict[str, str], *args: str) -> tuple[dict, str]:
    """One search, its summary.json's `capacity` and its output. As root (this shared
    machine) the script runs at a raised priority, as the stand-in does: the other work of
    the machine then adds less to the latencies that the SLO reads."""
    nice = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
    options = ["capacity", "-q", "-d", "2", "--probe-rate", "0", "-o", str(out), *args]
    result = subprocess.run(
        [*nice, str(SCRIPT), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    summary = read_json(only_run_dir(out) / "summary.json")
    return summary["capacity"], result.stdout + result.stderr


@pytest.mark.timeout(1200)  # three or four searches of about ten steps each
def test_the_search_finds_the_stand_in_s_edge_three_times_of_three(
    tmp_path: Path, stand_in: dict[str, str]
) -> None:
    answers: list[int] = []
    attempt = 0
    while len(answers) < 3:
        attempt += 1  # a search the generator limited measured this busy machine, not the
        assert attempt <= 4, answers  # stand-in: it may be run again, once
        found, output = search(
            tmp_path / f"out-{attempt}",
            stand_in,
            "--slo",
            "p99<50",
            "--min-rate",
            "300",
            "--max-rate",
            "600",
        )
        assert found["slo"] == ["p99<50"] and found["resolution_percent"] == 5
        if found["limited_by"] == "generator" and attempt < 4 and attempt - len(answers) == 1:
            continue
        assert found["limited_by"] == "service" and found["rate"], found["text"]
        lo, hi = found["interval"]
        assert lo == found["rate"] and hi <= lo * 1.05 + 1, found
        assert found["steps"][-1]["phase"] == "confirm" and found["steps"][-1]["held"]
        # 3x a step, which lasts -d's 2 s or long enough for p99's 1,000 answers (and a tenth)
        assert found["steps"][-1]["seconds"] == 3 * max(2, math.ceil(1100 / found["rate"]))
        levels = read_json(only_run_dir(tmp_path / f"out-{attempt}") / "summary.json")["levels"]
        [column] = [level for level in levels if level["rate"] == found["rate"]]
        confirmed = found["steps"][-1]["figures"]["slo"][0]["measured"]
        assert column["all"]["p99"] == pytest.approx(confirmed, abs=0.01)  # its result step
        assert all(step["figures"]["slo"][0]["interval"] for step in found["steps"])
        assert f"Capacity: {found['rate']} req/s [{lo}, {hi}] with p99<50 ms" in output
        report = (only_run_dir(tmp_path / f"out-{attempt}") / "report.html").read_text()
        assert 'id="search-path"' in report
        assert escape(found["text"].split(" (")[0], quote=False) in report
        if not answers and CHROMIUM.exists():  # its path whole in a wide window, once
            page = only_run_dir(tmp_path / f"out-{attempt}") / "report.html"
            visit = visit_offline(page, tmp_path / "report.png", width=1400)
            assert "search-path" not in visit.scrolled and not visit.overflows_narrow
        answers.append(found["rate"])
    assert all(330 <= rate <= 410 for rate in answers), answers
    assert max(answers) <= 1.10 * min(answers), answers


@pytest.mark.timeout(600)
def test_an_error_slo_alone_stops_where_the_service_stops_keeping_up(
    tmp_path: Path, stand_in: dict[str, str]
) -> None:
    """The stand-in never fails a request: past 400/s its queue only grows. A 2 s step at
    800/s ends before anything times out or reaches --max-in-flight, so with an error SLO
    alone it held, until the answers' rate (as they arrived) judged it: 400 of 800/s."""
    found, output = search(
        tmp_path / "out", stand_in, "--slo", "error%<1", "--min-rate", "200", "--max-rate", "800"
    )
    assert found["limited_by"] == "service" and found["rate"], found["text"]
    assert 330 <= found["rate"] <= 410, found["text"]
    assert "the service answered" in found["text"] and "its queue grew" in found["text"]
    grow = [step for step in found["steps"] if step["rate"] == 800]
    assert grow and not grow[0]["held"] and grow[0]["limit"] == "service", grow
    assert grow[0]["figures"]["answered"] == pytest.approx(400, rel=0.1), grow
    assert "Step 3 (grow) 800 req/s for 2 s: broke (service): the service answered" in output
    if CHROMIUM.exists():  # its long whys wrap: the search path does not scroll at 1400 px
        page = only_run_dir(tmp_path / "out") / "report.html"
        assert "search-path" not in visit_offline(page, tmp_path / "r.png", width=1400).scrolled


def test_a_gate_below_the_answer_passes_and_above_fails_with_exit_6(
    tmp_path: Path, stand_in: dict[str, str]
) -> None:
    # An objective far above the stand-in's 10 ms, so that a busy machine cannot break it:
    # this test is of the gate, not of the search (p50: its 20 answers need no longer steps).
    args = ("--slo", "p50<500", "--min-rate", "100", "--max-rate", "200", "--fail-on")
    result = run_script(
        "capacity",
        "-q",
        "-d",
        "1",
        "--probe-rate",
        "0",
        "-o",
        str(tmp_path / "out"),
        *args,
        "capacity>=1000",
        env=stand_in,
        timeout=300,
    )
    assert result.returncode == 6, result.stderr + result.stdout
    summary = read_json(only_run_dir(tmp_path / "out") / "summary.json")
    assert summary["capacity"]["limited_by"] == "max-rate" and summary["capacity"]["rate"] == 200
    assert summary["verdict"]["thresholds"][0] == {
        "expr": "capacity>=1000",
        "level": "search",
        "few": False,
        "measured": 200,
        "passed": False,
    }
    assert (
        "Capacity: at least 200 req/s with p50<500 ms, held up to --max-rate 200" in result.stdout
    )


def test_against_nginx_the_limit_is_the_generator_s(tmp_path: Path, nginx: Nginx) -> None:
    env = clean_env(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    found, _ = search(
        tmp_path / "out",
        env,
        "--slo",
        "p99<50",
        "--min-rate",
        "250",
        "--max-rate",
        "50000",
        "--resolution",
        "25",
    )
    assert found["limited_by"] == "generator", found["text"]
    assert "the generator's limit, not the service's" in found["text"]
    assert "--processes" in found["text"]
    assert found["rate"] is None or found["rate"] < 50000  # None: not even --min-rate was sent
