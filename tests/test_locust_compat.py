"""The Locust, gevent and geventhttpclient internals that ecsload.locust_compat uses.

Each test fails when an upgrade changes what the module relies on: then fix the
module (and only it), as its docstring says. The checks (tests/locust_compat_checks.py)
run the real libraries in one process of their own, because importing Locust patches
a process with gevent; the one server they use is a real HTTP server on 127.0.0.1.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results() -> dict[str, str | None]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.locust_compat_checks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def passed(results: dict[str, str | None], name: str) -> None:
    assert name in results, f"no check {name}"
    assert results[name] is None, results[name]


def test_the_pinned_locust_is_the_one_the_module_was_written_for(results: dict) -> None:
    passed(results, "pin")


def test_ramp_seconds_is_what_locusts_dispatcher_does(results: dict) -> None:
    passed(results, "ramp")


def test_fixed_counts_give_each_class_its_users_and_take_out_a_class_with_none(
    results: dict,
) -> None:
    passed(results, "fixed_counts")


def test_the_loop_clock_is_cached_until_refreshed(results: dict) -> None:
    passed(results, "loop_clock")


def test_a_worker_sends_its_statistics_as_send_stats_does(results: dict) -> None:
    passed(results, "send_stats")


def test_the_connection_hook_sees_each_new_connection_once(results: dict) -> None:
    passed(results, "connection_hook")


def test_the_resolve_cache_looks_the_host_up_once_for_many_connections(results: dict) -> None:
    passed(results, "resolve_cache")


def test_locusts_report_is_the_same_page_from_a_template_compiled_once(results: dict) -> None:
    passed(results, "report_template")
