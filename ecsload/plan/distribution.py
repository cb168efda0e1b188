"""The plan's options for a level on several processes or machines: --processes, --master, --worker.

One machine's cores: --processes N (Locust forks N workers under an implicit
master). Several machines: one `--master` that runs no users and waits for
`--expect-workers N`, and `--worker --master-host HOST` on the others. The
master binds every interface by default, as Locust does: its workers are on
other machines, and 127.0.0.1 would keep them out. Standard library only: `--help` runs on
bare python3 and imports the plan, which imports this.
"""

import argparse
import shlex
import textwrap
from typing import Any

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.values import option_type, whole_number

DEFAULT_MASTER_PORT = 5557  # Locust's
DEFAULT_BIND_HOST = "*"  # every interface
DEFAULT_WORKER_WAIT = 120


def add_role_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group(
        "several machines (see docs/scale.md)",
        textwrap.fill(
            "The master runs no users: it sweeps the levels, hands the workers their share of each "
            "level's requests and gathers their samples. Each worker machine runs "
            "`run_load_test.sh --worker --master-host HOST` and follows the whole sweep.",
            width=79,
        ),
    )
    group.add_argument(
        "--master",
        action="store_true",
        help="run each level as a Locust master (needs ECS_ENDPOINT)",
    )
    group.add_argument(
        "--expect-workers",
        metavar="N",
        type=option_type(whole_number(1, 10_000)),
        help="master: workers to wait for before each level starts (default: 1)",
    )
    group.add_argument(
        "--master-bind-host",
        metavar="ADDRESS",
        help="master: interface to listen on for workers (default: * = every "
        "interface; the port is unauthenticated, so firewall it)",
    )
    group.add_argument(
        "--worker",
        action="store_true",
        help="run Locust workers for every level of a master's sweep",
    )
    group.add_argument(
        "--master-host", metavar="HOST", help="worker: the master's host name or address"
    )
    group.add_argument(
        "--master-port",
        metavar="PORT",
        type=option_type(whole_number(1, 65535)),
        help=f"master and worker: the master's port (default: {DEFAULT_MASTER_PORT})",
    )
    group.add_argument(
        "--worker-wait",
        metavar="SECONDS",
        type=option_type(whole_number(1, 86_400)),
        help="master, and --processes: seconds to wait for the workers before "
        f"a level gives up (default: {DEFAULT_WORKER_WAIT})",
    )


def resolve_role(options: argparse.Namespace, values: dict[str, Any]) -> dict[str, Any]:
    """The role of this machine and its settings; a UserError for options that do not fit."""
    role = "master" if options.master else "worker" if options.worker else "local"

    def refuse(message: str) -> None:
        raise UserError(f"{message} (see --help)", EXIT_USAGE)

    if options.master and options.worker:
        refuse("--master and --worker exclude each other")
    for flag, name, needs in (
        ("--expect-workers", "expect_workers", "master"),
        ("--master-bind-host", "master_bind_host", "master"),
        ("--master-host", "master_host", "worker"),
    ):
        if getattr(options, name) is not None and role != needs:
            refuse(f"{flag} goes with --{needs}")
    if role == "worker" and not options.master_host:
        refuse("--worker needs --master-host HOST")
    if role == "master" and not values["endpoint"]:
        refuse(
            "--master needs ECS_ENDPOINT: the local node listens on 127.0.0.1 only, where "
            "other machines cannot reach it; on one machine use --processes"
        )
    if role == "master" and values["processes"] != 1:
        refuse(
            "--master runs no users, so --processes does not apply to it; give it to the workers"
        )
    if options.master_bind_host is not None and not options.master_bind_host.strip():
        refuse("--master-bind-host is empty")
    return {
        "role": role,
        "expect_workers": options.expect_workers or 1,
        "master_bind_host": (options.master_bind_host or DEFAULT_BIND_HOST).strip(),
        "master_host": options.master_host or "",
        "master_port": options.master_port or DEFAULT_MASTER_PORT,
        "worker_wait": options.worker_wait or DEFAULT_WORKER_WAIT,
    }


def role_assignments(role: dict[str, Any]) -> str:
    """The role's shell assignments for run_load_test.sh (after the plan's own)."""
    return "".join(f"{name.upper()}={shlex.quote(str(value))}\n" for name, value in role.items())
