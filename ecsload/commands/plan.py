"""The run plan of run_load_test.sh: every setting resolved, validated and printed for bash.

Bash runs the processes; Python decides what to run. This command resolves each
setting (options > environment > config file > defaults), checks all of them
before anything starts, creates the run folder with its plan.json (credentials
by path only), and prints shell assignments for the script to `eval`.

Only the standard library is imported, so `--help` works before the venv exists.
To add a setting: add a `Setting` row (and, when it has one, its option in `parser`).
"""

import argparse
import ipaddress
import json
import os
import shlex
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecsload.api import (
    DEFAULT_HAPPY_IMAGE,
    DEFAULT_MISSING_IMAGE,
    LOCAL_HAPPY_IMAGE,
    LOCAL_MISSING_IMAGE,
)
from ecsload.cli import OneLineParser, UserError, run
from ecsload.commands.agent import check_agent_config
from ecsload.commands.roles import add_role_options, resolve_role, role_assignments
from ecsload.credentials import CredentialsError, load_credentials
from ecsload.exits import EXIT_CONFIG, EXIT_USAGE, exit_codes_help
from ecsload.model import USER_WEIGHTS, users_by_kind
from ecsload.report.baseline import (
    DEFAULT_RUN_NOISE_PERCENT,
    DEFAULT_TOLERANCE_PERCENT,
    BaselineError,
    check_baseline,
)
from ecsload.tls import NOT_VERIFIED, CABundleError, is_https, read_ca_bundle, tls_terms
from ecsload.values import (
    PROBE,
    json_count,
    json_flag,
    json_levels,
    json_percent,
    json_probe_rate,
    json_processes,
    json_rate,
    json_seconds,
    json_text,
    json_thresholds,
    option_type,
    parse_count,
    parse_endpoint,
    parse_image,
    parse_levels,
    parse_path,
    parse_pdf_path,
    parse_percent,
    parse_probe_rate,
    parse_processes,
    parse_rate,
    parse_seconds,
    parse_threshold,
    parse_thresholds,
    threshold_help,
)

PROG = "run_load_test.sh"
PATH_MAX = 4096  # Linux's limit on a path
RUN_FILES_ROOM = 120  # the longest path a run makes under its results folder, and then some
PROJECT_NEWRELIC_INI = Path(__file__).resolve().parents[2] / "newrelic.ini"


@dataclass(frozen=True)
class Setting:
    """One setting: its config key (also its plan.json key) and where else it may come from."""

    key: str
    shell: str | None  # the variable that run_load_test.sh reads; None: bash needs none
    default: Any
    from_text: Callable[[str], Any] | None  # an option's or environment variable's text
    from_json: Callable[[object], Any]  # a config file's value
    env: str | None = None
    help: str = ""
    refused_with: int = EXIT_CONFIG  # the exit code of a bad value from the config or environment

    @property
    def shell_default(self) -> str:
        return shell_text(self.default)


