"""The plan's checks across settings, made before anything starts.

A value alone is checked where it is parsed (ecsload.values); these read several
settings together: what an endpoint needs (credentials, a verifiable certificate),
what only a local node can use, what a verdict needs (its levels, the probe, a
baseline), and the warnings a user should see before the run.
"""

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecsload.analysis.baseline import BaselineError, check_baseline
from ecsload.analysis.search import CONFIRM, CONFIRM_FACTOR, GROW, settings_for
from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.history_location import Reference, parse_reference
from ecsload.node_files import deployment_problem
from ecsload.receiver_auth import AuthFileError, read_auth
from ecsload.setting_rows import PROG
from ecsload.tls import CABundleError, is_https, read_ca_bundle
from ecsload.values import CAPACITY, PROBE, parse_threshold

SEARCH_KEYS = ("slo", "min_rate", "max_rate", "resolution")
STEP_SECONDS = 5  # a search step's default -d


def resolve_search(values: dict[str, Any], sources: Mapping[str, str], search: bool) -> None:
    """The capacity search's settings (run_load_test.sh capacity), checked together before
    anything starts; a sweep refuses them. A search's steps are timed arrival-rate levels:
    `rates` holds its first step's rate (each step's is decided as it goes)."""
    if not search:
        given = [key for key in SEARCH_KEYS if sources[key] != "default"]
        if given:
            raise UserError(
                f"{sources[given[0]]} {given[0]} goes with the capacity search: "
                f"run_load_test.sh capacity --slo EXPR ...",
                EXIT_USAGE,
            )
        return
    if not values["slo"]:
        raise UserError(
            "capacity needs an objective: --slo EXPR (e.g. --slo 'p99<50'; repeat for more)",
            EXIT_USAGE,
        )
    for key, what in (
        ("rates", "the search chooses its rates (--min-rate, --max-rate)"),
        ("concurrency", "a search varies the arrival rate, not users"),
        ("number_of_requests", "its steps are timed: -d SECONDS per step"),
        ("repeat", "each step is one measurement; the answer is confirmed by a longer one"),
        (
            "baseline",
            "a search is not compared with a baseline (its capacity is kept in the history)",
        ),
        *(
            (
                key,
                "a worker machine cannot be told which step is the search's last: use "
                "--processes N on one machine",
            )
            for key in ("master", "worker")
        ),
    ):
        if sources[key] != "default":
            raise UserError(f"{sources[key]} {key} does not go with capacity: {what}", EXIT_USAGE)
    if values["min_rate"] > values["max_rate"]:
        raise UserError(
            f"--min-rate {values['min_rate']} ({sources['min_rate']}) is above --max-rate "
            f"{values['max_rate']} ({sources['max_rate']}): give min <= max",
            EXIT_USAGE,
        )
    for text in values["thresholds"]:
        if parse_threshold(text).metric != CAPACITY:
            raise UserError(
                f"threshold {text!r}: with capacity, --fail-on gates the answer only "
                f"({CAPACITY}>=R); give what each step must hold as --slo {text!r}",
                EXIT_USAGE,
            )
    for text in values["slo"]:
        if parse_threshold(text).scope == PROBE and not values["probe_rate"]:
            raise UserError(
                f"SLO {text!r} reads the probe, but --probe-rate is 0: no probe runs", EXIT_USAGE
            )
    if not values["level_seconds"]:
        values["level_seconds"] = STEP_SECONDS
    check_longest_step(values)
    values["number_of_requests"] = 0
    values["rates"] = [values["min_rate"]]


