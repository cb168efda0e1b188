"""An ECS stand-in of known capacity: at most K requests in service at once, D ms each.

    python -m tests.limit_server PORT [--at-once 4] [--ms 10]

It answers the whole API as tests/stall_server.py does (same answers, keep-alive,
no credentials checked), but each request holds one of K slots for exactly D ms of
the clock, in order of arrival: it serves at most K / D requests per second (4 x 10
ms: 400/s) however late its event loop wakes on a busy machine, and beyond that the
requests queue for a slot, so their latency grows without bound. The capacity search's tests and
bench/bench_capacity.py search for its edge.
"""

import argparse
import asyncio
import contextlib
import functools
import heapq
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.stall_server import listening, serve_connection


async def serve(port: int, at_once: int, ms: float) -> None:
    free_at = [0.0] * at_once  # when each slot is next free (a heap), on the loop's clock

    async def in_service() -> None:
        """The earliest free slot serves the request, from its arrival or once free, for
        exactly `ms`: a late wake-up of this loop delays the answer, not the next request."""
        loop = asyncio.get_running_loop()
        done = max(loop.time(), heapq.heappop(free_at)) + ms / 1000
        heapq.heappush(free_at, done)
        await asyncio.sleep(done - loop.time())

    server = await asyncio.start_server(
        functools.partial(serve_connection, before_answer=in_service),
        "127.0.0.1",
        port,
        backlog=4096,
    )
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def limit_server(port: int, at_once: int = 4, ms: float = 10.0) -> Iterator[str]:
    """The stand-in on 127.0.0.1:`port` while the block runs; yields its URL."""
    options = ["--at-once", str(at_once), "--ms", str(ms)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.limit_server", str(port), *options],
        cwd=Path(__file__).resolve().parent.parent,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the limit server did not start on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.limit_server", description=__doc__)
    p.add_argument("port", type=int)
    p.add_argument("--at-once", type=int, default=4, help="requests in service at once")
    p.add_argument("--ms", type=float, default=10.0, help="milliseconds each request takes")
    options = p.parse_args(argv)
    with contextlib.suppress(PermissionError):  # root only: a busy machine's other work
        os.nice(-10)  # then adds less to the stand-in's D ms (the tests' truth)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options.port, options.at_once, options.ms))


if __name__ == "__main__":
    main()
