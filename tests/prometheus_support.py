"""Receivers of the live metrics on 127.0.0.1, for their tests.

Debian's Prometheus, started with `--web.enable-remote-write-receiver` and a
storage folder of the test's own, stopped (SIGTERM, then SIGKILL after a bounded
wait) when the block ends, queried over its HTTP API; and a plain HTTP server
that keeps every body POSTed to it (an OTLP collector's part, read with the
OpenTelemetry protocol's own classes: Prometheus 2.42 takes no OTLP).
"""

import contextlib
import http.server
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import requests

from tests.nginx_support import free_port, wait_for_port


@dataclass(frozen=True)
class Prometheus:
    url: str

    @property
    def write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def query(self, expression: str) -> list[dict[str, Any]]:
        """An instant query's result (a vector: [{"metric": {...}, "value": [t, "v"]}])."""
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=10)
        answer.raise_for_status()
        return answer.json()["data"]["result"]

    def names(self) -> set[str]:
        """Every metric name it holds."""
        answer = requests.get(f"{self.url}/api/v1/label/__name__/values", timeout=10)
        answer.raise_for_status()
        return set(answer.json()["data"])


def prometheus_missing() -> str | None:
    return (
        None
        if shutil.which("prometheus")
        else "prometheus is not installed: apt-get install -y prometheus"
    )


@contextlib.contextmanager
def prometheus_receiver(folder: Path) -> Iterator[Prometheus]:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-remote-write-receiver",
            ],
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log, seconds=30, what="prometheus")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # its API answers once the TSDB is open
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield Prometheus(url)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    delay = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        type(self).bodies.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def http_receiver() -> Iterator[tuple[str, type[Receiver]]]:
    """`http://127.0.0.1:PORT` and its handler class, whose `bodies` are (headers, body) of
    each POST in order; `delay` makes it answer later."""
    handler = type("Handler", (Receiver,), {"bodies": [], "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def otlp_points(body: bytes) -> dict[str, list]:
    """An OTLP/HTTP body's data points by metric name (the collector's own protobuf)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    points: dict[str, list] = {}
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                points.setdefault(metric.name, []).extend(getattr(metric, kind).data_points)
    return points
