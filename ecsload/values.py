"""Parsers of the values a user gives: options, environment variables, config-file entries.

One convention: a parser takes the text of an option or environment variable (or,
for `json_*`, a value from a config file) and returns the value, or raises
ValueError with the message the user sees; `option_type` adapts a parser for
argparse. Standard library only: `--help` runs on bare python3 and imports the
plan, which imports this.
"""

import argparse
import ipaddress
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ecsload.history_location import parse_reference
from ecsload.model import REQUEST_TYPES
from ecsload.vocabulary import HEADLINE_KEYS, PERCENTILES

# Docker's image reference (github.com/distribution/reference), with the tag or digest that
# the API requires: [HOST[:PORT]/]PATH[:TAG][@DIGEST]. Stricter than the API's `(.+/)?.+:.+`,
# which lets through names the node's catalog splits (a comma) or takes for an option (-x).
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_NAME = re.compile(
    rf"(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    rf"(?::{_TAG}(?:@{_DIGEST})?|@{_DIGEST})"
)
HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
MAX_HOST_LENGTH = 253
MAX_PROBE_RATE = 100  # requests per second: a probe, not a second load
MAX_SECONDS = 7 * 24 * 3600
MAX_REPEAT = 100  # repeats of a sweep's levels
MAX_RATE = 1_000_000  # requests per second of one level: far beyond what one generator sends
MAX_COUNT = 1_000_000_000  # users of a level, requests of a level: a finite plan
MAX_CHANGE_PERCENT = 1000  # a tolerance or run noise: 1000% is a figure 11 times its baseline

# Thresholds (`--fail-on`): [SCOPE.]METRIC OP NUMBER[@LEVEL]. The percentiles are those
# of summary.json (ecsload.vocabulary: PERCENTILES; the headline ones corrected, and the
# probe's).
THRESHOLD_METRICS = (
    "min",
    *(f"p{p}" for p in PERCENTILES),
    *(f"{key}c" for key in HEADLINE_KEYS),  # corrected for coordinated omission (closed levels)
    "max",
    "error%",
    "rate_limited%",
)
LEVEL_ONLY_METRICS = ("rps",)  # of all the level's requests, not of one type
CAPACITY = "capacity"  # `--fail-on 'capacity>=R'`: the capacity search's answer (req/s)
PROBE = "probe"
PROBE_METRICS = (*HEADLINE_KEYS, "max", "error%")
THRESHOLD_OPERATORS = ("<", "<=", ">", ">=")
TOP_LEVEL = "top"  # `@top`: only the highest level (most users), whatever the order of -c
THRESHOLD_PARTS = re.compile(r"(?P<subject>[^<>=!@]*)(?P<operator>[<>=!]+)(?P<number>[^@]*)")


