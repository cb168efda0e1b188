"""An ECS stand-in in nginx (Debian's package): the whole API with static answers, on 127.0.0.1.

Faster than any Python server, so a test or benchmark can load it until the load
generator, not the target, is the bottleneck. As in front of a real ECS node,
nginx checks HTTP Basic credentials (an .htpasswd) and, optionally, serves TLS.
The task answers follow the traffic model's `?comment=`: image-not-found is a
404, bad-request-body a 400, anything else a 201. Its access log (one line per
request, `access.log`, nginx's combined format with the request's traceparent
header last) shows what reached it. For tests of a slower target,
`delays` makes chosen endpoints answer later: nginx asks tests/delay_server.py,
which waits, before it sends its answer (`auth_request`).
"""

import base64
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

NGINX_CONF = """\
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    # nginx's combined format, and the request's W3C traceparent header last ("-": none)
    log_format traced '$remote_addr - $remote_user [$time_local] "$request" $status '
                      '$body_bytes_sent "$http_referer" "$http_user_agent" $http_traceparent';
    access_log {access_log};
    default_type application/json;
    keepalive_requests {keepalive_requests};
    {delay_upstream}
    server {{
        listen {host}:{port}{ssl};
        {tls}
        {auth}
        # `return` runs before auth_basic (rewrite phase, access phase), so each path
        # reaches its answer through try_files, which runs after the credentials' check.
        location = /v1.1/_noop {{ {delay_noop} try_files /none @noop; }}
        location = /v1.1/_version {{ {delay_version} try_files /none @version; }}
        location = /v1.1/_health {{ {delay_health} try_files /none @health; }}
        location = /v1.1/tasks {{ {delay_tasks} try_files /none @tasks; }}
        {delay_location}
        location @noop {{
            return 200 '{{"links": {{"self": {{"href": "$scheme://$host$uri"}}}}}}';
        }}
        location @version {{
            return 200 '{{"version": "1.1.0", "links": {{"self": {{"href": "$scheme://$host$uri"}}}}}}';
        }}
        location @health {{
            return 200 '{{"status": "green", "links": {{"self": {{"href": "$scheme://$host$uri"}}}}}}';
        }}
        location @tasks {{
            if ($arg_comment = image-not-found) {{
                return 404 '{{"status": 404, "message": "image not found"}}';
            }}
            if ($arg_comment = bad-request-body) {{
                return 400 '{{"status": 400, "message": "bad request body"}}';
            }}
            return 201 '{{"exitCode": 0, "stdout": "aGVsbG8gd29ybGQK", "stderr": ""}}';
        }}
    }}
}}
"""
# With delays: the subrequest that waits (tests/delay_server.py answers it after MS).
DELAY_UPSTREAM = "upstream delay {{ server 127.0.0.1:{port}; keepalive 64; }}"
DELAY_LOCATION = """\
location /delay/ {
            internal;
            proxy_pass http://delay;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }"""
DELAYED_ENDPOINTS = ("noop", "version", "health", "tasks")  # as the local node's --delay NAME


@dataclass(frozen=True)
class Nginx:
    url: str
    credentials: Path | None  # plaintext pairs it accepts; None: no authentication
    access_log: Path

    def requests_seen(self, settle_seconds: float = 0.2, bound_seconds: float = 5.0) -> int:
        """Lines in the access log: every request that reached nginx. nginx writes a
        request's line after its answer is sent, so a client may be done before the last
        line is there: count once the log has not grown for `settle_seconds` (bounded)."""
        deadline = time.monotonic() + bound_seconds
        seen = self._lines()
        while time.monotonic() < deadline:
            time.sleep(settle_seconds)
            now = self._lines()
            if now == seen:
                break
            seen = now
        return seen

    def _lines(self) -> int:
        return len(self.access_log.read_text().splitlines()) if self.access_log.exists() else 0


def write_sha_credentials(folder: Path, count: int = 2) -> Path:
    """Pairs in credentials.txt and their `{SHA}` hashes in .htpasswd.

    nginx checks the hash on every request (it keeps no cache, unlike the local
    node); with the creds command's apr1-MD5 (1,000 rounds of MD5) nginx itself
    became the bottleneck here at about 4,000 requests/s, using a whole core.
    `{SHA}` is one SHA-1, so the stand-in stays far faster than any load generator.
    """
    pairs = [(uuid.uuid4().hex, secrets.token_hex(16)) for _ in range(count)]
    hashed = [
        f"{key}:{{SHA}}{base64.b64encode(hashlib.sha1(secret.encode()).digest()).decode()}\n"
        for key, secret in pairs
    ]
    (folder / ".htpasswd").write_text("".join(hashed))
    credentials = folder / "credentials.txt"
    credentials.write_text("".join(f"{key}:{secret}\n" for key, secret in pairs))
    return credentials


