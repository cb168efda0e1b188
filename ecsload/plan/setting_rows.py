"""Every setting a run has, where each may come from, and the command line that sets them.

A setting is a `Setting` row: its config key (also its plan.json key), the shell
variable bash reads, its default, how its text (option, environment) and its
config-file value are parsed, its environment variable. To add one: add a row
and, when it has one, its option in `parser`. Standard library only: `--help`
runs on bare python3.
"""

import argparse
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecsload.api import (
    DEFAULT_HAPPY_IMAGE,
    DEFAULT_MISSING_IMAGE,
    LOCAL_HAPPY_IMAGE,
    LOCAL_MISSING_IMAGE,
)
from ecsload.cli import OneLineParser
from ecsload.exits import EXIT_CONFIG, EXIT_USAGE, exit_codes_help
from ecsload.helptext import help_row
from ecsload.history_location import LABEL_VARIABLES, parse_history, parse_label
from ecsload.plan.distribution import add_role_options
from ecsload.report.baseline import DEFAULT_RUN_NOISE_PERCENT, DEFAULT_TOLERANCE_PERCENT
from ecsload.values import (
    json_count,
    json_duration,
    json_flag,
    json_levels,
    json_max_in_flight,
    json_percent,
    json_probe_rate,
    json_processes,
    json_rate,
    json_rates,
    json_repeat,
    json_seconds,
    json_text,
    json_thresholds,
    json_warmup,
    option_type,
    parse_arrivals,
    parse_baseline,
    parse_count,
    parse_duration,
    parse_endpoint,
    parse_image,
    parse_levels,
    parse_max_in_flight,
    parse_path,
    parse_pdf_path,
    parse_percent,
    parse_probe_rate,
    parse_processes,
    parse_rate,
    parse_rates,
    parse_repeat,
    parse_seconds,
    parse_thresholds,
    parse_warmup,
    threshold_help,
)

PROG = "run_load_test.sh"
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
        "rates",
        "RATES",
        [],
        parse_rates,
        json_rates,
        help="arrival rates (requests/s), one level each, instead of concurrency levels: "
        "requests arrive on a schedule and are timed from it (README, Closed or open model)",
    ),
    Setting(
        "arrivals",
        "ARRIVALS",
        "constant",
        parse_arrivals,
        json_text(parse_arrivals),
        help="with --rates: constant (evenly spaced) or poisson (random) arrivals",
    ),
    Setting(
        "max_in_flight",
        "MAX_IN_FLIGHT",
        0,
        parse_max_in_flight,
        json_max_in_flight,
        help="with --rates: requests in flight at most (keep-alive connections); an arrival "
        "beyond is an error, dropped (0: the top rate's 1.5 s of arrivals, at least 100)",
    ),
    Setting(
        "number_of_requests",
        "REQUESTS",
        1000,
        parse_count,
        json_count,
        help="requests per level: a level ends once this many have completed (the quick "
        "sweep's default; -d measures for a time instead)",
    ),
    Setting(
        "level_seconds",
        "LEVEL_SECONDS",
        "",
        parse_duration,
        json_duration,
        help="seconds each level is measured (after its ramp and warmup) instead of a "
        "number of requests: a timed level; give -n or -d, not both",
    ),
    Setting(
        "warmup",
        "WARMUP",
        0,
        parse_warmup,
        json_warmup,
        help="seconds after the ramp, at the level's full concurrency, whose requests are "
        "recorded (phase warmup) but not counted",
    ),
    Setting(
        "repeat",
        "REPEAT",
        1,
        parse_repeat,
        json_repeat,
        help="run the sweep's levels this many times, interleaved (10 15 20, 10 15 20, …); "
        "each repeat's files in level-N/repeat-R/, the tables over all of them",
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
        help="with ECS_ENDPOINT: the deployment has no authentication, send requests without "
        "credentials",
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
        "a master, -1 one per core; at most the smallest level's users",
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
        parse_baseline,
        json_text(parse_baseline),
        help="what to compare this run with: an earlier run's results folder (same target), "
        "or from the history: last (the previous run), label:X (the last run labelled X), "
        "history[:N] (the last N runs, default 10); comparison.txt, comparison.json",
    ),
    Setting(
        "baseline_any_endpoint",
        None,  # read by the plan's check of the baseline
        False,
        None,
        json_flag,
        help="compare with a baseline run against another endpoint, on purpose (blue/green, "
        "canary)",
    ),
    Setting(
        "tolerance",
        None,  # read by the verdict command from plan.json
        DEFAULT_TOLERANCE_PERCENT,
        parse_percent,
        json_percent,
        help="percent by which a figure (percentile, goodput) must change, beyond the noise "
        "both runs show, for the comparison to say slower or faster",
    ),
    Setting(
        "run_noise",
        None,  # read by the verdict command from plan.json
        DEFAULT_RUN_NOISE_PERCENT,
        parse_percent,
        json_percent,
        help="an optional floor under the noise the runs measure themselves: percent by "
        "which a figure varies between two identical runs (bench/bench_false_alarms.py)",
    ),
    Setting(
        "fail_on_regression",
        None,  # read by the verdict command from plan.json
        False,
        None,
        json_flag,
        help="exit 7 when the comparison with --baseline says slower",
    ),
    Setting(
        "history",
        "HISTORY",
        "",
        parse_history,
        json_text(parse_history),
        "ECS_LOAD_HISTORY",
        help="the history each run is added to: a SQLite file or a postgresql:// URL; "
        "docs/history.md",
    ),
    Setting(
        "no_history",
        None,
        False,
        None,
        json_flag,
        help="do not add this run to the history",
    ),
    Setting(
        "label",
        None,  # read by the history command from plan.json
        "",
        parse_label,
        json_text(parse_label),
        help="this run's label in the history, e.g. a commit or build (none: the CI's "
        + ", ".join(LABEL_VARIABLES)
        + ")",
    ),
)


