"""nginx-style limits on a real node, configured by a small deployment.json.

Rates are per minute where a test needs a second request to be refused, so the test does not
depend on how fast this (shared, 2-core) machine is.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path

import pytest
import requests

from tests.node_fixtures import HAPPY_TASK, post_task, run_node, wait_for

pytestmark = pytest.mark.e2e  # node processes with tasks and signals, on real time


def deployment(tmp_path: Path, credentials=None, **limits: dict[str, str]) -> str:
    document: dict[str, object] = {"api_rate_limiting": limits, "number_of_nodes": 1}
    if credentials is not None:
        document["api_credentials"] = str(credentials.htpasswd)
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(document))
    return str(path)


def noop(node, auth=None) -> int:
    return requests.get(f"{node.api}/_noop", auth=auth, timeout=30).status_code


def test_no_limits_unless_configured(node_factory):
    node = node_factory()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: noop(node), range(80)))
    assert statuses == [200] * 80


def test_rate_per_key(node_factory, credentials, tmp_path):
    node = node_factory(
        "--deployment", deployment(tmp_path, credentials, per_key={"rate_limit": "1r/m"})
    )
    first, second = credentials.pairs[:2]
    assert noop(node, first) == 200
    assert noop(node, first) == 503
    assert noop(node, second) == 200
    assert noop(node, second) == 503
    assert noop(node) == 401  # no key: not counted per key, refused by auth


def test_rate_per_ip_and_the_bucket_drains(node_factory, tmp_path):
    node = node_factory("--deployment", deployment(tmp_path, per_ip={"rate_limit": "30r/m"}))
    assert noop(node) == 200
    assert noop(node) == 503
    time.sleep(2.1)  # 30r/m lets one request in every 2 s
    assert noop(node) == 200


def test_a_refused_request_does_not_count(node_factory, tmp_path):
    node = node_factory("--deployment", deployment(tmp_path, per_ip={"rate_limit": "20r/m"}))
    assert noop(node) == 200
    time.sleep(1.5)
    assert noop(node) == 503  # refused: must not restart the 3 s
    time.sleep(2.0)
    assert noop(node) == 200


@pytest.mark.parametrize("zone", ["per_ip", "per_key"])
def test_connections_in_flight_are_limited_and_released(
    node_factory, credentials, tmp_path, task_scratch, zone
):
    path = deployment(tmp_path, credentials, **{zone: {"conn_limit": "1"}})
    node = node_factory("--deployment", path)
    first, second = credentials.pairs[:2]
    started, finished = task_scratch / "started", task_scratch / "finished"
    script = f"touch {started}; sleep 1; touch {finished}"
    slow = {**HAPPY_TASK, "cmd": ["sh", "-c", script]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(post_task, node, slow, first)
        wait_for(started)
        assert noop(node, first) == 503
        assert not finished.exists()  # the 503 came at once, while the task still ran
        assert noop(node, second) == (503 if zone == "per_ip" else 200)
        assert running.result().status_code == 201
    assert noop(node, first) == 200


@pytest.mark.parametrize(
    "limits",
    [
        {"per_ip": {"rate_limit": "fast"}},
        {"per_ip": {"rate_limit": "0r/s"}},
        {"per_key": {"conn_limit": "many"}},
        {"per_key": {"conn_limit": 0}},
        {"per_host": {"rate_limit": "5r/s"}},
        {"per_ip": {"rate_limit": "5r/s", "burst": "5"}},
    ],
)
def test_bad_limits_are_refused_at_start(tmp_path, limits):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"api_rate_limiting": limits}))
    done = run_node(tmp_path, "--deployment", str(path))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert "deployment" in done.stderr
