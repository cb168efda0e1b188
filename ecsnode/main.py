"""Start the node: settings, logging, runner, safety checks, listen, announce, stop gracefully.

Exit codes: 0 after a graceful stop (SIGTERM/SIGINT); 2 for bad settings, an address it must
refuse, or a port it cannot listen on (one line on stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

import tornado.httpserver
import tornado.netutil

from ecsnode import __version__
from ecsnode.app import HEADERS_READ_CAP, Node, make_app
from ecsnode.auth import HtpasswdAuth
from ecsnode.limits import Limits
from ecsnode.runners import RunnerError, make_runner
from ecsnode.settings import EXIT_BAD_SETTINGS, Settings, SettingsError, load_settings

log = logging.getLogger("ecsnode")


def configure_logging(settings: Settings) -> None:
    """Log lines go to --log-file (appended) or stderr."""
    if settings.log_file:
        try:
            handler: logging.Handler = logging.FileHandler(settings.log_file, encoding="utf-8")
        except OSError as error:
            raise SettingsError(
                f"cannot write --log-file {settings.log_file}: {error.strerror}"
            ) from None
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())


def load_auth(settings: Settings) -> HtpasswdAuth | None:
    if not settings.htpasswd:
        return None
    try:
        return HtpasswdAuth(settings.htpasswd)
    except (OSError, ValueError) as error:
        raise SettingsError(f"cannot use the htpasswd file {settings.htpasswd}: {error}") from None


def check_exposure(settings: Settings, auth: HtpasswdAuth | None, runner: str | None) -> None:
    """Refuse to serve other hosts without credentials, or host commands without consent."""
    if settings.loopback:
        return
    if auth is None:
        raise SettingsError(
            f"refusing to listen on {settings.address} without credentials: give --htpasswd "
            "FILE (or --deployment with api_credentials), or listen on 127.0.0.1"
        )
    if runner == "process" and not settings.allow_remote_tasks:
        raise SettingsError(
            f"refusing to listen on {settings.address} with the process runner, which runs "
            "clients' commands on this host: add --allow-remote-tasks, use --runner docker, "
            "or listen on 127.0.0.1"
        )


class PendingFile:
    """A file a waiting script reads once the node listens (--ready-file, --status-file).

    Its temporary twin is created at once, so a path that cannot be written stops the node
    before it listens; `publish` writes it and renames it into place, so a reader never sees
    half a file; `discard` removes the twin when the node stops before publishing.
    """

    def __init__(self, path: str, flag: str) -> None:
        self.path, self.flag = path, flag
        self._temporary = f"{path}.tmp{os.getpid()}"
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "it is a folder")
            self._stream: TextIO = open(self._temporary, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise SettingsError(f"cannot write {flag} {path}: {error.strerror}") from None

    def publish(self, text: str) -> None:
        try:
            with self._stream:
                self._stream.write(text)
            os.replace(self._temporary, self.path)
        except OSError as error:
            self.discard()
            raise SettingsError(f"cannot write {self.flag} {self.path}: {error.strerror}") from None

    def discard(self) -> None:
        self._stream.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._temporary)

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()


def announce(url: str, runner: str, ready: PendingFile | None, status: PendingFile | None) -> None:
    """Tell a waiting script the node is ready: a line on stdout, the URL in the ready file,
    and what the harness needs to know in the status file (JSON)."""
    if ready is not None:
        ready.publish(url + "\n")
    if status is not None:
        document = {"url": url, "runner": runner, "pid": os.getpid(), "version": __version__}
        status.publish(json.dumps(document) + "\n")
    print(f"ECS listening on {url}", flush=True)


def listen(settings: Settings) -> tuple[list[socket.socket], str]:
    try:
        sockets = tornado.netutil.bind_sockets(settings.port, settings.address)
    except OSError as error:
        raise SettingsError(
            f"cannot listen on {settings.address}:{settings.port}: {error.strerror or error} "
            "(use --port 0 for a free port)"
        ) from None
    port = sockets[0].getsockname()[1]
    host = f"[{settings.address}]" if ":" in settings.address else settings.address
    return sockets, f"http://{host}:{port}"


async def serve(settings: Settings) -> int:
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)

    with contextlib.ExitStack() as stack:
        ready, status = (
            stack.enter_context(PendingFile(path, flag)) if path else None
            for path, flag in (
                (settings.ready_file, "--ready-file"),
                (settings.status_file, "--status-file"),
            )
        )
        return await run(settings, stop, ready, status)


async def run(
    settings: Settings, stop: asyncio.Event, ready: PendingFile | None, status: PendingFile | None
) -> int:
    """Check, listen, announce, serve until `stop`, then stop gracefully."""
    auth = load_auth(settings)
    check_exposure(settings, auth, runner=None)  # before a runner probes anything
    try:
        runner = make_runner(settings)
    except RunnerError as error:
        raise SettingsError(f"cannot use --runner {settings.runner}: {error}") from None
    server = None
    try:
        check_exposure(settings, auth, runner.name)
        sockets, url = listen(settings)
        limits = Limits(settings.per_ip, settings.per_key)
        slots = asyncio.Semaphore(settings.max_concurrent_tasks)
        delays = dict(settings.delays)
        node = Node(runner, auth, limits if limits.enabled else None, slots, delays)
        server = tornado.httpserver.HTTPServer(
            make_app(node), max_body_size=2**40, max_header_size=HEADERS_READ_CAP
        )
        server.add_sockets(sockets)
        log.info(
            "ECS node %s listening on %s runner=%s auth=%s limits per_ip=%s per_key=%s",
            __version__, url, runner.name, settings.htpasswd or "off",
            settings.per_ip or "none", settings.per_key or "none",
        )  # fmt: skip
        runner.log_setup()
        if auth is None:
            log.warning("authentication is off: no --htpasswd or api_credentials given")
        if delays:
            added = ", ".join(f"{name} +{seconds * 1000:g} ms" for name, seconds in delays.items())
            log.warning("test-only latency (--delay): %s", added)
        announce(url, runner.name, ready, status)
        await stop.wait()
        await drain(server, node, settings.stop_grace)
    finally:
        await runner.close()  # kills the tasks still running
        if server is not None:
            await close_connections(server, node)
    return 0


async def drain(server: tornado.httpserver.HTTPServer, node: Node, grace: float) -> None:
    """Stop accepting connections and give the requests in flight `grace` seconds to finish."""
    server.stop()
    log.info("stopping: %d requests in flight, up to %g s to finish", node.in_flight, grace)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while node.in_flight and loop.time() < deadline:
        await asyncio.sleep(0.02)


async def close_connections(server: tornado.httpserver.HTTPServer, node: Node) -> None:
    try:
        async with asyncio.timeout(1.0):
            await server.close_all_connections()
    except TimeoutError:
        log.warning("closed with %d requests unfinished", node.in_flight)
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
        configure_logging(settings)
        return asyncio.run(serve(settings))
    except SettingsError as error:
        print(f"ecservice.py: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
