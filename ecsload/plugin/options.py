"""The locustfile's own options, under "ECS load test" in `locust -f locustfile.py --help`.

run_load_test.sh gives them to every level; a master forwards the ones that
differ from their defaults to its workers.
"""

from typing import TYPE_CHECKING, Any, Protocol, cast

from ecsload.api import DEFAULT_HAPPY_IMAGE, DEFAULT_MISSING_IMAGE
from ecsload.values import ARRIVALS, option_type, positive_number, whole_number

if TYPE_CHECKING:
    from locust.env import Environment

MAX_REQUESTS = 10**12


class LevelOptions(Protocol):
    """Locust's parsed options as the level reads them: Locust's own it uses, and the ones
    add_options declares (a worker's are its master's, forwarded when it connects)."""

    num_users: int
    run_time: int | None
    ecs_credentials: str
    stop_after_requests: int
    level_seconds: float
    warmup_seconds: float
    samples_file: str
    level_info: str
    progress_file: str
    worker_info: str
    last_level: bool
    ca_bundle: str
    insecure: bool
    happy_image: str
    missing_image: str
    arrival_rate: float | None
    arrivals: str
    max_in_flight: int
    ecs_ca_pem: str  # the bundle's certificates, set by the level (ecsload.plugin.level)
    ecs_user_rate: float  # an arrival-rate level: each ArrivalUser's share, set by the level
    ecs_user_in_flight: int  # ... and its share of --max-in-flight


def level_options(environment: "Environment") -> LevelOptions:
    """The environment's parsed options, typed; Locust parses them before any event."""
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("Locust has not parsed its options yet")
    return cast(LevelOptions, options)


def add_options(parser: Any, **_: Any) -> None:
    """The locustfile's own options (events.init_command_line_parser)."""
    group = parser.add_argument_group("ECS load test")
    group.add_argument(
        "--ecs-credentials",
        metavar="FILE",
        default="",
        help="plaintext key:secret lines; each request is signed with one picked "
        "at random (empty: requests carry no credentials)",
    )
    group.add_argument(
        "--stop-after-requests",
        metavar="N",
        type=option_type(whole_number(0, MAX_REQUESTS)),
        default=0,
        help="quit once N requests have completed; in-flight ones finish and count (0: no limit)",
    )
    group.add_argument(
        "--arrival-rate",
        metavar="R",
        type=option_type(positive_number),
        default=None,
        help="an arrival-rate level: R requests/s in all, shared by the users (run ArrivalUser, "
        "one per process); each request is timed from when it was due",
    )
    group.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default=ARRIVALS[0],
        help="with --arrival-rate: evenly spaced (constant) or random (poisson) arrivals",
    )
    group.add_argument(
        "--max-in-flight",
        metavar="N",
        type=option_type(whole_number(1, MAX_REQUESTS)),
        default=100,
        help="with --arrival-rate: requests in flight at most, shared by the users; an "
        "arrival beyond is recorded as an error, Dropped",
    )
    group.add_argument(
        "--level-seconds",
        metavar="S",
        type=float,
        default=0,
        help="measure for S seconds, then quit once the requests started have completed "
        "(0: no limit; a timed level)",
    )
    group.add_argument(
        "--warmup-seconds",
        metavar="S",
        type=float,
        default=0,
        help="after the ramp, S seconds whose requests are recorded as phase warmup, not counted",
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
        "--last-level",
        action="store_true",
        help="on a master: tell the workers that no level follows this one",
    )
    group.add_argument(
        "--ca-bundle",
        metavar="FILE",
        default="",
        help="a private CA's PEM certificate(s), trusted besides the system's CAs to verify an "
        "https host (a master sends them to its workers)",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify an https host's certificate (default: verify its chain and name)",
    )
    group.add_argument(
        "--happy-image",
        metavar="IMAGE",
        default=DEFAULT_HAPPY_IMAGE,
        help="image of Tasks-Happy-Path requests",
    )
    group.add_argument(
        "--missing-image",
        metavar="IMAGE",
        default=DEFAULT_MISSING_IMAGE,
        help="image of Tasks-Image-Not-Found requests (must not exist)",
    )
