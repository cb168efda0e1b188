"""Every setting a run has, where each may come from, and the command line that sets them.

A setting is declared once, as a `Setting` row: its config key (also its
plan.json key), the shell variable bash reads (if bash needs it), its default,
how its text (option, environment) and its config-file value are parsed, its
environment variable, its option (flags, metavar, --help text) and the
locustfile option that carries it to every level. `parser` makes the command
line from the rows, ecsload.plugin.options the locustfile's options, and
ecsload.plan.locust_command passes them to Locust. To add a setting: add a row,
put its key in OPTION_ORDER (where --help shows it) and use it (plan.json has
it; a row with `locust` reaches the level as `level_options(env).<its name>`).
A base module, below the plan and the plugin that both read it; standard
library only: `--help` runs on bare python3.
"""

import argparse
import textwrap
from collections.abc import Callable
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
from ecsload.exits import exit_codes_help
from ecsload.helptext import help_row
from ecsload.history_location import LABEL_VARIABLES, parse_history, parse_label
from ecsload.model import ARRIVALS_PER_PROCESS
from ecsload.values import (
    AUTO,
    json_count,
    json_duration,
    json_flag,
    json_levels,
    json_max_in_flight,
    json_node_delay,
    json_percent,
    json_probe_rate,
    json_processes,
    json_rate,
    json_rates,
    json_ratio,
    json_repeat,
    json_resolution,
    json_seconds,
    json_slo,
    json_text,
    json_thresholds,
    json_warmup,
    json_whole,
    option_type,
    parse_arrivals,
    parse_baseline,
    parse_count,
    parse_count_or_zero,
    parse_duration,
    parse_endpoint,
    parse_image,
    parse_levels,
    parse_metrics_url,
    parse_node_delay,
    parse_path,
    parse_pdf_path,
    parse_percent,
    parse_probe_rate,
    parse_processes,
    parse_rate,
    parse_rates,
    parse_ratio,
    parse_repeat,
    parse_resolution,
    parse_seconds,
    parse_slo,
    parse_thresholds,
    parse_token_file,
    parse_warmup,
    parse_word,
    threshold_help,
    whole_number,
)

PROG = "run_load_test.sh"
SEARCH = "run_load_test.sh capacity (docs/capacity.md)"
SEARCH_HELP = textwrap.fill(
    "Instead of a sweep, a search for the highest arrival rate that holds the SLO: rates "
    "grow from --min-rate until a step breaks it, are bisected to --resolution, and the "
    "answer is confirmed by a step 3x as long; each step is measured for -d seconds "
    "(default 5). Exit 0 when the search ended; --fail-on 'capacity>=R' makes it a gate.",
    width=79,
)
MACHINES = "several machines (see docs/scale.md)"
MACHINES_HELP = textwrap.fill(
    "The master runs no users: it sweeps the levels, hands the workers their share of each "
    "level's requests and gathers their samples. Each worker machine runs "
    "`run_load_test.sh --worker --master-host HOST` and follows the whole sweep.",
    width=79,
)
PROJECT_NEWRELIC_INI = Path(__file__).resolve().parents[1] / "newrelic.ini"


# The comparison's defaults (ecsload.analysis.comparison reads them from here): docs/verdicts.md
# tells how they were chosen.
DEFAULT_TOLERANCE_PERCENT = 10
DEFAULT_RUN_NOISE_PERCENT = 0  # an optional floor: the runs measure their own noise


