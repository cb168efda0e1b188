"""The node's settings: defaults < the INI file's [ecs] section < flags, validated in one place.

The INI keys are the ones the original harness wrote into ecs.conf (ECS's own names and units:
the Docker timeouts there are milliseconds); flags use the node's names and seconds. Anything
wrong stops the node with one line that says what and how to fix it (`SettingsError`).
"""

from __future__ import annotations

import argparse
import configparser
import ipaddress
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import NoReturn

from ecsnode import __version__
from ecsnode.deployment import Deployment, DeploymentError, Limit, read_deployment

DEFAULT_IMAGES = ("ubuntu:14.04", "ubuntu:latest", "busybox:latest", "alpine:latest")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
RUNNERS = ("auto", "process", "docker")
ENDPOINTS = ("noop", "version", "health", "tasks")
"""Names of the endpoints for --delay (the API's paths without /v1.1/ and the underscore)."""
EXIT_BAD_SETTINGS = 2


class SettingsError(Exception):
    """A setting is wrong; the message is the one line the user sees."""


@dataclass(frozen=True)
class Settings:
    """Everything the node and its runners are configured with (field names are a contract)."""

    address: str = "127.0.0.1"
    port: int = 8448
    log_level: str = "info"
    log_file: str | None = None
    ready_file: str | None = None
    status_file: str | None = None
    htpasswd: str | None = None
    deployment: str | None = None
    per_ip: Limit | None = None
    per_key: Limit | None = None
    runner: str = "auto"
    max_concurrent_tasks: int = 250
    task_timeout: float = 30.0
    images: tuple[str, ...] = DEFAULT_IMAGES
    allow_remote_tasks: bool = False
    task_user: str | None = None
    """Who tasks run as when the node is root (None: nobody); not root, the node's user."""
    task_processes: int = 1024
    task_memory_mb: int = 1024
    task_cpu: int = 30
    task_files_mb: int = 64
    docker_remote_api: str = ""
    docker_remote_api_connect_timeout: float = 3.0
    docker_remote_api_request_timeout: float = 300.0
    stop_grace: float = 5.0
    delays: tuple[tuple[str, float], ...] = ()
    """(endpoint, seconds) pairs of --delay, a test-only latency; the last one of a name wins."""

    @property
    def loopback(self) -> bool:
        """True when only this host can reach the node."""
        if self.address == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.address).is_loopback
        except ValueError:
            return False


def _number(kind: Callable[[str], float], low: float, what: str) -> Callable[[str], float]:
    """A converter for argparse and the INI file that names the setting when the value is bad."""

    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise SettingsError(f"{what} must be a number >= {low:g}, not {text!r}") from None
        if not value >= low:
            raise SettingsError(f"{what} must be a number >= {low:g}, not {text!r}")
        return value

    return convert


def _port(text: str) -> int:
    port = int(_number(int, 0, "port")(text))
    if port > 65535:
        raise SettingsError(f"port must be 0..65535 (0 picks a free one), not {text!r}")
    return port