def nginx_missing() -> str | None:
    """Why nginx cannot run here, or None."""
    return None if shutil.which("nginx") else "nginx is not installed: apt-get install -y nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx_ecs(
    folder: Path,
    auth: bool = True,
    tls: tuple[Path, Path] | None = None,
    access_log: bool = True,
    keepalive_requests: int = 1_000_000,
    delays: Mapping[str, float] | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
) -> Iterator[Nginx]:
    """nginx answering the ECS API on a loopback port for as long as the block runs.

    `tls` is (certificate chain, key) in PEM; with it nginx speaks only HTTPS.
    `keepalive_requests`: nginx closes a connection after this many requests.
    `delays` maps endpoints (DELAYED_ENDPOINTS) to the ms they wait before answering.
    `port`: the one to listen on (say, a port an earlier stand-in used, for the same
    endpoint URL); by default a free one.
    `host`: the address to listen on, e.g. the gateway of a bridge network a test made for
    its containers.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    credentials = None
    auth_conf = ""
    if auth:
        credentials = write_sha_credentials(folder)
        auth_conf = f'auth_basic "ECS"; auth_basic_user_file {folder}/.htpasswd;'
    tls_conf = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
    log = folder / "access.log"
    with delay_server(delays) as delay_port:
        conf = NGINX_CONF.format(
            # As root, its workers would run as nobody, who cannot read the test's folder.
            user="user root;" if os.geteuid() == 0 else "",
            dir=folder,
            host=host,
            port=port,
            ssl=" ssl" if tls else "",
            tls=tls_conf,
            auth=auth_conf,
            access_log=f"{log} traced" if access_log else "off",
            keepalive_requests=keepalive_requests,
            **delay_settings(delays or {}, delay_port),
        )
        (folder / "nginx.conf").write_text(conf)
        with nginx_process(folder, port, host):
            scheme = "https" if tls else "http"
            yield Nginx(f"{scheme}://{host}:{port}", credentials, log)


def delay_settings(delays: Mapping[str, float], port: int | None) -> dict[str, str]:
    """The configuration's delay placeholders: `auth_request /delay/MS;` where asked."""
    unknown = set(delays) - set(DELAYED_ENDPOINTS)
    if unknown:
        raise ValueError(f"no endpoint {sorted(unknown)}: delays are for {DELAYED_ENDPOINTS}")
    settings = {
        f"delay_{name}": f"auth_request /delay/{delays[name]:g};" if name in delays else ""
        for name in DELAYED_ENDPOINTS
    }
    settings["delay_upstream"] = DELAY_UPSTREAM.format(port=port) if delays else ""
    settings["delay_location"] = DELAY_LOCATION if delays else ""
    return settings


@contextlib.contextmanager
def delay_server(delays: Mapping[str, float] | None) -> Iterator[int | None]:
    """tests/delay_server.py on a free port while the block runs (when there are delays)."""
    if not delays:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.delay_server", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, Path("/nonexistent"), what="the delay server")
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def nginx_process(folder: Path, port: int, host: str = "127.0.0.1") -> Iterator[None]:
    """nginx with `folder`/nginx.conf, listening on `host`:`port`, stopped gracefully at the end."""
    process = subprocess.Popen(
        ["nginx", "-p", str(folder), "-e", str(folder / "error.log"), "-c", "nginx.conf"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, folder / "error.log", host=host)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_port(
    port: int,
    process: subprocess.Popen,
    log: Path,
    seconds: float = 10,
    what: str = "nginx",
    host: str = "127.0.0.1",
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.05)
    problem = log.read_text() if log.exists() else "no error log"
    raise RuntimeError(f"{what} did not start on port {port}: {problem}")


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """The ECS stand-in with Basic auth, plain HTTP."""
    if missing := nginx_missing():
        pytest.skip(missing)
    with nginx_ecs(tmp_path / "nginx") as server:
        yield server


@pytest.fixture
def quiet_nginx(tmp_path: Path) -> Iterator[Nginx]:
    """The stand-in without its access log: all its CPU goes to answering."""
    if missing := nginx_missing():
        pytest.skip(missing)
    with nginx_ecs(tmp_path / "nginx", access_log=False) as server:
        yield server