@dataclass(frozen=True)
class Setting:
    """One setting: its config key (also its plan.json key) and where else it may come from:
    its option, its environment variable, and the locustfile's option that carries it to
    every level (ecsload.plugin.options declares that one from this row)."""

    key: str
    shell: str | None  # the variable that run_load_test.sh reads; None: bash needs none
    default: Any
    from_text: Callable[[str], Any] | None  # an option's or environment variable's text
    from_json: Callable[[object], Any]  # a config file's value
    env: str | None = None
    help: str = ""
    flags: tuple[str, ...] = ()  # its option; none: set by the environment or config only
    metavar: str = ""  # "": an on/off option (a flag)
    note: str | None = ""  # --help's parenthesis after help: "" says the default, None none
    option_help: str = ""  # --help's whole text, where it differs from help and note
    const: str | None = None  # the value of the option given without one (nargs="?")
    repeatable: bool = False  # each use of the option adds to the list
    group: str = ""  # the --help group ("": the main options)
    locust: str = ""  # the locustfile's option that carries the value to each level
    locust_default: Any = None  # that option's default, where not the setting's (None: it is)

    @property
    def shell_default(self) -> str:
        return shell_text(self.default)

    @property
    def locust_default_value(self) -> Any:
        """The default of the locustfile's option: what a level has when it is left out."""
        return self.default if self.locust_default is None else self.locust_default