def check_longest_step(values: Mapping[str, Any]) -> None:
    """The search's longest step, its confirmation at --min-rate (steps there last longest
    when the SLO's percentile needs more answers than -d seconds bring), must fit under a
    level's time cap."""
    settings = settings_for(
        values["min_rate"], values["max_rate"], values["resolution"], values["level_seconds"],
        values["slo"], values["probe_rate"],
    )  # fmt: skip
    step = settings.seconds_at(values["min_rate"], GROW)
    confirm = settings.seconds_at(values["min_rate"], CONFIRM) + values["warmup"]
    if confirm < values["level_time_cap"]:
        return
    if step == values["level_seconds"]:
        why, remedy = "-d", "lower -d"
    elif settings.step_seconds > values["level_seconds"]:
        why = f"the {step:g} s a step needs for the probe's answers at --probe-rate"
        remedy = "--probe-rate"
    else:
        why = (
            f"the {step:g} s a step at --min-rate {values['min_rate']} needs to send "
            f"{settings.min_requests:,} requests for its percentile's answers"
        )
        remedy = "--min-rate"
    raise UserError(
        f"the search's confirmation step ({confirm:g} s: {CONFIRM_FACTOR}x {why}, and the "
        f"warmup) must fit under a level's time cap (-t {values['level_time_cap']} s): "
        f"raise -t or {remedy}",
        EXIT_USAGE,
    )


# An IPv4 address in inet_aton's legacy forms (one to four parts, decimal, octal or hex);
# checked first because inet_aton ignores whatever follows a space.
INET_ATON_FORM = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]+)(\.(0[xX][0-9a-fA-F]+|[0-9]+)){0,3}")


def ignore_local_node_settings(values: dict[str, Any], sources: Mapping[str, str]) -> None:
    """Drop, with a note each, the settings that only a local node can use."""
    why = {
        "newrelic": "the New Relic agent runs on the deployment's nodes, not here "
        "(see docs/newrelic.md)",
        "node_deployment": "a deployment's limits are set when it is spun up "
        "(see docs/running.md, Rate limiting)",
        "node_delay": "only the local node can be slowed down",
    }
    for key, reason in why.items():
        if values[key]:
            sys.stderr.write(
                f"{PROG}: note: {sources[key]} ignored against ECS_ENDPOINT: {reason}\n"
            )
            values[key] = [] if isinstance(values[key], list) else ""


