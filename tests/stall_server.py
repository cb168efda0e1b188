"""An ECS stand-in answering in about a millisecond that freezes on a schedule and logs each stall.

    python -m tests.stall_server PORT --log STALLS.csv [--every 5] [--stall 1.0] [--first 2]

It answers the whole API as tests/nginx_support.py's stand-in does (`?comment=`
image-not-found a 404, bad-request-body a 400, other tasks a 201, the rest 200),
on keep-alive connections, without checking credentials. Every `--every`
seconds (the first after `--first`) it blocks its own event loop for `--stall`
seconds, as a GC pause or a lock convoy would: nothing is read or answered
meanwhile. Each stall is one line of the log, written as it ends:

    start,end          (UTC epoch seconds)

so a test or benchmark knows the truth: what a client arriving at a constant
rate waited (`truth`). asyncio, standard library only. The load tests and
bench/bench_stalls.py use it.
"""

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ANSWERS = {
    "image-not-found": (404, b'{"status": 404, "message": "image not found"}'),
    "bad-request-body": (400, b'{"status": 400, "message": "bad request body"}'),
}
TASK_DONE = (201, b'{"exitCode": 0, "stdout": "aGVsbG8gd29ybGQK", "stderr": ""}')
OTHER = (200, b'{"status": "green"}')
REASONS = {200: b"OK", 201: b"Created", 400: b"Bad Request", 404: b"Not Found"}


def answer_of(request_line: bytes) -> tuple[int, bytes]:
    method, target = request_line.split(b" ")[:2]
    if method == b"POST":
        for comment, answer in ANSWERS.items():
            if b"comment=" + comment.encode() in target:
                return answer
        return TASK_DONE
    return OTHER


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    before_answer: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Each request on a keep-alive connection, answered (after `before_answer`, if any)."""
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            if before_answer:
                await before_answer()
            status, body = answer_of(head.split(b"\r\n", 1)[0])
            writer.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (status, REASONS[status], len(body), body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def freeze_on_schedule(every: float, stall: float, first: float, log: Path) -> None:
    """Block the loop for `stall` s every `every` s: the whole server stops answering."""
    await asyncio.sleep(first)
    while True:
        started = time.time()
        time.sleep(stall)  # on purpose: a blocking call freezes the event loop
        with log.open("a") as out:
            out.write(f"{started:.6f},{time.time():.6f}\n")
        await asyncio.sleep(max(0.0, every - stall))


async def serve(port: int, every: float, stall: float, first: float, log: Path) -> None:
    log.write_text("")
    server = await asyncio.start_server(serve_connection, "127.0.0.1", port, backlog=4096)
    async with server:
        freezer = asyncio.create_task(freeze_on_schedule(every, stall, first, log))
        try:
            await server.serve_forever()
        finally:
            freezer.cancel()


def read_stalls(log: Path) -> list[tuple[float, float]]:
    """The stalls the server logged, as (start, end) in epoch seconds."""
    lines = log.read_text().split()
    return [(float(a), float(b)) for a, b in (line.split(",") for line in lines)]


def truth(
    stalls: Sequence[tuple[float, float]],
    start: float,
    end: float,
    service_ms: float,
    which: Sequence[float] = (50, 95, 99),
) -> dict[str, float]:
    """What a client arriving at a constant rate from `start` to `end` (epoch s) waited: its
    answer's `service_ms`, plus, when it arrived during a stall, the rest of the stall.

    Every 0.1 ms of the span is one arrival, so the percentiles are those of the
    stall schedule itself, whatever the rate a test ran at.
    """
    arrivals = np.arange(start, end, 0.0001)
    waited = np.full(arrivals.size, service_ms)
    for stall_start, stall_end in stalls:
        inside = (arrivals >= stall_start) & (arrivals < stall_end)
        waited[inside] += (stall_end - arrivals[inside]) * 1000
    values = np.percentile(waited, which)
    return {f"p{p:g}": float(v) for p, v in zip(which, values, strict=True)}


@dataclass(frozen=True)
class StallServer:
    url: str
    log: Path

    def stalls(self) -> list[tuple[float, float]]:
        return read_stalls(self.log)


@contextlib.contextmanager
def stall_server(
    folder: Path, port: int, every: float = 5.0, stall: float = 1.0, first: float = 2.0
) -> Iterator[StallServer]:
    """The stand-in on 127.0.0.1:`port` while the block runs; its stall log in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "stalls.csv"
    args = [str(port), "--log", str(log), "--every", str(every), "--stall", str(stall)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stall_server", *args, "--first", str(first)],
        cwd=Path(__file__).resolve().parent.parent,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not log.exists() or not listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stall server did not start on port {port}")
            time.sleep(0.05)
        yield StallServer(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.stall_server", description=__doc__)
    p.add_argument("port", type=int)
    p.add_argument("--log", type=Path, required=True, help="one start,end line per stall")
    p.add_argument("--every", type=float, default=5.0, help="seconds between stalls' starts")
    p.add_argument("--stall", type=float, default=1.0, help="seconds each stall lasts")
    p.add_argument("--first", type=float, default=2.0, help="seconds before the first stall")
    options = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options.port, options.every, options.stall, options.first, options.log))


if __name__ == "__main__":
    main()
