"""The locustfile's own options (the group "ECS load test"; Locust's --help lists its own only).

Those that carry a setting are made from its row (ecsload.setting_rows: the
row's `locust` option, parser, help and default), so the plan and Locust accept
the same values; ecsload.plan.locust_command passes them. The others are the
level's files and its role in a sweep. A master forwards the options that
differ from their defaults to its workers.
"""

from typing import TYPE_CHECKING, Any, Protocol, cast

from ecsload.setting_rows import SETTINGS, Setting, shell_text
from ecsload.values import option_type, positive_number

if TYPE_CHECKING:
    from locust.env import Environment


class LevelOptions(Protocol):
    """Locust's parsed options as the level reads them: Locust's own it uses, and the ones
    add_options declares (a worker's are its master's, forwarded when it connects)."""

    num_users: int
    run_time: int | None
    ecs_credentials: str | None
    stop_after_requests: int
    level_seconds: float | None  # None: not a timed level
    warmup_seconds: float
    samples_file: str
    level_info: str
    progress_file: str
    worker_info: str
    master_token_file: str
    last_level: bool
    ca_bundle: str | None
    insecure: bool
    request_timeout: float
    happy_image: str
    missing_image: str
    arrival_rate: float | None
    arrivals: str
    max_in_flight: int
    trace_sample: float
    remote_write: str
    otlp: str
    metrics_credentials: str
    # with --remote-write or --otlp: the level's labels and marks (ecsload.plugin.live_metrics)
    run_name: str
    level_key: str
    level_repeat: str
    run_started: float
    run_ends: bool
    ecs_ca_pem: str  # the bundle's certificates, set by the level (ecsload.plugin.level)
    ecs_user_rate: float  # an arrival-rate level: each ArrivalUser's share, set by the level
    ecs_user_in_flight: int  # ... and its share of --max-in-flight
    ecs_user_slots: int  # ... and how many arrival users share the rate (one per process)


def level_options(environment: "Environment") -> LevelOptions:
    """The environment's parsed options, typed; Locust parses them before any event."""
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("Locust has not parsed its options yet")
    return cast(LevelOptions, options)


def add_setting_option(group: Any, s: Setting) -> None:
    """The locustfile's option of a setting: the plan's parser and help, its default."""
    if not s.metavar:
        group.add_argument(s.locust, action="store_true", help=s.help.replace("%", "%%"))
        return
    assert s.from_text is not None  # a setting with a value has a parser
    default = s.locust_default_value
    group.add_argument(
        s.locust,
        metavar=s.metavar,
        type=option_type(s.from_text),
        default=None if default == "" else default,  # argparse would parse a text default
        help=f"{s.help} (default: {shell_text(default) or 'none'})".replace("%", "%%"),
    )


def add_options(parser: Any, **_: Any) -> None:
    """The locustfile's own options (events.init_command_line_parser)."""
    group = parser.add_argument_group("ECS load test")
    for s in SETTINGS:
        if s.locust:
            add_setting_option(group, s)
    group.add_argument(
        "--arrival-rate",
        metavar="R",
        type=option_type(positive_number),
        default=None,
        help="an arrival-rate level: R requests/s in all, shared by the users (run ArrivalUser, "
        "one per process); each request is timed from when it was due",
    )
    group.add_argument(
        "--samples-file", metavar="FILE", default="", help="record one CSV line per request in FILE"
    )
    group.add_argument(
        "--level-info",
        metavar="FILE",
        default="",
        help="write what the level did, as JSON, to FILE at quit",
    )
    group.add_argument(
        "--progress-file",
        metavar="FILE",
        default="",
        help="rewrite FILE about once a second with the level's progress, as JSON "
        "(not on a worker: its master writes it)",
    )
    group.add_argument(
        "--worker-info",
        metavar="FILE",
        default="",
        help="on a worker: write what it did, as JSON, to FILE at quit "
        "(sweep_over: the master said no level follows)",
    )
    group.add_argument(
        "--run-name", default="", help="with --remote-write or --otlp: the run's label"
    )
    group.add_argument(
        "--level-key", default="", help="with --remote-write or --otlp: the level's label"
    )
    group.add_argument(
        "--level-repeat", default="1", help="with --remote-write or --otlp: the repeat's label"
    )
    group.add_argument(
        "--run-started",
        type=float,
        default=0.0,
        help="with --remote-write or --otlp: when the run started (epoch s), for its annotation",
    )
    group.add_argument(
        "--run-ends",
        action="store_true",
        help="with --remote-write or --otlp: the sweep's last level, whose end is the run's",
    )
    group.add_argument(
        "--last-level",
        action="store_true",
        help="on a master: tell the workers that no level follows this one",
    )
