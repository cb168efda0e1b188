"""Hostile bodies and requests get proper answers, and refusals keep keep-alive connections.

Each refusal is checked on one `http.client` connection: the client's next request on it must
be answered on the same socket, as nginx does when it reads and drops a refused request's body.
"""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.node_fixtures import HAPPY_TASK, RunningNode, post_task

pytestmark = pytest.mark.e2e  # a real node process answering over loopback

DEEP_BODIES = {
    "arrays 2000 deep": "[" * 2000 + "]" * 2000,
    "objects 1000 deep": '{"":' * 1000 + "1" + "}" * 1000,
    "cmd 2000 deep": '{"docker_image": "ubuntu:14.04", "cmd": ' + "[" * 2000 + "]" * 2000 + "}",
    "cmd 950 deep": '{"docker_image": "ubuntu:14.04", "cmd": ' + "[" * 950 + "]" * 950 + "}",
}

OTHER_BAD_BODIES = {
    "not UTF-8": b'{"docker_image": "ubuntu:14.04", "cmd": ["\xff"]}',
    "4301-digit number": '{"docker_image": "ubuntu:14.04", "cmd": [' + "1" * 4301 + "]}",
    "Infinity": '{"docker_image": "ubuntu:14.04", "cmd": [Infinity]}',
    "NUL": b"\x00",
    "trailing data": json.dumps(HAPPY_TASK) + " {}",
}


def basic(auth: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(":".join(auth).encode()).decode()


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_400(secured_node, body):
    node, auth = secured_node
    answer = post_task(node, body, auth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == 400
    assert len(answer.json()["message"]) < 300


@pytest.mark.parametrize("body", OTHER_BAD_BODIES.values(), ids=OTHER_BAD_BODIES.keys())
def test_other_unparsable_bodies_are_400(secured_node, body):
    node, auth = secured_node
    answer = post_task(node, body, auth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == 400


class KeepAlive:
    """One HTTP/1.1 connection to a node; `send` fails if the node closed it in between."""

    def __init__(self, node: RunningNode) -> None:
        self.connection = http.client.HTTPConnection(urlsplit(node.base).netloc, timeout=10)
        self.connection.connect()
        self.socket = self.connection.sock

    def send(
        self, method: str, path: str, body: object = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        """One request and its answer; a closed connection shows on the request after."""
        self.connection.request(method, path, body=body, headers=headers or {})
        answer = self.connection.getresponse()
        data = answer.read()
        assert self.connection.sock is self.socket, "the node closed the connection"
        return answer.status, data


@pytest.fixture
def keep_alive(secured_node):
    node, auth = secured_node
    connection = KeepAlive(node)
    yield connection, basic(auth)
    connection.connection.close()


BODY = json.dumps(HAPPY_TASK).encode()

REFUSALS = {
    "404 unknown path": ("POST", "/nope", BODY, True, 404),
    "404 unknown path under /v1.1": ("PUT", "/v1.1/nothing", BODY, True, 404),
    "405 PUT tasks": ("PUT", "/v1.1/tasks", BODY, True, 405),
    "405 POST _noop": ("POST", "/v1.1/_noop", BODY, True, 405),
    "401 wrong credentials": ("POST", "/v1.1/tasks", BODY, False, 401),
    "401 on an unknown path": ("POST", "/nope", BODY, False, 401),
    "413 by Content-Length": ("POST", "/v1.1/tasks", b"x" * (6 * 1024), True, 413),
    "413 of 2 MiB": ("POST", "/v1.1/tasks", b"x" * (2 * 1024 * 1024), True, 413),
    "404 without a body": ("GET", "/nope", None, True, 404),
    "401 without a body": ("GET", "/v1.1/_noop", None, False, 401),
    "405 without a body": ("DELETE", "/v1.1/_health", None, True, 405),
}


@pytest.mark.parametrize(
    ("method", "path", "body", "good_key", "status"), REFUSALS.values(), ids=REFUSALS.keys()
)
def test_a_refused_request_keeps_its_connection(keep_alive, method, path, body, good_key, status):
    connection, authorization = keep_alive
    headers = {"Authorization": authorization if good_key else "Basic azpz"}
    refused, data = connection.send(method, path, body, headers)
    assert refused == status
    assert json.loads(data)["status"] == status
    assert connection.send("GET", "/v1.1/_noop", headers={"Authorization": authorization})[0] == 200


def test_a_chunked_body_over_5_kib_keeps_its_connection(keep_alive):
    connection, authorization = keep_alive
    chunks = iter([b"x" * 4096, b"x" * 4096])
    headers = {"Authorization": authorization}  # http.client sends an iterator chunked
    assert connection.send("POST", "/v1.1/tasks", chunks, headers)[0] == 413
    assert connection.send("GET", "/v1.1/_noop", headers={"Authorization": authorization})[0] == 200


def test_a_rate_limited_request_keeps_its_connection(node_factory, tmp_path):
    deployment = tmp_path / "deployment.json"
    deployment.write_text('{"api_rate_limiting": {"per_ip": {"rate_limit": "1r/m"}}}')
    connection = KeepAlive(node_factory("--deployment", str(deployment)))
    assert connection.send("GET", "/v1.1/_noop")[0] == 200
    assert connection.send("POST", "/v1.1/tasks", BODY)[0] == 503
    assert connection.send("GET", "/v1.1/_noop")[0] == 503
    assert connection.send("GET", "/v1.1/_noop")[0] == 503  # still the same connection


@pytest.mark.parametrize("size", [65 * 1024, 200 * 1024])
def test_headers_over_64_kib_are_431(keep_alive, size):
    connection, authorization = keep_alive
    headers = {"Authorization": authorization, "X-Filler": "f" * size}
    status, data = connection.send("GET", "/v1.1/_noop", headers=headers)
    assert status == 431
    assert json.loads(data)["status"] == 431
    assert connection.send("GET", "/v1.1/_noop", headers={"Authorization": authorization})[0] == 200


def test_many_headers_adding_up_to_over_64_kib_are_431(keep_alive):
    connection, authorization = keep_alive
    headers = {f"X-Filler-{n}": "f" * 1000 for n in range(70)}
    headers["Authorization"] = authorization
    assert connection.send("GET", "/v1.1/_noop", headers=headers)[0] == 431


def test_headers_just_under_64_kib_are_served(keep_alive):
    connection, authorization = keep_alive
    headers = {"Authorization": authorization, "X-Filler": "f" * (60 * 1024)}
    assert connection.send("GET", "/v1.1/_noop", headers=headers)[0] == 200
