"""Debian's Prometheus as a remote-write receiver on 127.0.0.1, for the live metrics' tests.

Started with `--web.enable-remote-write-receiver` and a storage folder of the
test's own, stopped (SIGTERM, then SIGKILL after a bounded wait) when the block
ends; queried over its HTTP API.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
