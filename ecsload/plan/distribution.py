"""The plan's role of this machine, for a level on several processes or machines: --processes,
--master, --worker.

One machine's cores: --processes N (Locust forks N workers under an implicit
master). Several machines: one `--master` that runs no users and waits for
`--expect-workers N`, and `--worker --master-host HOST` on the others. The
master binds every interface by default, as Locust does: its workers are on
other machines, and 127.0.0.1 would keep them out. The role's settings are rows of
ecsload.setting_rows, like every other. Standard library only: `--help` runs on
bare python3 and imports the plan, which imports this.

`--processes auto` (the default) is settled here, once the role is known: one
process, except in an arrival-rate sweep on this machine whose top rate is more
than one process sends on schedule (ecsload.model.auto_processes).
"""

import os
import shlex
from collections.abc import Mapping
from typing import Any

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.model import ARRIVALS_PER_PROCESS, auto_processes
from ecsload.values import AUTO

# The role's settings that plan.json's `distribution` carries beside the role; bash reads
# the role and where a worker's master is (ecsload.plan.locust_command builds the rest).
ROLE_SETTINGS = ("expect_workers", "master_bind_host", "master_host", "master_port", "worker_wait")
SHELL_ROLE = ("role", "master_host", "master_port")


def resolve_role(values: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """The role of this machine and its settings; a UserError for settings that do not fit."""
    role = "master" if values["master"] else "worker" if values["worker"] else "local"

    def refuse(message: str) -> None:
        raise UserError(f"{message} (see --help)", EXIT_USAGE)

    if values["master"] and values["worker"]:
        refuse("--master and --worker exclude each other")
    for flag, name, needs in (
        ("--expect-workers", "expect_workers", "master"),
        ("--master-bind-host", "master_bind_host", "master"),
        ("--master-host", "master_host", "worker"),
    ):
        if sources[name] != "default" and role != needs:
            refuse(f"{flag} goes with --{needs}")
    if role == "worker" and not values["master_host"]:
        refuse("--worker needs --master-host HOST")
    if role == "master" and not values["endpoint"]:
        refuse(
            "--master needs ECS_ENDPOINT: the local node listens on 127.0.0.1 only, where "
            "other machines cannot reach it; on one machine use --processes"
        )
    if role == "master" and values["processes"] not in (1, AUTO):
        refuse(
            "--master runs no users, so --processes does not apply to it; give it to the workers"
        )
    return {"role": role, **{key: values[key] for key in ROLE_SETTINGS}}


def resolve_processes(
    values: dict[str, Any], sources: dict[str, str], role: str, cores: int | None = None
) -> None:
    """Settle `--processes auto` to a number, and say why in its source: as many processes
    as the top arrival rate needs on this machine's cores (`cores`: os.cpu_count()), else 1
    (a closed sweep; a master, which runs no users; a worker, which does not know its
    master's rates)."""
    if values["processes"] != AUTO:
        return
    if role == "local" and values["rates"]:
        cores = cores or os.cpu_count() or 1
        top = max(values["rates"])
        count = auto_processes(top, cores, local_node=not values["endpoint"])
        node = ", less 1 for the local node" if not values["endpoint"] else ""
        why = f"{top:g}/s at {ARRIVALS_PER_PROCESS:,}/s a process, {cores} cores{node}"
    else:
        count = 1
        why = "not an arrival-rate sweep" if role == "local" else f"a {role}"
    values["processes"] = count
    sources["processes"] = f"{sources['processes']}, auto: {why}"


def role_assignments(role: dict[str, Any]) -> str:
    """The role's shell assignments for run_load_test.sh (after the plan's own)."""
    return "".join(f"{name.upper()}={shlex.quote(str(role[name]))}\n" for name in SHELL_ROLE)
