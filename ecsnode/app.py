"""The ECS API (docs/ecs-api.md) as Tornado handlers, in the order nginx and ECS apply things.

Every request goes: header size (431) → body size (413) → rate and connection limits (503) →
credentials (401) → the endpoint. Bodies are streamed so an oversized one is refused from its
Content-Length alone, and a refused body is read and dropped before the answer, as nginx does,
so the client's keep-alive connection stays usable.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

import tornado.httputil
import tornado.web

from ecsnode import __version__
from ecsnode.auth import HtpasswdAuth, claimed_key
from ecsnode.limits import Limits
from ecsnode.runners import ImageNotFound, RunnerError, TaskRunner
from ecsnode.schema import task_body_problem

MAX_BODY = 5 * 1024
"""nginx's client_max_body_size in an ECS deployment: 5 KiB."""

MAX_HEADERS = 64 * 1024
"""Bytes of request line and headers served; more is answered 431."""

HEADERS_READ_CAP = 1024 * 1024
"""Bytes of request line and headers Tornado reads at all: past that it closes the connection
without an answer (it gives no hook to answer first), so the 431 covers up to here."""

access_log = logging.getLogger("ecsnode.access")


@dataclass
class Node:
    """What the handlers share: the runner, auth, limits, the task cap, requests in flight."""

    runner: TaskRunner
    auth: HtpasswdAuth | None
    limits: Limits | None
    task_slots: asyncio.Semaphore
    delays: dict[str, float] = field(default_factory=dict)
    """Seconds added to each answer of an endpoint (--delay, for tests), by its name."""
    in_flight: int = 0


@tornado.web.stream_request_body
class ApiHandler(tornado.web.RequestHandler):
    """Limits, auth, JSON errors and request accounting, shared by every endpoint."""

    endpoint = ""
    """The endpoint's name for --delay (settings.ENDPOINTS); "" for none."""

    def initialize(self, node: Node) -> None:
        self.node = node
        self.key: str | None = None
        self._body = bytearray()
        self._too_large = False
        self._discarding = False
        self._limited: tuple[str, str | None] | None = None
        self._done = False
        self._refusal: tuple[int, str] | None = None
        node.in_flight += 1

    def prepare(self) -> Awaitable[None] | None:
        """The fast path stays synchronous; only an unremembered credential awaits a hash."""
        if header_bytes(self.request) > MAX_HEADERS:
            self.refuse(431, f"the request line and headers are over {MAX_HEADERS} bytes")
            return None
        length = self.request.headers.get("Content-Length")
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                # The body's end is unknown: answering closes the connection, as nginx does.
                self.fail(400, f"Content-Length must be a whole number, not {length!r}")
                return None
            if int(length) > MAX_BODY:
                self.refuse(413, f"the request body is over {MAX_BODY} bytes")
                return None
        node = self.node
        header = self.request.headers.get("Authorization")
        self.key = claimed_key(header) if node.auth is None else node.auth.remembered(header)
        if node.limits is not None:
            client = (self.request.remote_ip or "", self.key or claimed_key(header))
            if not node.limits.admit(*client):
                self.refuse(503, "over this node's rate or connection limit; retry later")
                return None
            self._limited = client
        if node.auth is not None and self.key is None:
            return self._authenticate(header)
        return self._delayed()

    async def _authenticate(self, header: str | None) -> None:
        assert self.node.auth is not None
        self.key = await self.node.auth.verify(header)
        if self.key is None:
            self.set_header("WWW-Authenticate", 'Basic realm="ECS"')
            self.refuse(401, "missing or wrong credentials: send HTTP Basic key:secret")
            return
        delayed = self._delayed()
        if delayed is not None:
            await delayed

    def _delayed(self) -> Awaitable[None] | None:
        """The endpoint's --delay, slept on the event loop (other requests go on meanwhile)."""
        seconds = self.node.delays.get(self.endpoint)
        return asyncio.sleep(seconds) if seconds else None

    def data_received(self, chunk: bytes) -> None:
        if self._discarding:
            return
        if len(self._body) + len(chunk) > MAX_BODY:
            self._too_large = self._discarding = True
            self._body.clear()
        else:
            self._body += chunk

    def refuse(self, status: int, message: str) -> None:
        """Refuse the request once Tornado has read all of it, its body read and dropped.

        Finishing earlier (in `prepare`) makes Tornado close the connection, body or not, so
        the client's next request on that keep-alive connection would fail; nginx keeps it.
        So the refusal takes the place of the verb's method, which Tornado calls last.
        """
        self._discarding = True
        self._refusal = (status, message)
        setattr(self, self.request.method.lower(), self._answer_refusal)

    def _answer_refusal(self, *_: object) -> None:
        assert self._refusal is not None
        self.fail(*self._refusal)

    def fail(self, status: int, message: str) -> None:
        """Answer with a JSON error body: {"status": N, "message": "..."}."""
        self.set_status(status)
        self.finish({"status": status, "message": message})

    def write_error(self, status_code: int, **kwargs: object) -> None:
        """Errors Tornado raises itself (405, 500) get the same JSON shape as ours."""
        message = self._reason
        if status_code == 405:
            message = f"{self.request.method} is not allowed on {self.request.path}"
        self.finish({"status": status_code, "message": message})

    def links(self) -> dict[str, object]:
        request = self.request
        return {"self": {"href": f"{request.protocol}://{request.host}{request.path}"}}

    def on_finish(self) -> None:
        self._release()

    def on_connection_close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._done:
            return
        self._done = True
        self.node.in_flight -= 1
        if self._limited is not None and self.node.limits is not None:
            self.node.limits.release(*self._limited)