SETTINGS = (
    Setting(
        "concurrency",
        "LEVELS",
        [10, 15, 20, 25],
        parse_levels,
        json_levels,
        help="concurrency levels (users), one Locust run each",
    ),
    Setting(
        "number_of_requests",
        "REQUESTS",
        1000,
        parse_count,
        json_count,
        help="requests per level: a level ends once this many have completed",
    ),
    Setting(
        "hatch_rate",
        "HATCH_RATE",
        5,
        parse_rate,
        json_rate,
        help="users started per second; a level is measured once all its users run",
    ),
    Setting(
        "level_time_cap",
        "LEVEL_TIME_CAP",
        600,
        parse_seconds,
        json_seconds,
        help="seconds after which a level stops even if its requests are not done (at most "
        "a week); requests still unanswered then count as errors",
    ),
    Setting(
        "endpoint",
        "ENDPOINT",
        "",
        parse_endpoint,
        json_text(parse_endpoint),
        "ECS_ENDPOINT",
        help="the deployment, as scheme://host[:port] (the harness adds /v1.1); none: a local "
        "ECS node is started",
    ),
    Setting(
        "credentials",
        "CREDENTIALS",
        "",
        parse_path,
        json_text(parse_path),
        "ECS_CREDENTIALS",
        help="plaintext key:secret lines, as the creds command prints them (with no "
        "endpoint, the local node accepts these pairs)",
    ),
    Setting(
        "no_credentials",
        None,
        False,
        None,
        json_flag,
        help="the deployment has no authentication: send requests without credentials",
    ),
    Setting(
        "ca_bundle",
        "CA_BUNDLE",
        "",
        parse_path,
        json_text(parse_path),
        "ECS_CA_BUNDLE",
        help="a private CA's PEM certificate(s), trusted besides the system's CAs to verify "
        "the https endpoint",
    ),
    Setting(
        "insecure",
        "INSECURE",
        False,
        None,
        json_flag,
        help="do not verify the https endpoint's certificate (the plan and every level say so)",
    ),
    Setting(
        "happy_image",
        "HAPPY_IMAGE",
        DEFAULT_HAPPY_IMAGE,
        parse_image,
        json_text(parse_image),
        "ECS_HAPPY_IMAGE",
        help=f"image of Tasks-Happy-Path requests (local node: {LOCAL_HAPPY_IMAGE})",
    ),
    Setting(
        "missing_image",
        "MISSING_IMAGE",
        DEFAULT_MISSING_IMAGE,
        parse_image,
        json_text(parse_image),
        "ECS_MISSING_IMAGE",
        help="image of Tasks-Image-Not-Found requests, one that must not exist "
        f"(local node: {LOCAL_MISSING_IMAGE})",
    ),
    Setting(
        "newrelic",
        "NEWRELIC_CONFIG",
        "",
        parse_path,
        json_text(parse_path),
        "NEW_RELIC_CONFIG_FILE",
        help="run the local node under New Relic's agent with this config",
    ),
    Setting(
        "node_deployment",
        "NODE_DEPLOYMENT",
        "",
        parse_path,
        json_text(parse_path),
        help="a deployment.json whose api_rate_limiting the local node applies",
    ),
    Setting(
        "probe_rate",
        "PROBE_RATE",
        2,
        parse_probe_rate,
        json_probe_rate,
        help="requests per second of the probe, a GET _noop from a process of its own that "
        "shows the service's latency without the load generator's (0: no probe)",
    ),
    Setting(
        "processes",
        "PROCESSES",
        1,
        parse_processes,
        json_processes,
        help="Locust processes per level on this machine: N > 1 forks N workers under "
        "a master, -1 one per core",
    ),
    Setting(
        "graphs",
        "GRAPHS",
        "",
        parse_pdf_path,
        json_text(parse_pdf_path),
        help="also write the report's charts to this PDF, one page per chart group",
    ),
    Setting(
        "quiet",
        "QUIET",
        False,
        None,
        json_flag,
        help="no live line on stderr while a level runs",
    ),
    Setting(
        "thresholds",
        None,  # read by the verdict command from plan.json
        [],
        parse_thresholds,
        json_thresholds,
        help="pass/fail checks of every level's measured figures, e.g. p95<500, "
        "NoOp.p99<50, error%<1@top; any that fails: exit 6 (docs/verdicts.md)",
        refused_with=EXIT_USAGE,
    ),
    Setting(
        "baseline",
        None,  # read by the verdict command from plan.json
        "",
        parse_path,
        json_text(parse_path),
        help="an earlier run's results folder (same target) to compare this run with: "
        "comparison.txt, comparison.json",
    ),
    Setting(
        "tolerance",
        None,  # read by the verdict command from plan.json
        DEFAULT_TOLERANCE_PERCENT,
        parse_percent,
        json_percent,
        help="percent by which a percentile must change, beyond the noise, for the "
        "comparison to say slower or faster",
    ),
    Setting(
        "run_noise",
        None,  # read by the verdict command from plan.json
        DEFAULT_RUN_NOISE_PERCENT,
        parse_percent,
        json_percent,
        help="percent by which a percentile varies between two identical runs on this "
        "machine (bench/bench_false_alarms.py measures it); the comparison allows for it",
    ),
    Setting(
        "fail_on_regression",
        None,  # read by the verdict command from plan.json
        False,
        None,
        json_flag,
        help="exit 7 when the comparison with the baseline says slower",
    ),
)


def environment_help() -> str:
    width = max(len(s.env) for s in SETTINGS if s.env)
    lines = [
        textwrap.fill(
            s.help,
            width=79,
            initial_indent=f"  {s.env:<{width}}  ",
            subsequent_indent=" " * (width + 4),
        )
        for s in SETTINGS
        if s.env
    ]
    return "environment (overrides the config file; options override both):\n" + "\n".join(lines)


def config_help() -> str:
    keys = ", ".join(f"{s.key} ({s.shell_default or 'none'})" for s in SETTINGS)
    return (
        textwrap.fill(
            "CONFIG.json (optional): a JSON object with any of these keys, the settings "
            f"above (default): {keys}. A relative path in it (credentials, ca_bundle, "
            "baseline, …) is relative to the file's folder. For example:",
            width=79,
        )
        + '\n  {"number_of_requests": 1000, "hatch_rate": 5, "concurrency": [10, 15, 20, 25],'
        + '\n   "endpoint": "https://api.example.com", "credentials": "creds.txt"}'
    )


