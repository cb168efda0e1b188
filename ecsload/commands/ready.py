"""Wait, bounded, until an ECS endpoint answers its quick health check with 200.

    python -m ecsload.commands.ready URL [--credentials FILE] [--timeout SECONDS]
    python -m ecsload.commands.ready --node-status FILE --pid PID [--credentials FILE] ...

run_load_test.sh runs the second form after starting the local node: it waits for
the node's status file (ecservice.py --status-file: its URL and runner) while the
node's process lives, then for its health check, and prints what bash needs, a line
each: the node's URL and its runner, so that no level starts
against a node that is still coming up and bash never reads the node's files.
The check is signed with the first pair of FILE, as every request of the load
test is. Exit 0 once it answers 200; 1 when the timeout passes first or the node
exits (the last answer or error on stderr); 2 when the credentials file cannot
be used.
"""

import time
from collections.abc import Sequence
from pathlib import Path

import requests

from ecsload.api import QUICK_HEALTH_PATH
from ecsload.cli import OneLineParser, run
from ecsload.credentials import load_credentials
from ecsload.run_folder import DocumentError, NodeStatus, read_node_status
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


def node_status(path: Path, pid: int, deadline: float) -> NodeStatus | str:
    """The node's status file once it is written, or what happened instead."""
    while time.monotonic() < deadline:
        try:
            return read_node_status(path)
        except DocumentError:
            pass  # not written yet (it is written whole, by a rename)
        if not process_alive(pid):
            return f"the node (pid {pid}) exited before it listened"
        time.sleep(RETRY_SECONDS)
    return f"the node wrote no {path.name}"


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, exited but not reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_healthy(url: str, headers: dict[str, str], deadline: float) -> str | None:
    """None once `url` answers 200 before the deadline, else the last problem."""
    while True:
        left = deadline - time.monotonic()
        problem = check(url, headers, timeout=max(left, RETRY_SECONDS))
        if problem is None or time.monotonic() + RETRY_SECONDS >= deadline:
            return problem
        time.sleep(RETRY_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("endpoint", metavar="URL", nargs="?", type=option_type(parse_endpoint))
    p.add_argument("--node-status", metavar="FILE", type=Path, help="a local node's status file")
    p.add_argument("--pid", type=int, help="the local node's process id (with --node-status)")
    p.add_argument("--credentials", metavar="FILE", help="plaintext key:secret pairs")
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="give up after this long (default: 10)",
    )
    options = p.parse_args(argv)
    if (options.endpoint is None) == (options.node_status is None) or (
        options.node_status is not None and options.pid is None
    ):
        p.error("give URL, or --node-status FILE and --pid PID")
    headers = (
        {"Authorization": load_credentials(options.credentials)[0].authorization}
        if options.credentials
        else {}
    )
    deadline = time.monotonic() + options.timeout
    status: NodeStatus | None = None
    if options.node_status is not None:
        found = node_status(options.node_status, options.pid, deadline)
        if isinstance(found, str):
            p.exit(1, f"{PROG}: {found} within {options.timeout:g} s\n")
        status = found
    endpoint = options.endpoint or (status["url"] if status else "")
    problem = wait_healthy(endpoint + QUICK_HEALTH_PATH, headers, deadline)
    if problem is not None:
        p.exit(1, f"{PROG}: {endpoint}{QUICK_HEALTH_PATH} {problem} after {options.timeout:g} s\n")
    if status is not None:
        print(endpoint)  # bash reads the two lines
        print(status["runner"])
    return 0


if __name__ == "__main__":
    run(main, PROG)
