"""Wait, bounded, until an ECS endpoint answers its quick health check with 200.

    python -m ecsload.commands.ready URL [--credentials FILE] [--timeout SECONDS]

run_load_test.sh calls it after starting the local node, so that the first
level does not start against a node that is still coming up. The check is
signed with the first pair of FILE, as every request of the load test is.
Exit 0 once it answers 200; 1 when the timeout passes first (the last answer or
error on stderr); 2 when the credentials file cannot be used.
"""

import time
from collections.abc import Sequence

import requests

from ecsload.api import QUICK_HEALTH_PATH
from ecsload.cli import OneLineParser, run
from ecsload.credentials import load_credentials
from ecsload.values import option_type, parse_endpoint

PROG = "python -m ecsload.commands.ready"
RETRY_SECONDS = 0.1


def check(url: str, headers: dict[str, str], timeout: float) -> str | None:
    """None when the health check answers 200, else what happened instead."""
    try:
        response = requests.get(url, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        return f"no answer ({type(error).__name__})"
    return None if response.status_code == 200 else f"answered {response.status_code}"


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("endpoint", metavar="URL", type=option_type(parse_endpoint))
    p.add_argument("--credentials", metavar="FILE", help="plaintext key:secret pairs")
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="give up after this long (default: 10)",
    )
    options = p.parse_args(argv)
    headers = (
        {"Authorization": load_credentials(options.credentials)[0].authorization}
        if options.credentials
        else {}
    )
    url = options.endpoint + QUICK_HEALTH_PATH
    deadline = time.monotonic() + options.timeout
    while True:
        left = deadline - time.monotonic()
        problem = check(url, headers, timeout=max(left, RETRY_SECONDS))
        if problem is None:
            return 0
        if time.monotonic() + RETRY_SECONDS >= deadline:
            p.exit(1, f"{PROG}: {url} {problem} after {options.timeout:g} s\n")
        time.sleep(RETRY_SECONDS)


if __name__ == "__main__":
    run(main, PROG)
