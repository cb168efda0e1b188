"""The plan's settings resolved (options > environment > config file > defaults), an
arrival-rate sweep's derived settings, and the plan as bash reads it (shell assignments)
and as -v prints it.

The settings are the rows of ecsload.setting_rows. Standard library only: `--help`
runs on bare python3 and imports the plan, which imports this.
"""

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecsload.api import LOCAL_HAPPY_IMAGE, LOCAL_MISSING_IMAGE
from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.history_location import (
    default_history,
    is_url,
    parse_reference,
    without_secret,
)
from ecsload.input_files import MIB, InputFileError, read_input_file
from ecsload.locust_compat import ramp_seconds
from ecsload.model import (
    STALL_ROOM_SECONDS,
    USER_WEIGHTS,
    default_max_in_flight,
    users_by_kind,
)
from ecsload.setting_rows import PROG, SETTINGS, shell_text

PATH_SETTINGS = (
    "credentials",
    "ca_bundle",
    "metrics_credentials",
    "newrelic",
    "node_deployment",
    "graphs",
    "baseline",
    "history",
)


CONFIG_LIMIT = MIB


def read_config(path: str) -> dict[str, object]:
    """The config file's settings, or a UserError naming what is wrong with it."""
    try:
        text = read_input_file(path, CONFIG_LIMIT).decode("utf-8")
    except InputFileError as error:
        raise UserError(f"config file {path} {error}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise UserError(f"config file {path} cannot be read: not UTF-8 text", EXIT_USAGE) from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"config file {path} is not valid JSON: {error}", EXIT_USAGE) from None
    if not isinstance(values, dict):
        raise UserError(f"config file {path} must hold a JSON object", EXIT_USAGE)
    unknown = sorted(set(values) - {s.key for s in SETTINGS})
    if unknown:
        known = ", ".join(s.key for s in SETTINGS)
        raise UserError(
            f"config file {path} has unknown key(s) {', '.join(unknown)}: known keys are {known}",
            EXIT_USAGE,
        )
    return values


def resolve(
    options: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each setting's value and where it came from: options > environment > config > default."""
    config = read_config(options.config) if options.config else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        if getattr(options, s.key, None) is not None:
            values[s.key], sources[s.key] = getattr(options, s.key), "option"
        elif s.env and s.from_text and environ.get(s.env, "").strip():
            sources[s.key] = f"environment {s.env}"
            values[s.key] = checked(s.from_text, environ[s.env], s.env)
        elif s.key in config:
            sources[s.key] = f"config {options.config}"
            values[s.key] = checked(
                s.from_json,
                config[s.key],
                f"config file {options.config}: {s.key}",
            )
        else:
            values[s.key], sources[s.key] = s.default, "default"
    replaced = config.get("thresholds")
    if sources["thresholds"] == "option" and replaced:
        count = len(replaced) if isinstance(replaced, list) else 1
        sys.stderr.write(
            f"{PROG}: note: --fail-on replaces the {count} threshold(s) of "
            f"config file {options.config}: give them with --fail-on as well to keep them\n"
        )
    if not values["endpoint"]:
        local_images = {"happy_image": LOCAL_HAPPY_IMAGE, "missing_image": LOCAL_MISSING_IMAGE}
        for key, image in local_images.items():
            if sources[key] == "default":
                values[key], sources[key] = image, "default for the local node"
    if sources["results"].startswith("config"):  # as given on the command line: as typed
        values["results"] = os.path.join(os.path.dirname(options.config), values["results"])
    for key in PATH_SETTINGS:
        if not values[key] or is_url(values[key]):
            continue
        if key == "baseline" and parse_reference(values[key]):
            continue
        if sources[key].startswith("config"):
            values[key] = os.path.abspath(Path(options.config).parent / values[key])
        else:
            values[key] = os.path.abspath(values[key])
    return values, sources


def resolve_history(
    values: dict[str, Any],
    sources: dict[str, str],
    results: str,
    role: str,
) -> None:
    """The history this run is added to: "" with no_history or for a worker (its master
    records the run), else the setting or history.sqlite under the results folder."""
    if values["no_history"] or role == "worker":
        values["history"] = ""
    elif not values["history"]:
        values["history"] = default_history(results)
        sources["history"] = "default: in the results folder"


def checked(parse: Callable[[Any], Any], value: object, where: str) -> Any:
    try:
        return parse(value)
    except ValueError as error:
        raise UserError(f"{where}: {error}", EXIT_USAGE) from None


def assignments(run_dir: Path, values: Mapping[str, Any], verbose: bool) -> str:
    """The shell code that run_load_test.sh evals; RUN_DIR always comes first."""
    pairs = [("RUN_DIR", str(run_dir))]
    pairs += [(s.shell, shell_text(values[s.key])) for s in SETTINGS if s.shell]
    pairs.append(("VERBOSE", "1" if verbose else "0"))
    return "".join(f"{name}={shlex.quote(text)}\n" for name, text in pairs)


# What a worker takes from its own settings; everything else of a level comes from the master.
WORKER_OWN_SETTINGS = (
    "credentials",
    "processes",
    "quiet",
    "master_host",
    "master_port",
    "master_token_file",
)
FOLLOWS_THE_MASTER = (
    "the master's: its endpoint, levels, requests, ramp, time cap, images and TLS settings "
    "(this worker runs its share of each level's users)"
)


def resolve_arrival_levels(
    values: dict[str, Any], sources: dict[str, str], role: Mapping[str, Any]
) -> None:
    """An arrival-rate sweep: one arrival user per Locust process that runs users (each sends
    its share of the rate), and the cap on requests in flight when none is given."""
    if sources["concurrency"] != "default":
        raise UserError(
            f"rates ({sources['rates']}) and concurrency ({sources['concurrency']}) exclude "
            "each other: a sweep varies either the users (closed) or the arrival rate (open)",
            EXIT_USAGE,
        )
    if values["max_in_flight"] == 0:
        values["max_in_flight"] = default_max_in_flight(max(values["rates"]))
        sources["max_in_flight"] = f"default ({STALL_ROOM_SECONDS:g} s of the top rate)"
    processes = (os.cpu_count() or 1) if values["processes"] == -1 else values["processes"]
    values["arrival_users"] = role["expect_workers"] if role["role"] == "master" else processes


def plan_text(
    run_dir: Path,
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    notes: Sequence[str],
    worker: bool = False,
) -> str:
    """The plan as -v prints it: each setting and its source, what each level runs, its notes.
    A worker's levels are its master's, so its plan shows only its own settings and says so."""
    lines = [f"Plan of run '{run_dir}':"]
    width = max(len(s.key) for s in SETTINGS)  # one column of values, however long a name
    values = {**values, "history": without_secret(values["history"])}
    for s in SETTINGS:
        if worker and s.key not in WORKER_OWN_SETTINGS:
            continue
        text = shell_text(values[s.key]) or ("local ECS node" if s.key == "endpoint" else "none")
        lines.append(f"  {s.key:<{width}} {text:<40} ({sources[s.key]})")
    if worker:
        return "\n".join([*lines, f"  {'levels':<{width}} {FOLLOWS_THE_MASTER}"]) + "\n"
    for rate in values["rates"]:
        lines.append(
            f"  {f'level {rate}/s':<{width}} {values['arrivals']} arrivals, at most "
            f"{values['max_in_flight']} in flight; the model's mix by weight"
        )
    for users in [] if values["rates"] else values["concurrency"]:
        mix = ", ".join(
            f"{kind.removesuffix('User')} {count}"
            for kind, count in users_by_kind(users, USER_WEIGHTS).items()
        )
        ramp = ramp_seconds(users, values["hatch_rate"])
        lines.append(f"  {f'level {users}':<{width}} ramp {ramp:.1f} s; users {mix}")
    lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"