def _choice(choices: Sequence[str], what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text.lower() not in choices:
            raise SettingsError(f"{what} must be one of {', '.join(choices)}, not {text!r}")
        return text.lower()

    return convert


def _images(text: str) -> tuple[str, ...]:
    images = tuple(name.strip() for name in text.split(",") if name.strip())
    bad = [name for name in images if ":" not in name.rsplit("/", 1)[-1]]
    if not images or bad:
        raise SettingsError(
            f"images must be a comma-separated list of NAME:TAG, not {text!r} "
            '(e.g. --images "ubuntu:14.04,busybox:latest")'
        )
    return images


def _delay(text: str) -> tuple[str, float]:
    name, equals, millis = text.partition("=")
    if not equals or name not in ENDPOINTS:
        raise SettingsError(
            f"--delay must be NAME=MS with NAME one of {', '.join(ENDPOINTS)}, not {text!r}"
        )
    return name, _number(float, 0, f"--delay {name}= (milliseconds)")(millis) / 1000.0


def _millis(what: str) -> Callable[[str], float]:
    to_number = _number(float, 0, f"{what} (milliseconds)")
    return lambda text: to_number(text) / 1000.0


# INI key of ECS's ecs.conf -> (Settings field, converter).
INI_KEYS: dict[str, tuple[str, Callable[[str], object]]] = {
    "address": ("address", str),
    "port": ("port", _port),
    "log_level": ("log_level", _choice(LOG_LEVELS, "log_level")),
    "max_concurrent_executing_http_requests": (
        "max_concurrent_tasks",
        _number(int, 1, "max_concurrent_executing_http_requests"),
    ),
    "docker_remote_api": ("docker_remote_api", str),
    "docker_remote_api_connect_timeout": (
        "docker_remote_api_connect_timeout",
        _millis("docker_remote_api_connect_timeout"),
    ),
    "docker_remote_api_request_timeout": (
        "docker_remote_api_request_timeout",
        _millis("docker_remote_api_request_timeout"),
    ),
}


def read_ini(path: str) -> dict[str, object]:
    """Settings from the [ecs] section of an ECS config file; unknown keys are an error."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as stream:
            parser.read_file(stream)
    except OSError as error:
        raise SettingsError(f"cannot read --config {path}: {error.strerror}") from None
    except configparser.Error as error:
        first = str(error).splitlines()[0]
        raise SettingsError(
            f"--config {path} is not an INI file with an [ecs] section: {first}"
        ) from None
    if not parser.has_section("ecs"):
        raise SettingsError(f"--config {path} has no [ecs] section; add one with the settings")
    values: dict[str, object] = {}
    for key, text in parser.items("ecs"):
        if key not in INI_KEYS:
            raise SettingsError(
                f"--config {path}: unknown key {key!r} in [ecs]; known: {', '.join(INI_KEYS)}"
            )
        field, convert = INI_KEYS[key]
        try:
            values[field] = convert(text.strip())
        except SettingsError as error:
            raise SettingsError(f"--config {path}: {error}") from None
    return values


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (not usage + error) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_SETTINGS, f"{self.prog}: {message} (see --help)\n")


def _flag(convert: Callable[[str], object]) -> Callable[[str], object]:
    """Let argparse report our converters' messages verbatim."""

    def wrapped(text: str) -> object:
        try:
            return convert(text)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return wrapped


def build_parser(prog: str = "ecservice.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="A local ECS node: answers the ECS API (v1.1) on one address and port.",
        epilog=(
            "Precedence: flags > --config [ecs] keys > defaults. Exit codes: 0 stopped cleanly "
            "(SIGTERM/SIGINT); 2 bad settings or cannot listen (one line on stderr)."
        ),
    )
    add = parser.add_argument
    add("--version", action="version", version=f"%(prog)s {__version__}")
    add("--config", metavar="FILE", help="INI file with an [ecs] section (ECS's ecs.conf keys)")
    add("--address", help="address to listen on (default 127.0.0.1)")
    add("--port", type=_flag(_port), help="port to listen on; 0 picks a free one (default 8448)")
    add("--htpasswd", metavar="FILE", help="Apache htpasswd file; turns on HTTP Basic auth")
    add("--deployment", metavar="FILE", help="deployment.json: api_credentials, api_rate_limiting")
    add(
        "--runner",
        type=_flag(_choice(RUNNERS, "--runner")),
        metavar="{auto,process,docker}",
        help="task runner (default auto: docker when a daemon answers, else process)",
    )
    add("--log-file", metavar="FILE", help="append log lines here (default stderr)")
    add("--ready-file", metavar="FILE", help="write the node's URL here once it is listening")
    add(
        "--status-file",
        metavar="FILE",
        help="write JSON {url, runner, pid, version} here once it is listening",
    )
    add(
        "--log-level",
        type=_flag(_choice(LOG_LEVELS, "--log-level")),
        metavar="LEVEL",
        help=f"{', '.join(LOG_LEVELS)} (default info; access lines are info)",
    )
    add(
        "--max-concurrent-tasks",
        type=_flag(_number(int, 1, "--max-concurrent-tasks")),
        metavar="N",
        help="tasks running at once; the rest wait (default 250)",
    )
    add(
        "--images",
        type=_flag(_images),
        metavar="LIST",
        help=f"process runner's image catalog (default {','.join(DEFAULT_IMAGES)})",
    )
    add(
        "--task-timeout",
        type=_flag(_number(float, 0.001, "--task-timeout")),
        metavar="S",
        help="seconds a task may run before it is killed (default 30)",
    )
    add(
        "--task-user",
        metavar="NAME",
        help="user the process runner runs tasks as when the node is root (default nobody)",
    )
    add(
        "--task-processes",
        type=_flag(_number(int, 1, "--task-processes")),
        metavar="N",
        help="processes the task user may have at once, all tasks together (RLIMIT_NPROC; "
        "default 1024)",
    )
    add(
        "--task-memory",
        type=_flag(_number(int, 1, "--task-memory")),
        dest="task_memory_mb",
        metavar="MB",
        help="address space of each task process in MiB (RLIMIT_AS; default 1024)",
    )
    add(
        "--task-cpu",
        type=_flag(_number(int, 1, "--task-cpu")),
        metavar="S",
        help="CPU seconds of each task process before it is killed (RLIMIT_CPU; default 30)",
    )
    add(
        "--task-files",
        type=_flag(_number(int, 1, "--task-files")),
        dest="task_files_mb",
        metavar="MB",
        help="largest file a task process may write (RLIMIT_FSIZE), and the size of each "
        "task's private /tmp and /dev/shm, in MiB (default 64)",
    )
    add(
        "--allow-remote-tasks",
        action="store_true",
        default=None,
        help="let the process runner serve a non-loopback address (it runs host commands)",
    )
    add(
        "--docker-remote-api",
        metavar="URL",
        help="Docker daemon for the docker runner (default DOCKER_HOST or the local socket)",
    )
    add(
        "--stop-grace",
        type=_flag(_number(float, 0, "--stop-grace")),
        metavar="S",
        help="seconds in-flight requests get to finish on SIGTERM/SIGINT (default 5)",
    )
    add(
        "--delay",
        type=_flag(_delay),
        action="append",
        dest="delays",
        metavar="NAME=MS",
        help=f"for tests: add MS milliseconds to each answer of NAME ({', '.join(ENDPOINTS)}) "
        "after auth, without blocking other requests; repeatable",
    )
    return parser


def load_settings(argv: Sequence[str] | None = None) -> Settings:
    """Parse flags, layer them over the config file and deployment.json, and validate."""
    args = build_parser().parse_args(argv)
    values: dict[str, object] = read_ini(args.config) if args.config else {}
    names = {field.name for field in fields(Settings)}
    values.update({k: v for k, v in vars(args).items() if k in names and v is not None})
    if args.delays:
        values["delays"] = tuple(args.delays)
    if args.deployment:
        try:
            deployment = read_deployment(args.deployment)
        except DeploymentError as error:
            raise SettingsError(str(error)) from None
        values.update(_from_deployment(deployment, values))
    if values.get("htpasswd") and not os.access(str(values["htpasswd"]), os.R_OK):
        raise SettingsError(
            f"cannot read the htpasswd file {values['htpasswd']}; "
            "create it with: python -m ecsnode.creds --htpasswd FILE"
        )
    return Settings(**values)  # type: ignore[arg-type]


def _from_deployment(deployment: Deployment, values: dict[str, object]) -> dict[str, object]:
    """What deployment.json adds: limits, and its credentials unless --htpasswd overrides them."""
    added: dict[str, object] = {"per_ip": deployment.per_ip, "per_key": deployment.per_key}
    if deployment.api_credentials and not values.get("htpasswd"):
        added["htpasswd"] = deployment.api_credentials
    return added
