"""The run plan of run_load_test.sh: every setting resolved, validated and printed for bash.

Bash runs the processes; Python decides what to run. This command resolves each
setting (options > environment > config file > defaults), checks all of them
before anything starts, creates the run folder with its plan.json (credentials
by path only), and prints shell assignments for the script to `eval`.

The settings themselves are in ecsload.commands.settings, the checks across them
in ecsload.commands.plan_checks. Only the standard library is imported, so `--help`
works before the venv exists.
"""

import argparse
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecsload.api import LOCAL_HAPPY_IMAGE, LOCAL_MISSING_IMAGE
from ecsload.cli import UserError, run
from ecsload.commands.agent import check_agent_config
from ecsload.commands.plan_checks import (
    check_credentials_fit,
    check_node_deployment,
    check_processes_fit,
    check_tls_settings,
    check_verdict_settings,
    clear_text_warning,
    ignore_local_node_settings,
    ignore_tls_settings,
)
from ecsload.commands.roles import resolve_role, role_assignments
from ecsload.commands.settings import PROG, SETTINGS, parser, shell_text
from ecsload.credentials import CredentialsError, load_credentials
from ecsload.exits import EXIT_CONFIG, EXIT_USAGE
from ecsload.history.location import (
    default_history,
    default_label,
    is_url,
    parse_reference,
    without_secret,
)
from ecsload.model import USER_WEIGHTS, users_by_kind
from ecsload.tls import NOT_VERIFIED, tls_terms

MIN_IN_FLIGHT = 100  # the default cap on an arrival-rate level's requests in flight, at least
STALL_ROOM_SECONDS = 1.5  # ... and room for this long a stall's arrivals at the top rate
PATH_SETTINGS = (
    "credentials",
    "ca_bundle",
    "newrelic",
    "node_deployment",
    "graphs",
    "baseline",
    "history",
)
PATH_MAX = 4096  # Linux's limit on a path
RUN_FILES_ROOM = 120  # the longest path a run makes under its results folder, and then some


def read_config(path: str) -> dict[str, object]:
    """The config file's settings, or a UserError naming what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise UserError(f"config file {path} cannot be read: {reason}", EXIT_CONFIG) from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"config file {path} is not valid JSON: {error}", EXIT_CONFIG) from None
    if not isinstance(values, dict):
        raise UserError(f"config file {path} must hold a JSON object", EXIT_CONFIG)
    unknown = sorted(set(values) - {s.key for s in SETTINGS})
    if unknown:
        known = ", ".join(s.key for s in SETTINGS)
        raise UserError(
            f"config file {path} has unknown key(s) {', '.join(unknown)}: known keys are {known}",
            EXIT_CONFIG,
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
            values[s.key] = checked(s.from_text, environ[s.env], s.env, s.refused_with)
        elif s.key in config:
            sources[s.key] = f"config {options.config}"
            values[s.key] = checked(
                s.from_json,
                config[s.key],
                f"config file {options.config}: {s.key}",
                s.refused_with,
            )
        else:
            values[s.key], sources[s.key] = s.default, "default"
    if sources["thresholds"] == "option" and config.get("thresholds"):
        sys.stderr.write(
            f"{PROG}: note: --fail-on replaces the {len(config['thresholds'])} threshold(s) of "
            f"config file {options.config}: give them with --fail-on as well to keep them\n"
        )
    if not values["endpoint"]:
        local_images = {"happy_image": LOCAL_HAPPY_IMAGE, "missing_image": LOCAL_MISSING_IMAGE}
        for key, image in local_images.items():
            if sources[key] == "default":
                values[key], sources[key] = image, "default for the local node"
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


def checked(parse: Callable[[Any], Any], value: object, where: str, exit_code: int) -> Any:
    try:
        return parse(value)
    except ValueError as error:
        raise UserError(f"{where}: {error}", exit_code) from None


def make_run_dir(root: str) -> Path:
    """A new folder results/<YYYYmmdd-HHMMSS> (UTC), suffixed -2, -3, … if that second is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(root).expanduser().absolute()
    if len(str(base)) + RUN_FILES_ROOM > PATH_MAX:
        raise UserError(
            f"the results folder's path is {len(str(base))} characters long, and the run's "
            f"files need at most {PATH_MAX} (PATH_MAX): give a shorter -o",
            EXIT_CONFIG,
        )
    try:
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 100):
            run_dir = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            try:
                run_dir.mkdir()
                return run_dir
            except FileExistsError:
                continue
    except OSError as error:
        raise UserError(
            f"cannot create a run folder under {base}: {error.strerror}", EXIT_CONFIG
        ) from None
    raise UserError(
        f"cannot create a run folder under {base}: too many runs at {stamp}", EXIT_CONFIG
    )