def commands_help() -> str:
    return (
        "other command:\n"
        "  run_load_test.sh report RUN_DIR [--graphs FILE.pdf]\n"
        "      (re)write RUN_DIR/report.html, and the PDF of its charts, for a run that\n"
        "      ended or was copied from CI (a sweep writes it by itself)"
    )


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        description=textwrap.fill(
            "Sweep concurrency levels with headless Locust against an ECS deployment "
            "(ECS_ENDPOINT) or a local ECS node, print a table per level and across levels, "
            "and write the run's report.html (charts and tables) into its results folder.",
            width=79,
        ),
        epilog="\n\n".join([commands_help(), environment_help(), config_help(), exit_codes_help()]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    settings = {s.key: s for s in SETTINGS}

    def add(flags: Sequence[str], key: str, metavar: str) -> None:
        s = settings[key]
        assert s.from_text is not None
        p.add_argument(
            *flags,
            dest=key,
            metavar=metavar,
            type=option_type(s.from_text),
            help=f"{s.help} (default: {s.shell_default or 'none'})",
        )

    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the resolved plan and where each level's files are",
    )
    add(["-c", "--concurrency"], "concurrency", '"10 15 20 25"')
    add(["-n", "--requests"], "number_of_requests", "N")
    add(["-r", "--hatch-rate"], "hatch_rate", "RATE")
    add(["-t", "--level-time-cap"], "level_time_cap", "SECONDS")
    add(["--happy-image"], "happy_image", "IMAGE")
    add(["--missing-image"], "missing_image", "IMAGE")
    p.add_argument(
        "--newrelic",
        nargs="?",
        metavar="INI",
        type=option_type(parse_path),
        const=str(PROJECT_NEWRELIC_INI),
        help="run the local node under New Relic's Python agent with INI "
        "(default: the project's newrelic.ini); see README, New Relic",
    )
    p.add_argument(
        "--no-credentials",
        dest="no_credentials",
        action="store_const",
        const=True,
        help="with ECS_ENDPOINT: the deployment has no authentication, send requests without "
        "credentials (without this, an endpoint needs ECS_CREDENTIALS)",
    )
    add(["--ca-bundle"], "ca_bundle", "FILE")
    p.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help=f"{settings['insecure'].help} (default: verify its chain and name)",
    )
    add(["--probe-rate"], "probe_rate", "R")
    add(["--processes"], "processes", "N")
    p.add_argument(
        "--fail-on",
        dest="thresholds",
        metavar="EXPR",
        action="extend",
        type=option_type(parse_thresholds),
        help=(
            "a threshold (repeat, or separate with commas): "
            + threshold_help()
            + "; checked at every level unless @USERS or @top names one; any that fails: exit 6"
        ).replace("%", "%%"),
    )
    add(["--baseline"], "baseline", "DIR")
    add(["--tolerance"], "tolerance", "PCT")
    add(["--run-noise"], "run_noise", "PCT")
    p.add_argument(
        "--fail-on-regression",
        dest="fail_on_regression",
        action="store_const",
        const=True,
        help="exit 7 when the comparison with --baseline says slower (default: false)",
    )
    p.add_argument(
        "--node-deployment",
        dest="node_deployment",
        metavar="FILE",
        type=option_type(parse_path),
        help="a deployment.json whose api_rate_limiting the local node applies, "
        "as nginx does in front of a real node (default: no limits)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=True,
        help="no live line on stderr while a level runs (default: on a terminal the line is "
        "redrawn each second, elsewhere printed every 10 s)",
    )
    add(["--graphs"], "graphs", "FILE.pdf")
    p.add_argument(
        "-o",
        "--results",
        metavar="DIR",
        type=option_type(parse_path),
        default="results",
        help="folder under which this run's folder YYYYmmdd-HHMMSS (UTC) is made "
        "(default: ./results)",
    )
    p.add_argument("config", nargs="?", metavar="CONFIG.json", help="optional config file")
    add_role_options(p)
    return p


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
    if not values["endpoint"]:
        local_images = {"happy_image": LOCAL_HAPPY_IMAGE, "missing_image": LOCAL_MISSING_IMAGE}
        for key, image in local_images.items():
            if sources[key] == "default":
                values[key], sources[key] = image, "default for the local node"
    for key in ("credentials", "ca_bundle", "newrelic", "node_deployment", "graphs", "baseline"):
        if values[key] and sources[key].startswith("config"):
            values[key] = os.path.abspath(Path(options.config).parent / values[key])
        elif values[key]:
            values[key] = os.path.abspath(values[key])
    return values, sources


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


