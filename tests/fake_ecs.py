"""A tiny stand-in for an ECS node, for the harness's own tests and benchmarks.

It answers ecs-api.md's statuses (200, 201, 400, 401, 404) from a Tornado app
on 127.0.0.1, checking HTTP Basic credentials against plaintext pairs, and runs
no task: a harness test needs the protocol, not containers (the end-to-end tests
use the real node). Run it as a script; it writes its URL to --ready-file.
"""

import argparse
import asyncio
import base64
import json
from pathlib import Path

import tornado.httpserver
import tornado.netutil
import tornado.web

from ecsload.api import API_ROOT
from ecsload.credentials import load_credentials

HAPPY_IMAGE = "ubuntu:14.04"
HELLO = base64.b64encode(b"hello world\n").decode()


class Handler(tornado.web.RequestHandler):
    def initialize(self, authorizations: set[str] | None) -> None:
        self.authorizations = authorizations

    def prepare(self) -> None:
        if self.authorizations is not None and (
            self.request.headers.get("Authorization") not in self.authorizations
        ):
            self.set_header("WWW-Authenticate", 'Basic realm="ecs"')
            self.answer(401, {"error": "unauthorized"})

    def answer(self, status: int, body: dict) -> None:
        self.set_status(status)
        self.finish(body)


class Cheap(Handler):
    def get(self) -> None:
        if self.get_query_argument("quick", "true") not in ("true", "false"):
            self.answer(400, {"error": "quick must be true or false"})
        else:
            self.answer(200, {"status": "green", "links": {"self": {"href": self.request.uri}}})


class Tasks(Handler):
    """Also checks the harness's `comment` (its template's name): a wrong one is a 400."""

    COMMENTS = ("tasks-happy-path", "tasks-image-not-found", "tasks-bad-request-body")

    def post(self) -> None:
        try:
            body = json.loads(self.request.body)
        except ValueError:
            body = None
        if self.get_query_argument("comment", "") not in self.COMMENTS:
            self.answer(400, {"error": "unknown comment"})
        elif not isinstance(body, dict) or "docker_image" not in body or "cmd" not in body:
            self.answer(400, {"error": "bad request body"})
        elif body["docker_image"] != HAPPY_IMAGE:
            self.answer(404, {"error": "image not found"})
        else:
            self.answer(201, {"exitCode": 0, "stdout": HELLO, "stderr": ""})


def make_app(credentials: str | None) -> tornado.web.Application:
    authorizations = (
        {c.authorization for c in load_credentials(credentials)} if credentials else None
    )
    args = {"authorizations": authorizations}
    root = API_ROOT.replace(".", r"\.")
    return tornado.web.Application(
        [
            (rf"{root}/(?:_noop|_version|_health)/?", Cheap, args),
            (rf"{root}/tasks/?", Tasks, args),
        ]
    )


async def serve(credentials: str | None, ready_file: Path) -> None:
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(make_app(credentials))
    server.add_sockets([sock])
    port = sock.getsockname()[1]
    partial = ready_file.with_suffix(".tmp")
    partial.write_text(f"http://127.0.0.1:{port}\n")
    partial.rename(ready_file)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--credentials", help="plaintext key:secret pairs (none: no auth)")
    options = parser.parse_args()
    asyncio.run(serve(options.credentials, options.ready_file))
