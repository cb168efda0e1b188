"""POST /tasks on a real node with the process runner: bodies, exit codes, output, limits."""

from __future__ import annotations

import base64
import concurrent.futures
import itertools
import json
import socket

import pytest

from tests.node_fixtures import HAPPY_TASK, post_task

pytestmark = pytest.mark.e2e  # a real node process answering over loopback

GOOD_CREDS = {"email": "a@example.com", "username": "u", "password": "p"}

BAD_BODIES = {
    "missing image": {"cmd": ["echo", "x"]},
    "missing cmd": {"docker_image": "ubuntu:14.04"},
    "empty cmd": {"docker_image": "ubuntu:14.04", "cmd": []},
    "cmd not strings": {"docker_image": "ubuntu:14.04", "cmd": ["echo", 1]},
    "cmd a string": {"docker_image": "ubuntu:14.04", "cmd": "echo x"},
    "empty object": {},
    "a JSON list": [HAPPY_TASK],
    "a JSON string": "ubuntu:14.04",
    "extra property": {**HAPPY_TASK, "user": "root"},
    "image without tag": {"docker_image": "ubuntu", "cmd": ["echo", "x"]},
    "partial creds": {**HAPPY_TASK, "creds": {"email": "a@example.com", "username": "u"}},
    "empty cred": {**HAPPY_TASK, "creds": {**GOOD_CREDS, "password": ""}},
    "extra cred": {**HAPPY_TASK, "creds": {**GOOD_CREDS, "token": "t"}},
}


def decoded(answer) -> tuple[int, bytes, bytes]:
    body = answer.json()
    return body["exitCode"], base64.b64decode(body["stdout"]), base64.b64decode(body["stderr"])


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_400(secured_node, body):
    node, auth = secured_node
    answer = post_task(node, json.dumps(body), auth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == 400
    assert answer.json()["message"]


@pytest.mark.parametrize("raw", ["", "{", "not json", '{"docker_image": "ubuntu:14.04",}'])
def test_invalid_json_is_400(secured_node, raw):
    node, auth = secured_node
    answer = post_task(node, raw, auth)
    assert answer.status_code == 400
    assert answer.json()["status"] == 400


def test_image_without_tag_names_the_error(secured_node):
    node, auth = secured_node
    answer = post_task(node, BAD_BODIES["image without tag"], auth)
    assert "IMAGE_NAME_IS_INVALID" in answer.json()["message"]


def test_full_creds_and_registry_image_are_accepted(secured_node):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "creds": GOOD_CREDS}, auth)
    assert answer.status_code == 201
    answer = post_task(
        node, {"docker_image": "registry.example/ubuntu:14.04", "cmd": ["true"]}, auth
    )
    assert answer.status_code == 404  # valid name, not in the catalog


@pytest.mark.parametrize("size", [6 * 1024, 5 * 1024 + 1, 2 * 1024 * 1024])
def test_body_over_5_kib_is_413(secured_node, size):
    node, auth = secured_node
    answer = post_task(node, b"x" * size, auth)
    assert answer.status_code == 413


def test_body_of_exactly_5_kib_is_read(secured_node):
    node, auth = secured_node
    text = json.dumps({**HAPPY_TASK, "cmd": ["echo", ""]})
    body = text.replace('""', '"' + "y" * (5 * 1024 - len(text)) + '"')
    assert len(body) == 5 * 1024
    answer = post_task(node, body, auth)
    assert answer.status_code == 201
    assert decoded(answer)[1] == b"y" * (5 * 1024 - len(text)) + b"\n"


def test_chunked_body_over_5_kib_is_413(secured_node):
    node, auth = secured_node
    chunks = iter([b"x" * 4096, b"x" * 4096])
    answer = post_task(node, chunks, auth)
    assert answer.status_code == 413


@pytest.mark.parametrize("code", [1, 2, 42, 255])
def test_non_zero_exit_is_still_201(secured_node, code):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["sh", "-c", f"exit {code}"]}, auth)
    assert answer.status_code == 201
    assert decoded(answer)[0] == code


def test_stdout_and_stderr_round_trip_bytes(secured_node):
    node, auth = secured_node
    script = r"printf 'out\000\377line\n'; printf 'err\tü\n' >&2; exit 3"
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["sh", "-c", script]}, auth)
    assert answer.status_code == 201
    assert decoded(answer) == (3, b"out\x00\xffline\n", "err\tü\n".encode())


def test_output_is_capped(secured_node):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["head", "-c", "1000000", "/dev/zero"]}, auth)
    assert answer.status_code == 201
    code, out, _ = decoded(answer)
    assert code == 0
    assert out == b"\0" * 64 * 1024


def test_command_that_cannot_start_is_127(secured_node):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["no-such-command-here"]}, auth)
    assert answer.status_code == 201
    code, out, err = decoded(answer)
    assert (code, out) == (127, b"")
    assert b"no-such-command-here" in err


def test_no_shell_between_client_and_command(secured_node):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["echo", "$HOME", ";", "true"]}, auth)
    assert decoded(answer)[1] == b"$HOME ; true\n"


def test_fresh_folder_and_minimal_environment(secured_node):
    node, auth = secured_node
    script = 'ls -A | wc -l; touch left-behind; env | cut -d= -f1 | sort | tr "\\n" " "'
    first = decoded(post_task(node, {**HAPPY_TASK, "cmd": ["sh", "-c", script]}, auth))[1]
    second = decoded(post_task(node, {**HAPPY_TASK, "cmd": ["sh", "-c", script]}, auth))[1]
    entries, names = first.decode().splitlines()
    assert entries.strip() == "0"
    assert second.decode().splitlines()[0].strip() == "0"  # not the first one's folder
    assert set(names.split()) <= {"PATH", "HOME", "TMPDIR", "PWD", "SHLVL", "_"}


def test_timeout_kills_the_task(node_factory, task_scratch):
    node = node_factory("--task-timeout", "0.5")
    marker = task_scratch / "survived"
    script = f"echo started; sleep 5; touch {marker}"
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["sh", "-c", script]})
    assert answer.status_code == 201
    code, out, err = decoded(answer)
    assert code == 137
    assert out == b"started\n"
    assert b"time limit" in err
    assert not marker.exists()


def test_at_most_max_concurrent_tasks_run_at_once(node_factory):
    node = node_factory("--max-concurrent-tasks", "1")
    script = "date +%s.%N; sleep 0.3; date +%s.%N"
    task = {**HAPPY_TASK, "cmd": ["sh", "-c", script]}
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: post_task(node, task), range(3)))
    spans = sorted(tuple(map(float, decoded(a)[1].split())) for a in answers)
    assert all(a.status_code == 201 for a in answers)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end  # each task started after the one before it ended


@pytest.mark.parametrize("length", ["abc", "1,1", "5k"])
def test_malformed_content_length_is_400(secured_node, length):
    node, _ = secured_node
    host, port = node.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        head = f"POST /v1.1/tasks HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n\r\n"
        conn.sendall(head.encode())
        assert conn.recv(64).startswith(b"HTTP/1.1 400 ")


def test_command_with_a_nul_byte_cannot_start(secured_node):
    node, auth = secured_node
    answer = post_task(node, {**HAPPY_TASK, "cmd": ["echo", "a\u0000b"]}, auth)
    assert answer.status_code == 201
    assert decoded(answer)[0] == 127