def check_credentials_fit(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """An endpoint needs credentials, unless the user says it has no authentication."""
    if values["no_credentials"] and not values["endpoint"]:
        raise UserError(
            "--no-credentials goes with ECS_ENDPOINT: the local node always checks credentials "
            "(see --help)",
            EXIT_USAGE,
        )
    if values["no_credentials"] and values["credentials"]:
        raise UserError(
            f"--no-credentials and {sources['credentials']} exclude each other: give one",
            EXIT_USAGE,
        )
    if values["endpoint"] and not (values["credentials"] or values["no_credentials"]):
        raise UserError(
            f"{sources['endpoint']} is set but ECS_CREDENTIALS is not, so every request would "
            "be refused (401): set ECS_CREDENTIALS=FILE (the key:secret pairs of the creds "
            "command), or add --no-credentials for a deployment without authentication",
            EXIT_USAGE,
        )


def check_node_deployment(path: str, source: str) -> None:
    """The local node's deployment.json, checked by the node's own reader before anything
    starts."""
    problem = deployment_problem(path)
    if problem is not None:
        raise UserError(f"node_deployment from {source}: {problem}", EXIT_USAGE)


def ignore_tls_settings(values: dict[str, Any], sources: Mapping[str, str], worker: bool) -> None:
    """Drop, with a note each, the TLS settings where no https endpoint is in this plan."""
    endpoint = values["endpoint"]
    if is_https(endpoint):
        return
    if worker:
        why = "a worker verifies the endpoint as its master says"
    elif endpoint:
        why = f"{endpoint} is plain http, with no certificate to verify"
    else:
        why = "the local node speaks plain http"
    for key in ("ca_bundle", "insecure"):
        if values[key]:
            sys.stderr.write(f"{PROG}: note: {sources[key]} {key} ignored: {why}\n")
            values[key] = "" if key == "ca_bundle" else False


def check_tls_settings(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """--insecure and --ca-bundle exclude each other; a bundle must hold PEM certificates."""
    if values["insecure"] and values["ca_bundle"]:
        raise UserError(
            f"insecure ({sources['insecure']}) and ca_bundle ({sources['ca_bundle']}) exclude "
            "each other: verify with the bundle, or not at all",
            EXIT_USAGE,
        )
    if values["ca_bundle"]:
        try:
            read_ca_bundle(values["ca_bundle"])
        except CABundleError as error:
            raise UserError(f"{sources['ca_bundle']}: {error}", EXIT_USAGE) from None


def check_remote_write(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """The receiver's credentials file must be usable before the sweep starts; it goes with
    --remote-write or --otlp."""
    path = values["metrics_credentials"]
    if not path:
        return
    if not (values["remote_write"] or values["otlp"]):
        raise UserError(
            f"metrics_credentials ({sources['metrics_credentials']}) goes with "
            "--remote-write URL or --otlp URL: give the receiver's URL too",
            EXIT_USAGE,
        )
    try:
        read_auth(path)
    except AuthFileError as error:
        raise UserError(
            f"metrics_credentials ({sources['metrics_credentials']}): {error}",
            EXIT_USAGE,
        ) from None


def clear_text_warning(values: Mapping[str, Any], sources: Mapping[str, str]) -> str | None:
    """A warning when credentials would cross a network unencrypted (loopback is exempt)."""
    endpoint = values["endpoint"]
    host = urlsplit(endpoint).hostname or ""
    if not endpoint or is_https(endpoint) or not values["credentials"] or is_loopback(host):
        return None
    return (
        f"WARNING: {sources['endpoint']} {endpoint} is plain http: the keys and secrets of "
        "ECS_CREDENTIALS travel in clear text with every request; use its https:// URL"
    )


def is_loopback(host: str) -> bool:
    """Whether `host` means this machine, in any spelling the C library's resolver (and so
    every client here) accepts: 127.1, 2130706433, 0x7f000001, ::ffff:127.0.0.1, localhost."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not INET_ATON_FORM.fullmatch(host):
            return False
        try:
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def check_processes_fit(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """More Locust processes than the smallest level's users: the extra ones run no user,
    yet each is a Python process whose heartbeats the master must hear (exit 2)."""
    processes = (os.cpu_count() or 1) if values["processes"] == -1 else values["processes"]
    fewest = min(values["concurrency"])
    if processes > fewest:
        users = "1 user" if fewest == 1 else f"{fewest} users"
        raise UserError(
            f"processes ({sources['processes']}): the smallest level has {users}, so "
            f"{processes} Locust processes would leave {processes - fewest} with none: "
            f"give at most {fewest}",
            EXIT_USAGE,
        )


def check_verdict_settings(values: dict[str, Any], sources: Mapping[str, str]) -> None:
    """Thresholds that name a level or the probe this run will not have, a regression exit
    without a baseline, and a baseline that does not fit: each refused (exit 2)."""
    for text in values["thresholds"]:
        threshold = parse_threshold(text)
        if threshold.metric == CAPACITY and not values["slo"]:
            raise UserError(
                f"threshold {text!r} gates a capacity search's answer: run_load_test.sh "
                "capacity --slo EXPR --fail-on ...",
                EXIT_USAGE,
            )
        if threshold.metric == CAPACITY:
            continue
        rates = values["rates"]  # an arrival-rate sweep's levels are its rates
        levels = rates or values["concurrency"]
        if isinstance(threshold.level, int) and threshold.level not in levels:
            named = f"{threshold.level}/s" if rates else f"{threshold.level} users"
            raise UserError(
                f"threshold {text!r}: this run has no level of {named} (its "
                f"{'rates' if rates else 'levels'}: {' '.join(f'{level:g}' for level in levels)})",
                EXIT_USAGE,
            )
        if threshold.scope == PROBE and not values["probe_rate"]:
            raise UserError(
                f"threshold {text!r} reads the probe, but --probe-rate is 0: no probe runs",
                EXIT_USAGE,
            )
    if values["fail_on_regression"] and not values["baseline"]:
        raise UserError(
            f"{sources['fail_on_regression']}: fail_on_regression needs a baseline "
            "(--baseline DIR, a previous run's results folder)",
            EXIT_USAGE,
        )
    reference = parse_reference(values["baseline"]) if values["baseline"] else None
    if reference:
        check_history_baseline(values, sources, reference)
    elif values["baseline"]:
        try:
            check_baseline(
                Path(values["baseline"]),
                values["endpoint"],
                this_levels(values),
                values["baseline_any_endpoint"],
                "open" if values["rates"] else "closed",
            )
        except BaselineError as error:
            raise UserError(
                f"{sources['baseline']}: baseline {values['baseline']}: {error}", EXIT_USAGE
            ) from None


def check_history_baseline(
    values: dict[str, Any], sources: Mapping[str, str], reference: Reference
) -> None:
    """A baseline from the history needs one that can be read (exit 2). A history
    with no run of this target yet (a first CI job) is a note, and the run is not compared:
    it becomes the next run's baseline. Imports SQLAlchemy only here: --help needs none."""
    if not values["history"]:
        raise UserError(
            f"{sources['baseline']}: --baseline {reference.text} reads the history, and "
            "--no-history turns it off: drop one of them",
            EXIT_USAGE,
        )
    from ecsload.history.baseline import check_stored_baseline
    from ecsload.history.store import HistoryError, NoStoredRun
    from ecsload.history_location import without_secret

    shown = without_secret(values["history"])
    model = "open" if values["rates"] else "closed"
    try:
        check_stored_baseline(
            values["history"], values["endpoint"], reference, (model, this_levels(values))
        )
    except NoStoredRun as error:
        message = str(error).replace(values["history"], shown)
        if values["fail_on_regression"] and not values["baseline_optional"]:
            raise UserError(
                f"{sources['baseline']}: baseline {reference.text}: {message}; "
                "--fail-on-regression cannot pass with nothing to compare (a first CI job: "
                "add --baseline-optional)",
                EXIT_USAGE,
            ) from None
        sys.stderr.write(
            f"{PROG}: note: baseline {reference.text}: {message}; this run is not compared\n"
        )
        values["baseline"] = ""
    except (HistoryError, BaselineError) as error:
        raise UserError(
            f"{sources['baseline']}: baseline {reference.text}: "
            + str(error).replace(values["history"], shown),
            EXIT_USAGE,
        ) from None


def this_levels(values: Mapping[str, Any]) -> list[int]:
    """What this run's levels are keyed by in a comparison: its arrival rates, else users."""
    return [int(rate) for rate in values["rates"]] if values["rates"] else values["concurrency"]


def resolve_level_end(values: dict[str, Any], sources: Mapping[str, str]) -> None:
    """A level ends after -n requests or after -d seconds, not both; a timed level must fit
    its warmup and seconds under the time cap (-t). A timed level has no request limit (0)."""
    if not values["level_seconds"]:
        return
    if sources["number_of_requests"] != "default":
        raise UserError(
            f"{sources['number_of_requests']} (-n) and {sources['level_seconds']} (-d) "
            "exclude each other: a level ends after N requests or after SECONDS, give one",
            EXIT_USAGE,
        )
    needed = values["level_seconds"] + values["warmup"]
    if needed >= values["level_time_cap"]:
        raise UserError(
            f"a level's warmup and measured time ({needed:g} s) must fit under its time cap "
            f"(-t {values['level_time_cap']} s, {sources['level_time_cap']}): raise -t",
            EXIT_USAGE,
        )
    values["number_of_requests"] = 0
