"""The Locust command line of a level, and of a worker machine's Locust, built from plan.json.

A level's options are Locust's own (users,
ramp, time cap, its files), the locustfile's that carry a setting (each row's
`locust` option in ecsload.setting_rows: one declaration, the same parser on
both sides), and those of a level spread over processes (--processes) or machines
(--master). A setting at its locustfile option's default, or at nothing (0, empty,
false), is not passed: the level has the same without it. The level command runs
Locust with them (ecsload.commands.level); a worker machine's bash reads its own
NUL-separated (ecsload.commands.locust_args).
"""

import calendar
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecsload.model import default_max_in_flight
from ecsload.ports import free_port
from ecsload.run_folder import REPEAT_PREFIX, LevelFolder, WorkerFolder
from ecsload.setting_rows import SETTINGS, shell_text

LOOPBACK = "127.0.0.1"


def setting_options(values: Mapping[str, Any]) -> list[str]:
    """The locustfile's options of the settings in `values` that differ from the option's
    default (what the level has without them)."""
    argv: list[str] = []
    for s in SETTINGS:
        value = values.get(s.key)
        if not s.locust or value in (None, "", 0, s.locust_default_value):  # 0 is also False
            continue
        argv += [s.locust] if value is True else [s.locust, shell_text(value)]
    return argv


def spread_options(plan: Mapping[str, Any], last: bool) -> list[str]:
    """A level's options for more than one Locust process. A master's workers are other
    machines (last: tell them no level follows). --processes' implicit master listens on a
    free loopback port of its own, so that two sweeps on one machine never meet on Locust's
    fixed 5557; only --master keeps a fixed port."""
    role = plan["distribution"]
    wait = ["--expect-workers-max-wait", str(role["worker_wait"])]
    if role["role"] == "master":
        return [
            *("--master", "--expect-workers", str(role["expect_workers"])),
            *("--master-bind-host", role["master_bind_host"]),
            *("--master-bind-port", str(role["master_port"])),
            *wait,
            *(["--last-level"] if last else []),
        ]
    if plan["processes"] == 1:
        return []
    port = str(free_port())
    return [
        *("--processes", str(plan["processes"]), *wait),
        *("--master-bind-host", LOOPBACK, "--master-bind-port", port),
        *("--master-host", LOOPBACK, "--master-port", port),
    ]


def level_command(
    plan: Mapping[str, Any],
    folder: LevelFolder,
    key: int,
    last: bool,
    endpoint: str,
    credentials: str,
    seconds: float | None = None,
) -> list[str]:
    """Locust's options for the level whose users (or, with --rates, arrival rate) are `key`,
    writing into `folder`; the endpoint and credentials are the ones the level uses (the local
    node's, once it runs). A capacity search's step: its own `seconds`, and unless given, a
    cap on requests in flight from its own rate."""
    users, hatch = (plan["arrival_users"],) * 2 if plan["rates"] else (key, plan["hatch_rate"])
    values = {**plan, "endpoint": endpoint, "credentials": credentials}
    if seconds is not None:
        values["level_seconds"] = seconds
    if plan.get("search") and plan["sources"]["max_in_flight"].startswith("default"):
        values["max_in_flight"] = default_max_in_flight(key)
    return [
        *("--headless", "--host", endpoint, "-u", str(users), "-r", shell_text(hatch)),
        *("--run-time", f"{plan['level_time_cap']}s", "--exit-code-on-error", "0"),
        *("--csv", str(folder.locust_csv), "--html", str(folder.locust_report)),
        *("--logfile", str(folder.locust_log), "--samples-file", str(folder.samples)),
        *("--level-info", str(folder.info), "--progress-file", str(folder.progress)),
        *(["--arrival-rate", str(key)] if plan["rates"] else []),
        *setting_options(values),
        *spread_options(plan, last),
        *(
            metrics_options(plan, folder, key, last)
            if plan.get("remote_write") or plan.get("otlp")
            else []
        ),
    ]


def metrics_options(
    plan: Mapping[str, Any], folder: LevelFolder, key: int, last: bool
) -> list[str]:
    """With --remote-write or --otlp: the level's labels (run, level, repeat), the run's
    start, and whether its end is the run's (ecsload.plugin.live_metrics)."""
    repeat = folder.path.name.removeprefix(REPEAT_PREFIX)
    started = calendar.timegm(time.strptime(plan["created"], "%Y-%m-%dT%H:%M:%SZ"))
    return [
        *("--run-name", Path(plan["run_dir"]).name, "--level-key", str(key)),
        *("--level-repeat", repeat if repeat.isdigit() else "1"),
        *("--run-started", str(started)),
        *(["--run-ends"] if last else []),
    ]


def worker_command(plan: Mapping[str, Any], folder: WorkerFolder) -> list[str]:
    """A worker machine's Locust for one of its master's levels: everything but its own
    credentials and processes comes from the master when it connects."""
    role = plan["distribution"]
    processes = plan["processes"]
    return [
        *("--worker", "--master-host", role["master_host"]),
        *("--master-port", str(role["master_port"])),
        *(["--processes", str(processes)] if processes != 1 else []),
        *("--logfile", str(folder.locust_log), "--worker-info", str(folder.info)),
        *setting_options(
            {"credentials": plan["credentials"], "master_token_file": plan["master_token_file"]}
        ),
    ]
