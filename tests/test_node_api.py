"""Every row of ecs-api.md's endpoint table against a real node over loopback.

The 500 ("the runner failed") and red-health 503 rows need a runner that fails for real: they
use the docker runner pointed at a closed loopback port, i.e. a Docker daemon that does not
answer. Nothing is mocked.
"""

from __future__ import annotations

import base64
import re

import pytest
import requests

from tests.node_fixtures import HAPPY_TASK, post_task

pytestmark = pytest.mark.e2e  # a real node process answering over loopback

GETS = ["_noop", "_version", "_health", "_health?quick=true", "_health?quick=false"]


def get(url: str, auth: tuple[str, str] | None = None) -> requests.Response:
    return requests.get(url, auth=auth, timeout=30)


def test_noop_answers_its_own_url(secured_node):
    node, auth = secured_node
    answer = get(f"{node.api}/_noop", auth)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"links": {"self": {"href": f"{node.api}/_noop"}}}


def test_version(secured_node):
    node, auth = secured_node
    answer = get(f"{node.api}/_version/", auth)
    assert answer.status_code == 200
    body = answer.json()
    assert re.fullmatch(r"\d+\.\d+\.\d+", body.pop("version"))
    assert body == {"links": {"self": {"href": f"{node.api}/_version/"}}}


@pytest.mark.parametrize("query", ["", "?quick=true", "?quick=TRUE"])
def test_quick_health_is_green_without_probing(secured_node, query):
    node, auth = secured_node
    answer = get(f"{node.api}/_health{query}", auth)
    assert answer.status_code == 200
    assert answer.json() == {"status": "green", "links": {"self": {"href": f"{node.api}/_health"}}}


def test_comprehensive_health_reports_the_runner(secured_node):
    node, auth = secured_node
    answer = get(f"{node.api}/_health?quick=false", auth)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "green"
    assert body["details"]["process runner"]["status"] == "green"
    assert body["links"] == {"self": {"href": f"{node.api}/_health"}}


@pytest.mark.parametrize("quick", ["yes", "1", "maybe", ""])
def test_non_boolean_quick_is_400(secured_node, quick):
    node, auth = secured_node
    answer = get(f"{node.api}/_health?quick={quick}", auth)
    assert answer.status_code == 400
    assert answer.json()["status"] == 400
    assert "quick" in answer.json()["message"]


@pytest.mark.parametrize("path", ["tasks", "tasks/"])
def test_happy_task_is_201_with_base64_output(secured_node, path):
    node, auth = secured_node
    answer = requests.post(f"{node.api}/{path}?comment=x", json=HAPPY_TASK, auth=auth, timeout=30)
    assert answer.status_code == 201
    body = answer.json()
    assert body["exitCode"] == 0
    assert base64.b64decode(body["stdout"]) == b"hello world\n"
    assert base64.b64decode(body["stderr"]) == b""


def test_missing_image_is_404(secured_node):
    node, auth = secured_node
    answer = post_task(node, {"docker_image": "bindle:berry", "cmd": ["echo", "x"]}, auth)
    assert answer.status_code == 404
    assert "bindle:berry" in answer.json()["message"]


@pytest.mark.parametrize("path", [*GETS, "tasks"])
def test_every_endpoint_needs_credentials(secured_node, path):
    node, _ = secured_node
    answer = post_task(node, HAPPY_TASK) if path == "tasks" else get(f"{node.api}/{path}")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert answer.json()["status"] == 401


@pytest.mark.parametrize("path", ["/", "/_noop", "/v1.1/", "/v1.1/nothing", "/v1.0/_noop"])
def test_unknown_paths_are_404(secured_node, path):
    node, auth = secured_node
    answer = get(f"{node.base}{path}", auth)
    assert answer.status_code == 404
    assert answer.json()["status"] == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "tasks"), ("PUT", "tasks"), ("DELETE", "tasks/"), ("POST", "_noop"),
     ("POST", "_version"), ("DELETE", "_health")],
)  # fmt: skip
def test_wrong_methods_are_405(secured_node, method, path):
    node, auth = secured_node
    answer = requests.request(method, f"{node.api}/{path}", auth=auth, timeout=30)
    assert answer.status_code == 405
    assert answer.json()["status"] == 405


def test_oversized_body_is_413(secured_node):
    node, auth = secured_node
    body = b'{"docker_image": "ubuntu:14.04", "cmd": ["echo", "' + b"x" * 6 * 1024 + b'"]}'
    answer = post_task(node, body, auth, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["status"] == 413


def test_rate_limited_is_503(node_factory, tmp_path):
    deployment = tmp_path / "deployment.json"
    deployment.write_text('{"api_rate_limiting": {"per_ip": {"rate_limit": "1r/m"}}}')
    node = node_factory("--deployment", str(deployment))
    assert get(f"{node.api}/_noop").status_code == 200
    answer = get(f"{node.api}/_noop")
    assert answer.status_code == 503
    assert answer.json()["status"] == 503


@pytest.fixture
def failing_runner_node(node_factory):
    """The docker runner with its daemon at a closed loopback port: the runner really fails."""
    return node_factory("--runner", "docker", "--docker-remote-api", "http://127.0.0.1:1")


def test_comprehensive_health_is_503_when_the_runner_is_red(failing_runner_node):
    node = failing_runner_node
    answer = get(f"{node.api}/_health?quick=false")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "red"
    [component] = body["details"].values()
    assert component["status"] == "red"
    assert get(f"{node.api}/_health?quick=true").status_code == 200


def test_runner_failure_is_500(failing_runner_node):
    answer = post_task(failing_runner_node, HAPPY_TASK)
    assert answer.status_code == 500
    assert answer.json()["status"] == 500
