"""Parsers of the values a user gives: options, environment variables, config-file entries.

One convention: a parser takes the text of an option or environment variable (or,
for `json_*`, a value from a config file) and returns the value, or raises
ValueError with the message the user sees; `option_type` adapts a parser for
argparse. Standard library only: the plan runs before the venv exists.
"""

import argparse
import json
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

IMAGE_NAME = re.compile(r"(.+/)?.+:.+")
MAX_PROBE_RATE = 100  # requests per second: a probe, not a second load
MAX_SECONDS = 7 * 24 * 3600


def option_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` for argparse: its ValueError message becomes the usage error's text."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def parse_count(text: str) -> int:
    """A positive integer."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise ValueError(f"{text!r} is not a positive integer")
    return value


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """A parser of whole numbers from `low` to `high`."""

    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
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


def check_levels(levels: list[int]) -> list[int]:
    if not levels:
        raise ValueError("needs at least one concurrency level")
    for level in levels:
        if levels.count(level) > 1:
            raise ValueError(f"level {level} is given more than once")
    return levels


def parse_rate(text: str) -> int | float:
    """A positive number of users started per second (Locust accepts fractions)."""
    value = positive_number(text)
    return int(value) if value.is_integer() else value


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
    extra = {
        "a path": parts.path not in ("", "/"),
        "a query": parts.query,
        "a fragment": parts.fragment,
        "user info": parts.username is not None,
    }
    if found := [what for what, present in extra.items() if present]:
        raise ValueError(
            f"{text!r} has {' and '.join(found)}: give the endpoint as scheme://host[:port] "
            "(the harness adds /v1.1; credentials go in ECS_CREDENTIALS)"
        )
    return url


def parse_path(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return os.path.expanduser(text.strip())


def parse_seconds(text: str) -> int:
    """A time cap in whole seconds, from 1 to a week (Locust's timer overflows far beyond)."""
    value = parse_count(text)
    if value > MAX_SECONDS:
        raise ValueError(f"{text!r} is over {MAX_SECONDS} seconds (7 days)")
    return value


def json_seconds(value: object) -> int:
    return parse_seconds(str(json_count(value)))


def parse_pdf_path(text: str) -> str:
    """A path for a PDF to write: it must end in .pdf, so that no other file is overwritten."""
    path = parse_path(text)
    if not path.lower().endswith(".pdf"):
        raise ValueError(f"{text!r} does not end in .pdf: give the PDF's file name")
    return path


def parse_image(text: str) -> str:
    """A Docker image name with a tag, as the API requires (`(.+/)?.+:.+`)."""
    if not IMAGE_NAME.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not an image name with a tag, such as ubuntu:14.04")
    return text.strip()


def parse_processes(text: str) -> int:
    """A number of Locust processes: a positive integer, or -1 for one per core."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise ValueError(f"{text!r} is not a positive integer or -1 (one per core)")
    return value


def json_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{json.dumps(value)} is not true or false")
    return value


def json_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{json.dumps(value)} is not a positive integer")
    return value


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


def json_processes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a positive integer or -1 (one per core)")
    return parse_processes(str(value))


def json_text(parse: Callable[[str], Any]) -> Callable[[object], Any]:
    """A config value that must be a string, then parsed like the option's text."""

    def from_json(value: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"{json.dumps(value)} is not a string")
        return parse(value)

    return from_json