def shell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def assignments(run_dir: Path, values: Mapping[str, Any], verbose: bool) -> str:
    """The shell code that run_load_test.sh evals; RUN_DIR always comes first."""
    pairs = [("RUN_DIR", str(run_dir))]
    pairs += [(s.shell, shell_text(values[s.key])) for s in SETTINGS if s.shell]
    pairs.append(("VERBOSE", "1" if verbose else "0"))
    return "".join(f"{name}={shlex.quote(text)}\n" for name, text in pairs)


def plan_text(
    run_dir: Path, values: Mapping[str, Any], sources: Mapping[str, str], notes: Sequence[str]
) -> str:
    """The plan as -v prints it: each setting and its source, what each level runs, its notes."""
    lines = [f"Plan of run '{run_dir}':"]
    for s in SETTINGS:
        text = shell_text(values[s.key]) or ("local ECS node" if s.key == "endpoint" else "none")
        lines.append(f"  {s.key:<19} {text:<40} ({sources[s.key]})")
    for users in values["concurrency"]:
        mix = ", ".join(
            f"{kind.removesuffix('User')} {count}"
            for kind, count in users_by_kind(users, USER_WEIGHTS).items()
        )
        ramp = users / values["hatch_rate"]
        lines.append(f"  {f'level {users}':<19} ramp {ramp:.1f} s; users {mix}")
    lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"


def ignore_local_node_settings(values: dict[str, Any], sources: Mapping[str, str]) -> None:
    """Drop, with a note each, the settings that only a local node can use."""
    why = {
        "newrelic": "the New Relic agent runs on the deployment's nodes, not here "
        "(see README, New Relic)",
        "node_deployment": "a deployment's limits are set when it is spun up "
        "(see README, Rate limiting)",
    }
    for key, reason in why.items():
        if values[key]:
            sys.stderr.write(
                f"{PROG}: note: {sources[key]} ignored against ECS_ENDPOINT: {reason}\n"
            )
            values[key] = ""


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
            EXIT_CONFIG,
        )


def check_node_deployment(path: str, source: str) -> None:
    """The local node's deployment.json, checked by the node's own reader before anything
    starts (imported here only: it needs jsonschema, from the venv)."""
    from ecsnode.deployment import DeploymentError, read_deployment

    try:
        read_deployment(path)
    except DeploymentError as error:
        raise UserError(f"node_deployment from {source}: {error}", EXIT_CONFIG) from None


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
            raise UserError(f"{sources['ca_bundle']}: {error}", EXIT_CONFIG) from None


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
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_verdict_settings(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Thresholds that name a level or the probe this run will not have (exit 1), a
    regression exit without a baseline (exit 1), and a baseline that does not fit (exit 2)."""
    for text in values["thresholds"]:
        threshold = parse_threshold(text)
        if isinstance(threshold.level, int) and threshold.level not in values["concurrency"]:
            levels = " ".join(map(str, values["concurrency"]))
            raise UserError(
                f"threshold {text!r}: this run has no level of {threshold.level} users "
                f"(its levels: {levels})",
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
    if values["baseline"]:
        try:
            check_baseline(Path(values["baseline"]), values["endpoint"])
        except BaselineError as error:
            raise UserError(
                f"{sources['baseline']}: baseline {values['baseline']}: {error}", EXIT_CONFIG
            ) from None


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
    check_credentials_fit(values, sources)
    if values["node_deployment"]:
        check_node_deployment(values["node_deployment"], sources["node_deployment"])
    if role["role"] != "worker":
        check_verdict_settings(values, sources)
    run_dir = make_run_dir(options.results)
    tls_notes = [NOT_VERIFIED] if values["insecure"] else []
    warning = clear_text_warning(values, sources)
    if warning:
        sys.stderr.write(f"{PROG}: {warning}\n")
    plan = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_dir": str(run_dir),
        **{key: None if value == "" else value for key, value in values.items()},
        "sources": sources,
        "distribution": role,
        "tls": tls_terms(values["endpoint"], values["insecure"], values["ca_bundle"]),
        "notes": [*tls_notes, *([warning] if warning else [])],
    }
    (run_dir / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    if options.verbose:
        sys.stderr.write(plan_text(run_dir, values, sources, tls_notes))
    sys.stdout.write(assignments(run_dir, values, options.verbose) + role_assignments(role))
    return 0


if __name__ == "__main__":
    run(main, PROG)