SETTINGS = (
    Setting(
        "concurrency",
        "LEVELS",
        [10, 15, 20, 25],
        parse_levels,
        json_levels,
        help="concurrency levels (users), one Locust run each",
        flags=("-c", "--concurrency"),
        metavar='"10 15 20 25"',
    ),
    Setting(
        "rates",
        "RATES",
        [],
        parse_rates,
        json_rates,
        help="arrival rates (requests/s), one level each, instead of concurrency levels: "
        "requests arrive on a schedule and are timed from it (docs/tables.md, Closed or open "
        "model)",
        flags=("--rates",),
        metavar='"50 100 200"',
    ),
    Setting(
        "arrivals",
        None,  # carried to Locust by its locustfile option
        "constant",
        parse_arrivals,
        json_text(parse_arrivals),
        help="with --rates: constant (evenly spaced) or poisson (random) arrivals",
        flags=("--arrivals",),
        metavar="constant|poisson",
        locust="--arrivals",
    ),
    Setting(
        "max_in_flight",
        None,  # carried to Locust by its locustfile option
        0,
        parse_count_or_zero,
        json_max_in_flight,
        help="with --rates: requests in flight at most (keep-alive connections); an arrival "
        "beyond is an error, dropped (0: the top rate's 1.5 s of arrivals, at least 100)",
        flags=("--max-in-flight",),
        metavar="N",
        locust="--max-in-flight",
    ),
    Setting(
        "number_of_requests",
        None,
        1000,
        parse_count,
        json_count,
        help="requests per level: a level ends once this many have completed (the quick "
        "sweep's default; -d measures for a time instead)",
        flags=("-n", "--requests"),
        metavar="N",
        locust="--stop-after-requests",
        locust_default=0,  # Locust alone (a test, a worker): no request limit
    ),
    Setting(
        "level_seconds",
        None,  # carried to Locust by its locustfile option
        "",
        parse_duration,
        json_duration,
        help="seconds each level is measured (after its ramp and warmup) instead of a "
        "number of requests: a timed level; give -n or -d, not both",
        flags=("-d", "--level-seconds"),
        metavar="SECONDS",
        locust="--level-seconds",
    ),
    Setting(
        "warmup",
        None,  # carried to Locust by its locustfile option
        0,
        parse_warmup,
        json_warmup,
        help="seconds after the ramp, at the level's full concurrency, whose requests are "
        "recorded (phase warmup) but not counted",
        flags=("--warmup",),
        metavar="SECONDS",
        locust="--warmup-seconds",
    ),
    Setting(
        "repeat",
        "REPEAT",
        1,
        parse_repeat,
        json_repeat,
        help="run the sweep's levels this many times, interleaved (10 15 20, 10 15 20, …); "
        "each repeat's files in level-N/repeat-R/, the tables over all of them",
        flags=("--repeat",),
        metavar="K",
    ),
    Setting(
        "hatch_rate",
        None,  # carried to Locust by its locustfile option
        5,
        parse_rate,
        json_rate,
        help="users started per second; a level is measured once all its users run",
        flags=("-r", "--hatch-rate"),
        metavar="RATE",
    ),
    Setting(
        "level_time_cap",
        None,
        600,
        parse_seconds,
        json_seconds,
        help="seconds after which a level stops even if its requests are not done (at most "
        "a week); requests still unanswered then count as errors",
        flags=("-t", "--level-time-cap"),
        metavar="SECONDS",
    ),
    Setting(
        "request_timeout",
        None,
        60,  # FastHttpUser's
        parse_duration,
        json_duration,
        help="seconds a request may wait to connect, or for the next bytes of its answer, "
        "before it counts as an error (no answer)",
        flags=("--request-timeout",),
        metavar="SECONDS",
        locust="--request-timeout",
    ),
    Setting(
        "trace_sample",
        None,  # carried to Locust by its locustfile option
        0,
        parse_ratio,
        json_ratio,
        "ECS_LOAD_TRACE_SAMPLE",
        help="the share of requests (0 to 1) whose W3C traceparent header says sampled; "
        "every request carries one, its trace id in samples.csv (docs/metrics.md)",
        flags=("--trace-sample",),
        metavar="RATIO",
        locust="--trace-sample",
    ),
    Setting(
        "remote_write",
        None,  # carried to Locust by its locustfile option
        "",
        parse_metrics_url,
        json_text(parse_metrics_url),
        "ECS_LOAD_REMOTE_WRITE",
        help="push live metrics every 2 s to this Prometheus remote-write URL, e.g. "
        "http://127.0.0.1:9090/api/v1/write (docs/metrics.md); a receiver that is down "
        "costs a WARNING, never the run",
        flags=("--remote-write",),
        metavar="URL",
        locust="--remote-write",
    ),
    Setting(
        "otlp",
        None,  # carried to Locust by its locustfile option
        "",
        parse_metrics_url,
        json_text(parse_metrics_url),
        "ECS_LOAD_OTLP",
        help="push the same live metrics every 2 s over OTLP/HTTP to this URL, e.g. "
        "http://127.0.0.1:4318/v1/metrics (an OpenTelemetry collector; docs/metrics.md)",
        flags=("--otlp",),
        metavar="URL",
        locust="--otlp",
    ),
    Setting(
        "metrics_credentials",
        None,  # carried to Locust by its locustfile option (the path, never the secret)
        "",
        parse_path,
        json_text(parse_path),
        "ECS_LOAD_METRICS_CREDENTIALS",
        help="the metrics receivers' credentials (--remote-write, --otlp): a file whose first "
        "line is `bearer TOKEN` or `basic USER:PASSWORD`",
        flags=("--metrics-credentials",),
        metavar="FILE",
        locust="--metrics-credentials",
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
        metavar="FILE",
        locust="--ecs-credentials",
    ),
    Setting(
        "no_credentials",
        None,
        False,
        None,
        json_flag,
        help="with ECS_ENDPOINT: the deployment has no authentication, send requests without "
        "credentials",
        flags=("--no-credentials",),
        note="without this, an endpoint needs ECS_CREDENTIALS",
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
        flags=("--ca-bundle",),
        metavar="FILE",
        locust="--ca-bundle",
    ),
    Setting(
        "insecure",
        "INSECURE",
        False,
        None,
        json_flag,
        help="do not verify the https endpoint's certificate (the plan and every level say so)",
        flags=("--insecure",),
        note="default: verify its chain and name",
        locust="--insecure",
    ),
    Setting(
        "happy_image",
        "HAPPY_IMAGE",
        DEFAULT_HAPPY_IMAGE,
        parse_image,
        json_text(parse_image),
        "ECS_HAPPY_IMAGE",
        help=f"image of Tasks-Happy-Path requests (local node: {LOCAL_HAPPY_IMAGE})",
        flags=("--happy-image",),
        metavar="IMAGE",
        locust="--happy-image",
    ),
    Setting(
        "missing_image",
        None,  # carried to Locust by its locustfile option
        DEFAULT_MISSING_IMAGE,
        parse_image,
        json_text(parse_image),
        "ECS_MISSING_IMAGE",
        help="image of Tasks-Image-Not-Found requests, one that must not exist "
        f"(local node: {LOCAL_MISSING_IMAGE})",
        flags=("--missing-image",),
        metavar="IMAGE",
        locust="--missing-image",
    ),
    Setting(
        "newrelic",
        "NEWRELIC_CONFIG",
        "",
        parse_path,
        json_text(parse_path),
        "NEW_RELIC_CONFIG_FILE",
        help="run the local node under New Relic's agent with this config",
        flags=("--newrelic",),
        metavar="INI",
        const=str(PROJECT_NEWRELIC_INI),
        option_help="run the local node under New Relic's Python agent with INI "
        "(default: the project's newrelic.ini); see docs/newrelic.md",
    ),
    Setting(
        "node_deployment",
        "NODE_DEPLOYMENT",
        "",
        parse_path,
        json_text(parse_path),
        help="a deployment.json whose api_rate_limiting the local node applies, "
        "as nginx does in front of a real node",
        flags=("--node-deployment",),
        metavar="FILE",
        note="default: no limits",
    ),
    Setting(
        "node_delay",
        "NODE_DELAY",
        [],
        parse_node_delay,
        json_node_delay,
        help="milliseconds the local node adds to each answer (its --delay): MS on every "
        "endpoint, or NAME=MS[,NAME=MS] with NAME noop, version, health or tasks; to see "
        "the harness against a slower service",
        flags=("--node-delay",),
        metavar="MS|NAME=MS",
        note="default: none",
    ),
    Setting(
        "probe_rate",
        None,
        2,
        parse_probe_rate,
        json_probe_rate,
        help="requests per second of the probe, a GET _noop from a process of its own that "
        "shows the service's latency without the load generator's (0: no probe)",
        flags=("--probe-rate",),
        metavar="R",
    ),
    Setting(
        "processes",
        None,  # in Locust's command line (ecsload.plan.locust_command)
        AUTO,  # resolved to a number by the plan (ecsload.plan.distribution)
        parse_processes,
        json_processes,
        help="Locust processes per level on this machine: N > 1 forks N workers under "
        "a master, -1 one per core; at most the smallest level's users. auto: 1, except "
        f"with --rates above one process's rate ({ARRIVALS_PER_PROCESS:,}/s), as many as the "
        "top rate needs, up to one per core less one for the local node",
        flags=("--processes",),
        metavar="N",
    ),
    Setting(
        "graphs",
        "GRAPHS",
        "",
        parse_pdf_path,
        json_text(parse_pdf_path),
        help="also write the report's charts to this PDF, one page per chart group",
        flags=("--graphs",),
        metavar="FILE.pdf",
    ),
    Setting(
        "quiet",
        None,
        False,
        None,
        json_flag,
        help="no live line on stderr while a level runs",
        flags=("-q", "--quiet"),
        note="default: on a terminal the line is redrawn each second, elsewhere printed every 10 s",
    ),
    Setting(
        "thresholds",
        None,  # read by the verdict command from plan.json
        [],
        parse_thresholds,
        json_thresholds,
        help="a threshold (repeat, or separate with commas): "
        + threshold_help()
        + "; checked at every level unless @USERS (@RATE with --rates) or @top names one; "
        "any that fails: exit 6",
        flags=("--fail-on",),
        metavar="EXPR",
        note=None,
        repeatable=True,
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
        flags=("--baseline",),
        metavar="DIR|last|label:X|history[:N]",
    ),
    Setting(
        "baseline_any_endpoint",
        None,  # read by the plan's check of the baseline
        False,
        None,
        json_flag,
        help="compare with a baseline run against another endpoint, on purpose (blue/green, "
        "canary)",
        flags=("--baseline-any-endpoint",),
        note="default: the same endpoint",
    ),
    Setting(
        "baseline_optional",
        None,  # read by the plan's check of the baseline
        False,
        None,
        json_flag,
        help="with a history baseline that has no run yet (a first CI job): run, record and "
        "pass uncompared instead of refusing --fail-on-regression (exit 2)",
        flags=("--baseline-optional",),
        note="default: a gate needs its baseline",
    ),
    Setting(
        "tolerance",
        None,  # read by the verdict command from plan.json
        DEFAULT_TOLERANCE_PERCENT,
        parse_percent,
        json_percent,
        help="percent by which a figure (percentile, goodput) must change, beyond the noise "
        "both runs show, for the comparison to say slower or faster",
        flags=("--tolerance",),
        metavar="PCT",
    ),
    Setting(
        "run_noise",
        None,  # read by the verdict command from plan.json
        DEFAULT_RUN_NOISE_PERCENT,
        parse_percent,
        json_percent,
        help="an optional floor under the noise the runs measure themselves: percent by "
        "which a figure varies between two identical runs (bench/bench_false_alarms.py)",
        flags=("--run-noise",),
        metavar="PCT",
    ),
    Setting(
        "fail_on_regression",
        None,  # read by the verdict command from plan.json
        False,
        None,
        json_flag,
        help="exit 7 when the comparison with --baseline says slower",
        flags=("--fail-on-regression",),
        note="default: false",
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
        flags=("--history",),
        metavar="PATH|URL",
        note="default: history.sqlite in the results folder",
    ),
    Setting(
        "no_history",
        None,
        False,
        None,
        json_flag,
        help="do not add this run to the history",
        flags=("--no-history",),
        note="default: every run is added",
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
        flags=("--label",),
        metavar="TEXT",
    ),
    Setting(
        "results",
        None,  # the run folder is made by the plan, which prints its path
        "results",
        parse_path,
        json_text(parse_path),
        help="folder under which this run's folder YYYYmmdd-HHMMSS (UTC) is made",
        flags=("-o", "--results"),
        metavar="DIR",
        note="default: ./results",
    ),
    Setting(
        "slo",
        None,  # read by the capacity command from plan.json
        [],
        parse_slo,
        json_slo,
        help="the objective a search step must hold, with its figure's whole 95% interval "
        "(repeat, or separate with commas): as --fail-on reads it, without @; e.g. p99<50, "
        "error%<1, Tasks-Happy-Path.p95<200",
        flags=("--slo",),
        metavar="EXPR",
        note=None,
        repeatable=True,
        group=SEARCH,
    ),
    Setting(
        "min_rate",
        None,
        50,
        parse_count,
        json_count,
        help="the search's first rate (requests/s); it grows 2x a step from there",
        flags=("--min-rate",),
        metavar="R",
        group=SEARCH,
    ),
    Setting(
        "max_rate",
        None,
        10_000,
        parse_count,
        json_count,
        help="the highest rate the search tries: held there, the answer is 'at least' it",
        flags=("--max-rate",),
        metavar="R",
        group=SEARCH,
    ),
    Setting(
        "resolution",
        None,
        5,
        parse_resolution,
        json_resolution,
        help="percent: the search bisects until the lowest rate that broke is within this "
        "of the highest that held",
        flags=("--resolution",),
        metavar="PCT",
        group=SEARCH,
    ),
    Setting(
        "master",
        None,  # the plan prints the role (ecsload.plan.distribution)
        False,
        None,
        json_flag,
        help="run each level as a Locust master (needs ECS_ENDPOINT)",
        flags=("--master",),
        note=None,
        group=MACHINES,
    ),
    Setting(
        "expect_workers",
        None,
        1,
        whole_number(1, 10_000),
        json_whole(1, 10_000),
        help="master: workers to wait for before each level starts",
        flags=("--expect-workers",),
        metavar="N",
        group=MACHINES,
    ),
    Setting(
        "master_bind_host",
        None,
        "*",
        parse_word,
        json_text(parse_word),
        help="master: interface to listen on for workers",
        flags=("--master-bind-host",),
        metavar="ADDRESS",
        note="default: * = every interface; the port is unauthenticated, so firewall it",
        group=MACHINES,
    ),
    Setting(
        "worker",
        None,
        False,
        None,
        json_flag,
        help="run Locust workers for every level of a master's sweep",
        flags=("--worker",),
        note=None,
        group=MACHINES,
    ),
    Setting(
        "master_host",
        None,
        "",
        parse_word,
        json_text(parse_word),
        help="worker: the master's host name or address",
        flags=("--master-host",),
        metavar="HOST",
        note=None,
        group=MACHINES,
    ),
    Setting(
        "master_port",
        None,
        5557,  # Locust's
        whole_number(1, 65535),
        json_whole(1, 65535),
        help="master and worker: the master's port",
        flags=("--master-port",),
        metavar="PORT",
        group=MACHINES,
    ),
    Setting(
        "master_token_file",
        None,
        "",
        parse_token_file,
        json_text(parse_token_file),
        "ECS_LOAD_MASTER_TOKEN_FILE",
        help="master and worker: a file holding the run's secret, the same on every machine: "
        "the master drops a harness message without it (docs/scale.md)",
        flags=("--master-token-file",),
        metavar="FILE",
        note="default: none, the master checks nothing (--processes' workers share a random "
        "token of their own)",
        group=MACHINES,
        locust="--master-token-file",
    ),
    Setting(
        "worker_wait",
        None,
        120,
        whole_number(1, 86_400),
        json_whole(1, 86_400),
        help="master, and --processes: seconds to wait for the workers before a level gives up",
        flags=("--worker-wait",),
        metavar="SECONDS",
        group=MACHINES,
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
        "  run_load_test.sh capacity --slo EXPR [--min-rate R] [--max-rate R] [options]\n"
        "      the highest arrival rate that holds the SLO, with its interval and what\n"
        "      limited it (the search's options below; docs/capacity.md)\n"
        "  run_load_test.sh report RUN_DIR [--graphs FILE.pdf]\n"
        "      (re)write RUN_DIR/report.html, and the PDF of its charts, for a run that\n"
        "      ended or was copied from CI (a sweep writes it by itself)\n"
        "  run_load_test.sh history [--last N] [--endpoint URL] [--level N] [--json]\n"
        "  run_load_test.sh history import RUN_DIR...  |  history prune --keep N\n"
        "      the runs of the history, per level p95, req/s, trends and change points\n"
        "      (run_load_test.sh history --help; docs/history.md)"
    )


def option_text(s: Setting) -> str:
    """What --help says of a setting's option."""
    if s.option_help:
        text = s.option_help
    elif s.note is None:
        text = s.help
    else:
        text = f"{s.help} ({s.note or 'default: ' + (s.shell_default or 'none')})"
    return text.replace("%", "%%")


def add_option(group: Any, s: Setting) -> None:
    """The setting's option: left out, it is None, so the environment or config decides."""
    if not s.metavar:
        group.add_argument(
            *s.flags, dest=s.key, action="store_const", const=True, help=option_text(s)
        )
        return
    assert s.from_text is not None
    group.add_argument(
        *s.flags,
        dest=s.key,
        metavar=s.metavar,
        type=option_type(s.from_text),
        action="extend" if s.repeatable else "store",
        nargs="?" if s.const is not None else None,
        const=s.const,
        help=option_text(s),
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
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the resolved plan and where each level's files are",
    )
    settings = {s.key: s for s in SETTINGS}
    for key in OPTION_ORDER:
        add_option(p, settings[key])
    p.add_argument("config", nargs="?", metavar="CONFIG.json", help="optional config file")
    for name, text in ((SEARCH, SEARCH_HELP), (MACHINES, MACHINES_HELP)):
        group = p.add_argument_group(name, text)
        for s in SETTINGS:
            if s.group == name:
                add_option(group, s)
    return p


def shell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


# The main options' order in --help (the machines' group follows, in SETTINGS' order).
OPTION_ORDER = (
    "concurrency",
    "rates",
    "arrivals",
    "max_in_flight",
    "number_of_requests",
    "level_seconds",
    "warmup",
    "repeat",
    "hatch_rate",
    "level_time_cap",
    "request_timeout",
    "happy_image",
    "missing_image",
    "newrelic",
    "no_credentials",
    "ca_bundle",
    "insecure",
    "probe_rate",
    "trace_sample",
    "remote_write",
    "otlp",
    "metrics_credentials",
    "processes",
    "thresholds",
    "baseline",
    "baseline_any_endpoint",
    "baseline_optional",
    "tolerance",
    "run_noise",
    "fail_on_regression",
    "history",
    "no_history",
    "label",
    "node_deployment",
    "node_delay",
    "quiet",
    "graphs",
    "results",
)