class NoopHandler(ApiHandler):
    endpoint = "noop"

    def get(self) -> None:
        self.write({"links": self.links()})


class VersionHandler(ApiHandler):
    endpoint = "version"

    def get(self) -> None:
        self.write({"version": __version__, "links": self.links()})


class HealthHandler(ApiHandler):
    endpoint = "health"

    async def get(self) -> None:
        quick = self.get_query_argument("quick", "true").lower()
        if quick not in ("true", "false"):
            self.fail(400, f"quick must be true or false, not {quick!r}")
            return
        if quick == "true":
            self.write({"status": "green", "links": self.links()})
            return
        name, component = await self.node.runner.health()
        status = "green" if component.get("status") == "green" else "red"
        self.set_status(200 if status == "green" else 503)
        self.write({"status": status, "details": {name: component}, "links": self.links()})


class TasksHandler(ApiHandler):
    endpoint = "tasks"

    async def post(self) -> None:
        if self._too_large:
            self.fail(413, f"the request body is over {MAX_BODY} bytes")
            return
        try:
            task = json.loads(self._body)
            problem = task_body_problem(task)
        except ValueError as error:
            self.fail(400, f"the body is not valid JSON: {error}")
            return
        except RecursionError:
            self.fail(400, "the body nests arrays or objects too deeply to be a task")
            return
        if problem is not None:
            self.fail(400, problem)
            return
        try:
            async with self.node.task_slots:
                result = await self.node.runner.run(
                    task["docker_image"], task["cmd"], task.get("creds")
                )
        except ImageNotFound as error:
            self.fail(404, str(error))
            return
        except RunnerError as error:
            self.fail(500, f"the task runner failed: {error}")
            return
        self.set_status(201)
        self.write(
            {
                "exitCode": result.exit_code,
                "stdout": base64.b64encode(result.stdout).decode(),
                "stderr": base64.b64encode(result.stderr).decode(),
            }
        )


class NotFoundHandler(ApiHandler):
    """Unknown paths: 404 for any method, after limits and auth as for any request."""

    async def prepare(self) -> None:
        waiting = super().prepare()
        if waiting is not None:
            await waiting
        if not (self._finished or self._refusal):
            self.refuse(404, f"no such resource: {self.request.path} (the API is under /v1.1)")


def header_bytes(request: tornado.httputil.HTTPServerRequest) -> int:
    """The size of the request line and headers as sent, give or take optional whitespace."""
    size = len(request.method or "") + len(request.uri or "") + len(request.version) + 4
    for name, value in request.headers.get_all():
        size += len(name) + len(value) + 4
    return size


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One access line per request: method, path, status, milliseconds, key."""
    request = handler.request
    access_log.info(
        "%s %s %d %.1fms key=%s",
        request.method,
        request.path,
        handler.get_status(),
        request.request_time() * 1000.0,
        getattr(handler, "key", None) or "-",
    )


def make_app(node: Node) -> tornado.web.Application:
    args = {"node": node}
    return tornado.web.Application(
        [
            (r"/v1\.1/_noop/?", NoopHandler, args),
            (r"/v1\.1/_version/?", VersionHandler, args),
            (r"/v1\.1/_health/?", HealthHandler, args),
            (r"/v1\.1/tasks/?", TasksHandler, args),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=args,
        log_function=log_request,
    )