def environment_help() -> str:
    width = max(len(s.env) for s in SETTINGS if s.env)
    lines = [help_row(f"{s.env:<{width}}", s.help) for s in SETTINGS if s.env]
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
        "other commands:\n"
        "  run_load_test.sh report RUN_DIR [--graphs FILE.pdf]\n"
        "      (re)write RUN_DIR/report.html, and the PDF of its charts, for a run that\n"
        "      ended or was copied from CI (a sweep writes it by itself)\n"
        "  run_load_test.sh history [--last N] [--endpoint URL] [--level N] [--json]\n"
        "  run_load_test.sh history import RUN_DIR...  |  history prune --keep N\n"
        "      the runs of the history, per level p95, req/s, trends and change points\n"
        "      (run_load_test.sh history --help; docs/history.md)"
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

    def flag(flags: Sequence[str], key: str, note: str) -> None:
        """An on/off setting: left out, it is None, so the environment or config decides."""
        p.add_argument(
            *flags,
            dest=key,
            action="store_const",
            const=True,
            help=f"{settings[key].help} ({note})",
        )

    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the resolved plan and where each level's files are",
    )
    add(["-c", "--concurrency"], "concurrency", '"10 15 20 25"')
    add(["--rates"], "rates", '"50 100 200"')
    add(["--arrivals"], "arrivals", "constant|poisson")
    add(["--max-in-flight"], "max_in_flight", "N")
    add(["-n", "--requests"], "number_of_requests", "N")
    add(["-d", "--level-seconds"], "level_seconds", "SECONDS")
    add(["--warmup"], "warmup", "SECONDS")
    add(["--repeat"], "repeat", "K")
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
    flag(["--no-credentials"], "no_credentials", "without this, an endpoint needs ECS_CREDENTIALS")
    add(["--ca-bundle"], "ca_bundle", "FILE")
    flag(["--insecure"], "insecure", "default: verify its chain and name")
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
    add(["--baseline"], "baseline", "DIR|last|label:X|history[:N]")
    flag(["--baseline-any-endpoint"], "baseline_any_endpoint", "default: the same endpoint")
    add(["--tolerance"], "tolerance", "PCT")
    add(["--run-noise"], "run_noise", "PCT")
    flag(["--fail-on-regression"], "fail_on_regression", "default: false")
    p.add_argument(
        "--history",
        dest="history",
        metavar="PATH|URL",
        type=option_type(parse_history),
        help=f"{settings['history'].help} (default: history.sqlite in the results folder)",
    )
    flag(["--no-history"], "no_history", "default: every run is added")
    add(["--label"], "label", "TEXT")
    p.add_argument(
        "--node-deployment",
        dest="node_deployment",
        metavar="FILE",
        type=option_type(parse_path),
        help="a deployment.json whose api_rate_limiting the local node applies, "
        "as nginx does in front of a real node (default: no limits)",
    )
    flag(
        ["-q", "--quiet"],
        "quiet",
        "default: on a terminal the line is redrawn each second, elsewhere printed every 10 s",
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


def shell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)