def option_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` for argparse: its ValueError message becomes the usage error's text."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def positive_integer(text: str) -> int:
    """A positive integer, of any size: each use bounds it."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise ValueError(f"{text!r} is not a positive integer")
    return value


def parse_count(text: str) -> int:
    """A positive integer, at most MAX_COUNT."""
    value = positive_integer(text)
    if value > MAX_COUNT:
        raise ValueError(f"{text!r} is over {MAX_COUNT:,} (a count of users or requests)")
    return value


def ascii_digits(text: str) -> bool:
    """Only 0-9: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """A parser of whole numbers from `low` to `high`."""

    def parse(text: str) -> int:
        if not ascii_digits(text.strip()) or not low <= int(text) <= high:
            raise ValueError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return parse


def positive_number(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a positive number") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{text!r} is not a positive number")
    return value


def parse_probe_rate(text: str) -> int | float:
    """Requests per second of the probe: a number from 0 (no probe) to 100."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_PROBE_RATE:
        raise ValueError(f"{text!r} is not a number from 0 (no probe) to {MAX_PROBE_RATE}")
    return int(value) if value.is_integer() else value


def parse_levels(text: str) -> list[int]:
    """Concurrency levels from `"10 15 20"` (spaces and/or commas)."""
    return check_levels([parse_count(word) for word in text.replace(",", " ").split()])


def check_levels(levels: list[int], what: str = "concurrency level") -> list[int]:
    if not levels:
        raise ValueError(f"needs at least one {what}")
    for level in levels:
        if levels.count(level) > 1:
            raise ValueError(f"level {level} is given more than once")
    return levels


def parse_rates(text: str) -> list[int]:
    """Arrival rates (requests per second) from `"50 100 200"` (spaces and/or commas)."""
    return check_levels([a_rate(word) for word in text.replace(",", " ").split()], "rate")


def a_rate(text: str) -> int:
    """One arrival rate: a whole number of requests per second from 1 to MAX_RATE."""
    return whole_number(1, MAX_RATE)(text.strip())


def json_rates(value: object) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"{json.dumps(value)} is not a list of positive integers")
    return check_levels([a_rate(str(json_count(rate))) for rate in value], "rate")


ARRIVALS = ("constant", "poisson")


def parse_arrivals(text: str) -> str:
    """How arrivals are spaced in an arrival-rate level: evenly, or as a Poisson process."""
    if text.strip().lower() not in ARRIVALS:
        raise ValueError(f"{text!r} is not one of {', '.join(ARRIVALS)}")
    return text.strip().lower()


def parse_count_or_zero(text: str) -> int:
    """A positive integer, or 0 (none: a default, or no count)."""
    return 0 if text.strip() == "0" else parse_count(text)


def json_max_in_flight(value: object) -> int:
    if value == 0 and not isinstance(value, bool):
        return 0
    return json_count(value)


def parse_rate(text: str) -> int | float:
    """A positive number of users started per second (Locust accepts fractions), at most
    MAX_RATE."""
    value = positive_number(text)
    if value > MAX_RATE:
        raise ValueError(f"{text!r} is over {MAX_RATE:,} users a second")
    return int(value) if value.is_integer() else value


def valid_host(host: str) -> bool:
    """An IP address, or a DNS name (RFC 1123 labels after IDNA encoding; `_` allowed, as
    internal names have it): what a client can connect to, and safe to show in a page."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = name.removesuffix(".").split(".")
    return len(name) <= MAX_HOST_LENGTH and all(map(HOST_LABEL.fullmatch, labels))


def parse_endpoint(text: str) -> str:
    """A deployment's address, `scheme://host[:port]` (http or https); a trailing slash is
    dropped. The harness adds /v1.1 itself, so a path, a query, a fragment or user info
    would only make every request miss."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http(s) URL such as https://api.example.com")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (parts.netloc.endswith(":") and port is None):
        raise ValueError(f"{text!r} has a port that is not a number from 1 to 65535")
    if not valid_host(parts.hostname):
        raise ValueError(
            f"{text!r} has a host that is neither a DNS name nor an IP address: give e.g. "
            "https://api.example.com or http://127.0.0.1:8080"
        )
    extra = {
        "a path": parts.path not in ("", "/"),
        "a query": "?" in url,  # an empty one too: urlsplit says "" for both
        "a fragment": "#" in url,
        "user info": parts.username is not None,
    }
    if found := [what for what, present in extra.items() if present]:
        raise ValueError(
            f"{text!r} has {' and '.join(found)}: give the endpoint as scheme://host[:port] "
            "(the harness adds /v1.1; credentials go in ECS_CREDENTIALS)"
        )
    return url


def parse_word(text: str) -> str:
    """A name that is not empty (a host, an address), without surrounding spaces."""
    if not text.strip():
        raise ValueError("is empty")
    return text.strip()


