"""Every use of a Locust, gevent or geventhttpclient internal, in one place.

The pins are locust==2.47.0 (with its geventhttpclient and gevent). Each function
below either touches a private attribute or re-derives what an upstream function
does, names the upstream code it relies on, and has a test in
tests/test_locust_compat.py that fails when an upgrade changes it. Upgrading
Locust means: run those tests, fix what fails here, nowhere else.

Imports of Locust and gevent are inside the functions (and for types only under
TYPE_CHECKING), so the plan, which runs on the standard library, can use
`ramp_seconds`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession
    from locust.env import Environment
    from locust.runners import WorkerRunner

LOCUST_VERSION = "2.47.0"  # requirements.txt; tests/test_locust_compat.py checks both agree


def ramp_seconds(users: int, hatch_rate: float) -> float:
    """How long Locust takes to start `users`: it starts floor(rate) of them (at least one)
    at a time, and waits batch / rate seconds between batches.

    Upstream: locust/dispatch.py, UsersDispatcher.new_dispatch
    (`_user_count_per_dispatch_iteration = max(1, math.floor(spawn_rate))`,
    `_wait_between_dispatch = _user_count_per_dispatch_iteration / spawn_rate`).
    """
    batch = max(1, math.floor(hatch_rate))
    return (math.ceil(users / batch) - 1) * batch / hatch_rate


def _connection_pool(session: FastHttpSession, url: str) -> Any:
    """The geventhttpclient ConnectionPool of `session`'s requests to `url`.

    Upstream: geventhttpclient/client.py, HTTPClient.__init__ makes
    `self._connection_pool` (private); locust/contrib/fasthttp.py keeps one
    HTTPClient per host in `session.client.clientpool`, made on the first request.
    Making it now (get_client, as the first request would) lets a hook be set once.
    """
    from geventhttpclient.url import URL

    return session.client.clientpool.get_client(URL(url))._connection_pool


def on_new_connection(session: FastHttpSession, url: str, callback: Callable[[Any], None]) -> None:
    """Call `callback(sock)` for each new connection of `session` to `url`, at no cost per
    request.

    Upstream: geventhttpclient/connectionpool.py, ConnectionPool.after_connect(sock)
    runs once per connection the pool opens, after the TCP (and TLS) handshake.
    """
    _connection_pool(session, url).after_connect = callback


def resolve_at_most_every(session: FastHttpSession, url: str, seconds: float) -> None:
    """Look the host of `session`'s connections to `url` up at most once in `seconds`.

    Upstream: geventhttpclient/connectionpool.py, ConnectionPool._create_socket
    calls `self._resolve()` (private: gevent.socket.getaddrinfo) for every
    connection it opens, and gevent resolves on a thread of its pool: the answer
    waits for the GIL, up to the interpreter's switch interval (5 ms) when the event
    loop is busy. An arrival-rate level that falls behind sends a burst of arrivals,
    each on a new connection, and each paid that wait.
    """
    import time

    pool = _connection_pool(session, url)
    resolve = pool._resolve
    answer: list[tuple[float, Any]] = []  # (when it expires, getaddrinfo's answer)

    def resolve_cached() -> Any:
        now = time.monotonic()
        if not answer or answer[0][0] <= now:
            answer[:] = [(now + seconds, resolve())]
        return answer[0][1]

    pool._resolve = resolve_cached


def send_statistics_now(runner: WorkerRunner) -> None:
    """A worker's Locust statistics since its last report, sent to the master now.

    Upstream: locust/runners.py, WorkerRunner._send_stats (private) does exactly
    this: fire report_to_master to collect the report, send it as a "stats"
    message. It runs every 3 s and on Locust's own "quit" message; a level that
    ends on ecs_finish needs it once more before ecs_final.
    """
    report: dict[str, Any] = {}
    runner.environment.events.report_to_master.fire(client_id=runner.client_id, data=report)
    runner.send_message("stats", report)


def refresh_loop_clock() -> None:
    """Refresh gevent's cached loop clock.

    Upstream: locust/main.py arms --run-time (gevent.spawn_later) right after the
    init event, and gevent's libev/libuv loop (gevent.get_hub().loop) measures
    timers from its cached `now`, which still reads the time before Locust's
    imports: a 2 s cap fired after 0.2 s. `loop.update_now()` makes it count from now.
    """
    import gevent

    gevent.get_hub().loop.update_now()


def set_fixed_counts(environment: Environment, counts: Mapping[str, int]) -> None:
    """Give each user class exactly counts[name] users; a class with 0 (or not named) is taken
    out.

    Upstream: locust/dispatch.py, UsersDispatcher gives every class with a
    `fixed_count` that many users before weights apply; Locust reads
    `environment.user_classes` when it spawns, after init, so changing the list in
    place (the runner holds the same list) takes a class out of the level.
    """
    classes = environment.user_classes
    for cls in classes:
        cls.fixed_count = counts.get(cls.__name__, 0)
    classes[:] = [cls for cls in classes if cls.fixed_count]


def compile_report_template_once() -> None:
    """Compile Locust's HTML report template now, once, for every Locust forked later.

    Upstream: locust/html.py, `render_template_from` (what `get_html_report` calls as
    Locust exits with --html) makes a new jinja2 Environment on every call, and so parses
    and compiles webui/dist/report.html (0.9 MB) anew: 0.03-0.04 s of each level's end.
    The same function with one Environment per build path kept here (jinja2 keeps the
    compiled template in it, and compiles it again if the file changes) renders the same
    page; the levels server calls this before it forks the levels.
    """
    import locust.html
    from jinja2 import Environment, FileSystemLoader, Template

    environments: dict[str, Environment] = {}

    def template(file: str, build_path: str) -> Template:
        if build_path not in environments:
            environments[build_path] = Environment(loader=FileSystemLoader(build_path))
        return environments[build_path].get_template(file)

    def render_template_from(
        file: str, build_path: str = locust.html.DEFAULT_BUILD_PATH, **kwargs: Any
    ) -> str:
        return template(file, build_path).render(**kwargs)

    template("report.html", locust.html.DEFAULT_BUILD_PATH)
    locust.html.render_template_from = render_template_from
