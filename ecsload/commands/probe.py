"""A probe the load generator cannot skew: paced `GET /v1.1/_noop` from a process of its own.

    python -m ecsload.commands.probe URL --out probe.csv [--credentials FILE] [--rate R]
                                     [--max-seconds S] [--ca-bundle FILE | --insecure]

Locust's users share one process and one event loop: when the generator is busy,
a request waits in it before it is sent and after its answer has arrived, and
that wait is part of the users' response times. The probe sends one request at
a time, at a low fixed rate, on one keep-alive connection, from this separate
OS process, so its figures are the service's own latency. It verifies an https
server as the load's users do (ecsload.tls). run_load_test.sh runs
it beside every level; it records one line per request until SIGTERM or
--max-seconds, whichever comes first:

    timestamp_ms,status,response_time_ms     (status 0: no answer)

Its requests are due in slots 1/rate s apart, and each is timed from its slot
(timestamp_ms is the slot): a slot that falls while the previous request
waits (a stalled service) is sent as soon as that one is answered, never
skipped, so a 1 s stall at 2/s shows as two slow answers, ~1000 and ~500 ms,
as two users arriving on schedule would have seen it.

Exit codes: 0 stopped; 2 usage, or the credentials file or the CA bundle cannot be used.
"""

import contextlib
import http.client
import ssl
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from ecsload.api import NOOP_PATH
from ecsload.cli import OneLineParser, Stopped, run, stop_on_sigterm
from ecsload.credentials import load_credentials
from ecsload.sample_columns import PROBE_HEADER
from ecsload.tls import add_trust_options, is_https, trusted_context
from ecsload.values import option_type, parse_endpoint, positive_number

PROG = "python -m ecsload.commands.probe"
REQUEST_TIMEOUT = 10.0  # seconds: a probe that waits longer records status 0


def probe(
    connection: http.client.HTTPConnection,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    out: IO[str],
) -> None:
    """Send a request in every slot, 1/rate s apart, each timed from its slot; a slot that
    passed while the last request waited is sent at once (never skipped)."""
    interval = 1.0 / rate
    start, wall_start = time.monotonic(), time.time()
    slot = 0
    while (due := slot * interval) < seconds:
        time.sleep(max(0.0, start + due - time.monotonic()))
        status = get_status(connection, headers)
        took = (time.monotonic() - start - due) * 1000
        out.write(f"{int((wall_start + due) * 1000)},{status},{took:.3f}\n")
        out.flush()
        slot += 1


def open_connection(url: str, context: ssl.SSLContext | None) -> http.client.HTTPConnection:
    """One keep-alive connection, over TLS when given a context (http.client reopens it by
    itself after a close).

    The standard library's client, not urllib3 or requests: measured here, paced
    requests cost 0.3 ms less with it (urllib3 checks the connection before each
    reuse), and the probe's figures are meant to be the service's, not its own.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""  # the plan checked the endpoint: it has one
    if context is not None:
        return http.client.HTTPSConnection(
            host, parts.port, timeout=REQUEST_TIMEOUT, context=context
        )
    return http.client.HTTPConnection(host, parts.port, timeout=REQUEST_TIMEOUT)


def get_status(connection: http.client.HTTPConnection, headers: dict[str, str]) -> int:
    """GET _noop's status, 0 for no answer. A keep-alive connection that the server closed
    while idle is retried once on a new one, as HTTP clients do for a GET."""
    for retry in (False, True):
        reused = connection.sock is not None
        try:
            connection.request("GET", NOOP_PATH, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            connection.close()
            if retry or not reused:
                return 0
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("endpoint", metavar="URL", type=option_type(parse_endpoint))
    p.add_argument("--out", metavar="FILE", type=Path, required=True, help="the probe's CSV")
    p.add_argument("--credentials", metavar="FILE", help="plaintext key:secret pairs (the first)")
    p.add_argument(
        "--rate",
        metavar="R",
        type=option_type(positive_number),
        default=2.0,
        help="requests per second (default: 2)",
    )
    p.add_argument(
        "--max-seconds",
        metavar="S",
        type=option_type(positive_number),
        default=3600.0,
        help="stop after this long even without SIGTERM (default: 3600)",
    )
    add_trust_options(p)
    options = p.parse_args(argv)
    context = trusted_context(options) if is_https(options.endpoint) else None
    connection = open_connection(options.endpoint, context)
    headers = (
        {"Authorization": load_credentials(options.credentials)[0].authorization}
        if options.credentials
        else {}
    )
    stop_on_sigterm()
    with options.out.open("w", encoding="utf-8") as out:
        out.write(PROBE_HEADER)
        with contextlib.suppress(Stopped, KeyboardInterrupt):
            probe(connection, headers, options.rate, options.max_seconds, out)
    return 0


if __name__ == "__main__":
    run(main, PROG)