def parse_path(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return os.path.expanduser(text.strip())


MIN_TOKEN, MAX_TOKEN = 16, 1024  # characters of a --master-token-file's secret


def parse_token_file(text: str) -> str:
    """A file whose first line is the run's secret: 16 to 1024 printable ASCII characters
    (e.g. `openssl rand -hex 32 > token; chmod 600 token`)."""
    path = os.path.abspath(parse_path(text))
    try:
        with open(path, encoding="ascii") as file:
            secret = file.readline(MAX_TOKEN + 2).strip()
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or error
        raise ValueError(f"{text!r} cannot be read: {why}") from None
    if not (MIN_TOKEN <= len(secret) <= MAX_TOKEN and secret.isprintable()):
        raise ValueError(
            f"{text!r} does not start with a secret of {MIN_TOKEN} to {MAX_TOKEN} printable "
            "ASCII characters (e.g. openssl rand -hex 32)"
        )
    return path


def parse_baseline(text: str) -> str:
    """A run folder's path, or a reference to the history: last, label:X, history[:N]."""
    return text.strip() if parse_reference(text) else parse_path(text)


def parse_seconds(text: str) -> int:
    """A time cap in whole seconds, from 1 to a week (Locust's timer overflows far beyond)."""
    value = positive_integer(text)
    if value > MAX_SECONDS:
        raise ValueError(f"{text!r} is over {MAX_SECONDS} seconds (7 days)")
    return value


def json_seconds(value: object) -> int:
    return parse_seconds(str(json_count(value)))


def parse_duration(text: str) -> int | float:
    """A level's measured (or warmup) time: a number of seconds above 0, at most a week."""
    value = positive_number(text)
    if value > MAX_SECONDS:
        raise ValueError(f"{text!r} is over {MAX_SECONDS} seconds (7 days)")
    return int(value) if value.is_integer() else value


def parse_warmup(text: str) -> int | float:
    """Seconds of warmup after the ramp, not counted: 0 (none) or a duration."""
    return 0 if non_negative_number(text) == 0 else parse_duration(text)


def parse_repeat(text: str) -> int:
    """How many times the sweep's levels run: a whole number from 1 to MAX_REPEAT."""
    return whole_number(1, MAX_REPEAT)(text)


def json_duration(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a number of seconds above 0")
    return parse_duration(str(value))


def json_warmup(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a number of seconds, 0 or more")
    return parse_warmup(str(value))


def json_repeat(value: object) -> int:
    return parse_repeat(str(json_count(value)))


def parse_pdf_path(text: str) -> str:
    """A path for a PDF to write: it must end in .pdf, so that no other file is overwritten."""
    path = parse_path(text)
    if not path.lower().endswith(".pdf"):
        raise ValueError(f"{text!r} does not end in .pdf: give the PDF's file name")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise ValueError(f"{text!r} is a folder or another special file: give the PDF's file name")
    return path


def parse_image(text: str) -> str:
    """A Docker image reference with a tag (or digest), as the API requires one."""
    if not IMAGE_NAME.fullmatch(text.strip()):
        raise ValueError(
            f"{text!r} is not an image name with a tag, such as ubuntu:14.04 or "
            "127.0.0.1:5000/ubuntu:14.04 (Docker's form: [HOST[:PORT]/]NAME:TAG, the name "
            "lower-case)"
        )
    return text.strip()


NODE_ENDPOINTS = ("noop", "version", "health", "tasks")  # ecsnode.settings.ENDPOINTS (tested)
MAX_NODE_DELAY_MS = 60_000


def parse_node_delay(text: str) -> list[str]:
    """The local node's added latency (its --delay, for trying the harness against a slower
    service): `MS` on every endpoint, or `NAME=MS[,NAME=MS]` with NAME one of
    NODE_ENDPOINTS; as the node's --delay words, `noop=10`."""
    words = [word.strip() for word in text.split(",") if word.strip()]
    delays = []
    for word in words or [text]:
        name, equals, millis = word.rpartition("=")
        names = [name.strip().lower()] if equals else list(NODE_ENDPOINTS)
        try:
            value = float(millis)
        except ValueError:
            value = -1.0
        if not (set(names) <= set(NODE_ENDPOINTS)) or not 0 <= value <= MAX_NODE_DELAY_MS:
            raise ValueError(
                f"{text!r} is not a delay in ms from 0 to {MAX_NODE_DELAY_MS} (every endpoint) "
                f"or NAME=MS[,NAME=MS] with NAME one of {', '.join(NODE_ENDPOINTS)}"
            )
        delays += [f"{name}={value:g}" for name in names]
    return delays


def json_node_delay(value: object) -> list[str]:
    """A config file's node_delay: a number of ms, or the option's text."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{json.dumps(value)} is not a number of ms or a string")
    return parse_node_delay(str(value))


AUTO = "auto"  # --processes auto: as many as the top arrival rate needs (ecsload.plan.distribution)


def parse_processes(text: str) -> int | str:
    """A number of Locust processes: a positive integer, -1 for one per core, or `auto`."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise ValueError(f"{text!r} is not a positive integer, -1 (one per core) or auto")
    return value


def json_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{json.dumps(value)} is not true or false")
    return value


def non_negative_number(text: str) -> float:
    """A finite number of 0 or more (a percentage such as a tolerance)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:
        raise ValueError(f"{text!r} is not a number of 0 or more")
    return value


def parse_ratio(text: str) -> int | float:
    """A share from 0 to 1 (--trace-sample)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ValueError(f"{text!r} is not a number from 0 to 1")
    return int(value) if value.is_integer() else value


def parse_metrics_url(text: str) -> str:
    """A metrics receiver's http(s) URL (its path too, e.g. /api/v1/write). Credentials in it
    are refused, and not repeated in the message: they go in a file of their own."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the URL holds credentials (user@ or user:password@): put them in the file of "
            "--metrics-credentials instead"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise ValueError(
            f"{text!r} is not an http(s) URL such as http://127.0.0.1:9090/api/v1/write"
        )
    return url


def parse_percent(text: str) -> int | float:
    """A percentage of change: a number from 0 to MAX_CHANGE_PERCENT (integral ones stay
    integers, for the plan)."""
    value = non_negative_number(text)
    if value > MAX_CHANGE_PERCENT:
        raise ValueError(f"{text!r} is not a percentage from 0 to {MAX_CHANGE_PERCENT}")
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class Threshold:
    """One `--fail-on` expression: the figure it reads, the limit, and where it applies."""

    text: str  # canonical: without spaces, the type and metric spelt as in the tables
    scope: str | None  # None: every request of the level; a request type; or "probe"
    metric: str
    operator: str
    limit: float
    level: int | str | None  # the level's users, TOP_LEVEL, or None: every level

    def holds(self, measured: float) -> bool:
        return {
            "<": measured < self.limit,
            "<=": measured <= self.limit,
            ">": measured > self.limit,
            ">=": measured >= self.limit,
        }[self.operator]


def threshold_help() -> str:
    """What a threshold may say, for --help and for the error about a bad one."""
    return (
        "[TYPE.]METRIC OP NUMBER[@USERS|@RATE|@top], METRIC one of "
        f"{' '.join(THRESHOLD_METRICS)}, or {' '.join(LEVEL_ONLY_METRICS)} (all requests) or "
        f"probe.{{{','.join(PROBE_METRICS)}}}; TYPE one of {' '.join(REQUEST_TYPES)}; "
        f"OP one of {' '.join(THRESHOLD_OPERATORS)}; times in ms, error% and rate_limited% "
        "in percent of the requests; e.g. p95<500, NoOp.p99<50, error%<1@top, rps>=100@25; "
        f"with run_load_test.sh capacity, {CAPACITY}>=R (req/s) gates the search's answer"
    )


def parse_threshold(text: str) -> Threshold:
    """A threshold expression such as `Tasks-Happy-Path.p99<800` or `error%<1@top`."""
    expression = "".join(text.split())

    def refuse(problem: str) -> ValueError:
        return ValueError(f"bad threshold {text.strip()!r}: {problem}; allowed: {threshold_help()}")

    expression_part, _, level_text = expression.partition("@")
    parts = THRESHOLD_PARTS.fullmatch(expression_part)
    if not parts or not parts["subject"] or not parts["number"]:
        raise refuse("it needs a metric, an operator and a number")
    if parts["operator"] not in THRESHOLD_OPERATORS:
        raise refuse(f"unknown operator {parts['operator']!r}")
    scope, dot, metric = parts["subject"].rpartition(".")
    if dot and not scope:
        raise refuse("no request type before the '.'")
    scope, metric = threshold_scope(scope, refuse), metric.lower()
    allowed = PROBE_METRICS if scope == PROBE else THRESHOLD_METRICS
    if scope is None:
        allowed += (*LEVEL_ONLY_METRICS, CAPACITY)
    if metric not in allowed:
        where = "the probe" if scope == PROBE else scope or "a level"
        raise refuse(f"unknown metric {metric!r} for {where}")
    try:
        limit = non_negative_number(parts["number"])
    except ValueError:
        raise refuse(f"{parts['number']!r} is not a number of 0 or more") from None
    if metric.endswith("%") and limit > 100:
        raise refuse(f"{metric} is a percentage: {parts['number']} is over 100")
    level = threshold_level(level_text, refuse) if "@" in expression else None
    if metric == CAPACITY and level is not None:
        raise refuse("capacity is the search's answer, of no level: give no @")
    text = f"{scope + '.' if scope else ''}{metric}{parts['operator']}{parts['number']}"
    return Threshold(
        text + ("" if level is None else f"@{level}"),
        scope,
        metric,
        parts["operator"],
        limit,
        level,
    )


def threshold_scope(scope: str, refuse: Callable[[str], ValueError]) -> str | None:
    """A request type's own spelling, "probe", or None for every request of the level."""
    if not scope:
        return None
    known = {name.lower(): name for name in (*REQUEST_TYPES, PROBE)}
    if scope.lower() not in known:
        raise refuse(f"unknown request type {scope!r}")
    return known[scope.lower()]


def threshold_level(text: str, refuse: Callable[[str], ValueError]) -> int | str | None:
    """The text after `@`: `25` (the level of 25 users, or of 25 requests/s in an
    arrival-rate sweep) or `top` (the highest level)."""
    if text.lower() == TOP_LEVEL:
        return TOP_LEVEL
    if not ascii_digits(text) or int(text) < 1:
        raise refuse(f"level {text!r} is not a number of users (a rate with --rates) or top")
    return int(text)


def parse_thresholds(text: str) -> list[str]:
    """One or more threshold expressions separated by commas, each checked."""
    parts = [part for part in text.split(",") if part.strip()]
    return [parse_threshold(part).text for part in parts or [text]]


def parse_slo(text: str) -> list[str]:
    """A capacity search's objective(s): thresholds judged at every step (no @LEVEL), not the
    capacity itself."""
    found = parse_thresholds(text)
    for expr in found:
        threshold = parse_threshold(expr)
        if threshold.level is not None or threshold.metric == CAPACITY:
            what = "no @LEVEL" if threshold.level is not None else f"not {CAPACITY}"
            raise ValueError(
                f"bad SLO {text.strip()!r}: an SLO is judged at every step of the search, "
                f"{what}; e.g. p99<50, error%<1, Tasks-Happy-Path.p95<200"
            )
    return found


def json_slo(value: object) -> list[str]:
    texts = value if isinstance(value, list) else [value]
    if not texts or not all(isinstance(text, str) for text in texts):
        raise ValueError(f"{json.dumps(value)} is not an SLO expression or a list of them")
    return [expr for text in texts for expr in parse_slo(str(text))]


def parse_resolution(text: str) -> int | float:
    """The capacity search's resolution: a percentage above 0, at most 50."""
    value = positive_number(text)
    if value > 50:
        raise ValueError(f"{text!r} is over 50 (percent)")
    return int(value) if value.is_integer() else value


def json_resolution(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a percentage above 0")
    return parse_resolution(str(value))


def json_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{json.dumps(value)} is not a positive integer")
    return parse_count(str(value))


def json_levels(value: object) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"{json.dumps(value)} is not a list of positive integers")
    return check_levels([json_count(level) for level in value])


def json_rate(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a positive number")
    return parse_rate(str(value))


def json_probe_rate(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"{json.dumps(value)} is not a number from 0 (no probe) to {MAX_PROBE_RATE}"
        )
    return parse_probe_rate(str(value))


def json_processes(value: object) -> int | str:
    if value == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f'{value!r} is not a positive integer, -1 (one per core) or "auto"')
    return parse_processes(str(value))


def json_thresholds(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'{json.dumps(value)} is not a list of thresholds such as ["p95<500"]')
    return [parse_threshold(item).text for item in value]


def json_ratio(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a number from 0 to 1")
    return parse_ratio(str(value))


def json_percent(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{json.dumps(value)} is not a number of 0 or more")
    return parse_percent(str(value))


def json_whole(low: int, high: int) -> Callable[[object], int]:
    """A config value that must be a whole number from `low` to `high`."""
    parse = whole_number(low, high)

    def from_json(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{json.dumps(value)} is not a whole number from {low} to {high}")
        return parse(str(value))

    return from_json


def json_text(parse: Callable[[str], Any]) -> Callable[[object], Any]:
    """A config value that must be a string, then parsed like the option's text."""

    def from_json(value: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"{json.dumps(value)} is not a string")
        return parse(value)

    return from_json
