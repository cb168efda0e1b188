"""Have a level server run a command on this process's stdin, stdout and stderr.

    python -S -m ecsload.commands.level_client SOCKET level KEY INDEX OF REPEAT ENDPOINT
        CREDENTIALS [SECONDS]
    python -S -m ecsload.commands.level_client SOCKET capacity next
    python -S -m ecsload.commands.level_client SOCKET summarize|verdict [--short]
    python -S -m ecsload.commands.level_client SOCKET history
    python -S -m ecsload.commands.level_client SOCKET report -q [--graphs FILE.pdf]

What run_load_test.sh runs for each level and a capacity search's each next step (the
`levels` server's commands), and after the last level for the run's summary, verdict,
history entry and report (the `run-end` server's): the server (commands/level_server.py,
its ROLES) runs `ecsload.commands.level` (or `capacity`, `summarize run`, `verdict`,
`history append`, `report`) with these arguments and its run folder in a forked child,
and this process exits with its exit code.

It is a process of its own so that bash can `wait` for it (its traps run meanwhile:
Ctrl-C, the local node's exit). Standard library only, so `-S` starts it in a few
milliseconds.

If the server is not listening yet, it is asked again for up to CONNECT_SECONDS. If it
ends without answering, one line says so and the exit code is EXIT_ERROR.
"""

import errno
import os
import socket
import sys
import time
from collections.abc import Sequence

from ecsload.exits import EXIT_ERROR, EXIT_USAGE

CONNECT_SECONDS = 5.0  # the server listens before its imports, a few ms after its start
RETRY_SECONDS = 0.02


def connect(path: str) -> socket.socket:
    """A connection to the server, waiting for it to listen (it starts beside the node)."""
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.connect(path)
            return sock
        except OSError as error:
            sock.close()
            if error.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                raise
            if time.monotonic() >= deadline:
                raise
        time.sleep(RETRY_SECONDS)


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: python -m ecsload.commands.level_client SOCKET COMMAND [ARG...]\n")
        return EXIT_USAGE
    prog = os.environ.get("ECSLOAD_PROG", "python -m ecsload.commands.level_client")
    try:
        with connect(argv[0]) as sock:
            request = b"".join(os.fsencode(word) + b"\0" for word in argv[1:])
            socket.send_fds(sock, [request], [0, 1, 2])
            reply = sock.recv(64)
    except OSError as error:
        sys.stderr.write(f"{prog}: the level server at {argv[0]} cannot be reached: {error}\n")
        return EXIT_ERROR
    if not reply:
        sys.stderr.write(f"{prog}: the level server ended before its {argv[1]} command did\n")
        return EXIT_ERROR
    return int(reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
