"""A TCP port that is free on 127.0.0.1, for the implicit master of `--processes`.

Locust's `--processes` forks its workers before the master binds, so the
workers must be told the port in advance: Locust's fixed default (5557) makes
two sweeps on one machine collide. The port is drawn at random below the
kernel's ephemeral range (net.ipv4.ip_local_port_range), where no outgoing
connection (the load test's own thousands) is ever given one, and checked by
binding it. Another program may still bind it between this check and Locust's
bind, a window of about a second. Standard library only.
"""

import random
import socket
from pathlib import Path

LOWEST = 10_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
TRIES = 200


def ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port free on 127.0.0.1 below the ephemeral range, or one the kernel picks."""
    high = ephemeral_low() - 1
    if high > LOWEST:
        for _ in range(TRIES):
            port = random.randint(LOWEST, high)
            if is_free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
