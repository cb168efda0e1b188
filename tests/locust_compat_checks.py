"""The checks of tests/test_locust_compat.py, run in a process of their own.

Locust patches the whole process with gevent when it is imported (as in Locust
itself); that must happen first, and must not happen in pytest's own process, so
these checks run here: `python -m tests.locust_compat_checks` runs each `check_*`
and prints {name: null (passed) or what failed} as JSON.
"""

import locust  # noqa: I001  # first: it patches the process with gevent

import http.server
import json
import sys
import traceback
import inspect
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gevent
import jinja2
import locust.html
from locust import User
from locust.contrib.fasthttp import FastHttpSession
from locust.dispatch import UsersDispatcher
from locust.env import Environment
from locust.runners import WorkerNode, WorkerRunner

from ecsload.locust_compat import (
    LOCUST_VERSION,
    compile_report_template_once,
    on_new_connection,
    ramp_seconds,
    refresh_loop_clock,
    resolve_at_most_every,
    set_fixed_counts,
)

ROOT = Path(__file__).resolve().parent.parent


class Quick(User):
    weight = 3


class Slow(User):
    weight = 1


class Rare(User):
    weight = 1


def check_pin() -> None:
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    assert f"locust=={LOCUST_VERSION}" in pins
    assert locust.__version__ == LOCUST_VERSION


def check_ramp() -> None:
    for users, rate in [(1, 1.0), (10, 5.0), (7, 2.5), (50, 0.5), (3, 100.0), (20, 3.0)]:
        dispatcher = UsersDispatcher([WorkerNode("w")], [Quick])
        dispatcher.new_dispatch(users, rate)
        batch = dispatcher._user_count_per_dispatch_iteration
        wait = dispatcher._wait_between_dispatch
        expected = (math.ceil(users / batch) - 1) * wait
        assert math.isclose(ramp_seconds(users, rate), expected), (users, rate, expected)


def check_fixed_counts() -> None:
    classes: list[type[User]] = [Quick, Slow, Rare]
    environment = Environment(user_classes=classes)
    try:
        set_fixed_counts(environment, {"Quick": 2, "Slow": 0, "Rare": 1})
        assert environment.user_classes is classes  # changed in place: the runner's list
        assert classes == [Quick, Rare]
        dispatcher = UsersDispatcher([WorkerNode("w")], environment.user_classes)
        dispatcher.new_dispatch(3, 100)
        assert next(dispatcher) == {"w": {"Quick": 2, "Rare": 1}}
    finally:
        for cls in (Quick, Slow, Rare):
            cls.fixed_count = 0


def check_loop_clock() -> None:
    loop = gevent.get_hub().loop
    loop.update_now()
    before = loop.now()
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:  # busy: the loop does not run
        pass
    assert loop.now() == before
    refresh_loop_clock()
    assert loop.now() >= before + 0.04


def check_send_stats() -> None:
    source = inspect.getsource(WorkerRunner._send_stats)
    assert "report_to_master.fire(client_id=self.client_id, data=data)" in source
    assert 'Message("stats", data, self.client_id)' in source


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path == "/close":  # the server closes this connection after the answer
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def check_connection_hook() -> None:
    with server() as url:
        connections(url)


def connections(server: str) -> None:
    environment = Environment()
    session = FastHttpSession(server, environment.events.request, user=None)
    opened: list[object] = []
    on_new_connection(session, server, opened.append)
    for _ in range(3):
        assert session.get("/").status_code == 200
    assert len(opened) == 1  # one keep-alive connection, reused
    assert session.get("/close").status_code == 200
    assert session.get("/").status_code == 200
    assert len(opened) == 2  # the closed one was replaced


def check_resolve_cache() -> None:
    with server() as url:
        looked_up(url)


def looked_up(server: str) -> None:
    """Each new connection looks the host up (gevent.socket.getaddrinfo, counted here);
    with the cache, once per period however many connections open."""
    import gevent.socket

    lookups: list[object] = []
    original = gevent.socket.getaddrinfo

    def counted(*args: Any, **kwargs: Any) -> Any:
        lookups.append(args)
        return original(*args, **kwargs)

    gevent.socket.getaddrinfo = counted
    try:
        environment = Environment()
        for cached, expected in ((False, 3), (True, 1)):
            lookups.clear()
            session = FastHttpSession(server, environment.events.request, user=None)
            if cached:
                resolve_at_most_every(session, server, 60)
            for _ in range(3):
                assert session.get("/close").status_code == 200  # a new connection each
            assert len(lookups) == expected, (cached, lookups)
    finally:
        gevent.socket.getaddrinfo = original


def check_report_template() -> None:
    environment = Environment(user_classes=[Quick, Slow], host="http://127.0.0.1:9")
    runner = environment.create_local_runner()
    try:
        environment.stats.log_request("GET", "/quick", 12, 100)
        environment.stats.log_error("GET", "/quick", "refused")
        page = locust.html.get_html_report(environment, show_download_link=False)
        assert "/quick" in page and "refused" in page
        compile_report_template_once()
        parse = jinja2.Environment._parse
        parsed: list[str | None] = []  # the templates parsed (and so compiled), by name

        def counted(
            self: jinja2.Environment, source: str, name: str | None, filename: str | None
        ) -> Any:
            parsed.append(name)
            return parse(self, source, name, filename)

        jinja2.Environment._parse = counted  # type: ignore[method-assign]
        try:
            for _ in range(2):
                assert locust.html.get_html_report(environment, show_download_link=False) == page
        finally:
            jinja2.Environment._parse = parse  # type: ignore[method-assign]
        assert parsed == [], parsed  # compiled once, by compile_report_template_once
    finally:
        runner.quit()


def main() -> None:
    checks: dict[str, Callable[[], None]] = {
        name.removeprefix("check_"): check
        for name, check in globals().items()
        if name.startswith("check_")
    }
    results: dict[str, str | None] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = None
        except Exception:
            results[name] = traceback.format_exc()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