def assignments(run_dir: Path, values: Mapping[str, Any], verbose: bool) -> str:
    """The shell code that run_load_test.sh evals; RUN_DIR always comes first."""
    pairs = [("RUN_DIR", str(run_dir))]
    pairs += [(s.shell, shell_text(values[s.key])) for s in SETTINGS if s.shell]
    pairs.append(("ARRIVAL_USERS", str(values.get("arrival_users", 0))))
    pairs.append(("VERBOSE", "1" if verbose else "0"))
    return "".join(f"{name}={shlex.quote(text)}\n" for name, text in pairs)


def ramp_seconds(users: int, hatch_rate: float) -> float:
    """How long Locust takes to start `users`: it starts floor(rate) of them (at least one)
    at a time, and waits batch / rate seconds between batches (locust/dispatch.py)."""
    batch = max(1, math.floor(hatch_rate))
    return (math.ceil(users / batch) - 1) * batch / hatch_rate


# What a worker takes from its own settings; everything else of a level comes from the master.
WORKER_OWN_SETTINGS = ("credentials", "processes", "quiet")
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
        values["max_in_flight"] = max(
            MIN_IN_FLIGHT, math.ceil(STALL_ROOM_SECONDS * max(values["rates"]))
        )
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
    values = {**values, "history": without_secret(values["history"])}
    for s in SETTINGS:
        if worker and s.key not in WORKER_OWN_SETTINGS:
            continue
        text = shell_text(values[s.key]) or ("local ECS node" if s.key == "endpoint" else "none")
        lines.append(f"  {s.key:<19} {text:<40} ({sources[s.key]})")
    if worker:
        return "\n".join([*lines, f"  {'levels':<19} {FOLLOWS_THE_MASTER}"]) + "\n"
    for rate in values["rates"]:
        lines.append(
            f"  {f'level {rate}/s':<19} {values['arrivals']} arrivals, at most "
            f"{values['max_in_flight']} in flight; the model's mix by weight"
        )
    for users in [] if values["rates"] else values["concurrency"]:
        mix = ", ".join(
            f"{kind.removesuffix('User')} {count}"
            for kind, count in users_by_kind(users, USER_WEIGHTS).items()
        )
        ramp = ramp_seconds(users, values["hatch_rate"])
        lines.append(f"  {f'level {users}':<19} ramp {ramp:.1f} s; users {mix}")
    lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    values, sources = resolve(options, os.environ)
    if values["credentials"]:
        try:
            load_credentials(values["credentials"])
        except CredentialsError as error:
            raise CredentialsError(f"{sources['credentials']}: {error}") from None
    if values["endpoint"]:
        ignore_local_node_settings(values, sources)
    ignore_tls_settings(values, sources, options.worker)
    check_tls_settings(values, sources)
    if values["newrelic"]:
        check_agent_config(values["newrelic"], os.environ)
    if values["graphs"] and not os.path.isdir(os.path.dirname(values["graphs"])):
        raise UserError(
            f"graphs ({sources['graphs']}): {os.path.dirname(values['graphs'])} is not a folder: "
            "give the PDF a path in an existing folder",
            EXIT_CONFIG,
        )
    role = resolve_role(options, values)
    resolve_history(values, sources, options.results, role["role"])
    if values["rates"]:
        resolve_arrival_levels(values, sources, role)
    elif role["role"] == "local":  # a worker's levels are its master's
        check_processes_fit(values, sources)
    check_credentials_fit(values, sources)
    if values["node_deployment"]:
        check_node_deployment(values["node_deployment"], sources["node_deployment"])
    if role["role"] != "worker":
        check_verdict_settings(values, sources)
    run_dir = make_run_dir(options.results)
    label, branch = default_label(os.environ)
    if sources["label"] == "default" and label:
        values["label"], sources["label"] = label, "the CI's variables"
    tls_notes = [NOT_VERIFIED] if values["insecure"] else []
    warning = clear_text_warning(values, sources)
    if warning:
        sys.stderr.write(f"{PROG}: {warning}\n")
    plan = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_dir": str(run_dir),
        **{key: None if value == "" else value for key, value in values.items()},
        "history": without_secret(values["history"]) or None,
        "branch": branch,
        "sources": sources,
        "distribution": role,
        "tls": tls_terms(values["endpoint"], values["insecure"], values["ca_bundle"]),
        "notes": [*tls_notes, *([warning] if warning else [])],
    }
    (run_dir / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    if options.verbose:
        sys.stderr.write(
            plan_text(run_dir, values, sources, tls_notes, worker=role["role"] == "worker")
        )
    sys.stdout.write(assignments(run_dir, values, options.verbose) + role_assignments(role))
    return 0


if __name__ == "__main__":
    run(main, PROG)
