"""deployment.json, as an ECS deployment reads it: credentials file and nginx's rate limits.

Only `api_credentials` and `api_rate_limiting` concern a node; the other keys (domains, TLS
files, node count) configure nginx and the cloud, so they are accepted and ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import jsonschema


class DeploymentError(Exception):
    """deployment.json is unreadable or invalid; the message is one line for the user."""


@dataclass(frozen=True)
class Limit:
    """nginx's limit_req rate (requests per second) and limit_conn count; None = no limit."""

    rate_per_s: float | None
    conns: int | None


@dataclass(frozen=True)
class Deployment:
    api_credentials: str | None
    per_ip: Limit | None
    per_key: Limit | None


_LIMIT = {
    "type": "object",
    "properties": {
        "rate_limit": {"type": "string", "pattern": "^[1-9][0-9]*r/[sm]$"},
        "conn_limit": {
            "type": ["string", "integer"],
            "pattern": "^[1-9][0-9]*$",
            "minimum": 1,
        },
    },
    "additionalProperties": False,
}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {
        "api_credentials": {"type": "string", "minLength": 1},
        "api_rate_limiting": {
            "type": "object",
            "properties": {"per_ip": _LIMIT, "per_key": _LIMIT},
            "additionalProperties": False,
        },
    },
}


def _limit(spec: dict[str, object] | None) -> Limit | None:
    if not spec:
        return None
    rate = spec.get("rate_limit")
    conns = spec.get("conn_limit")
    per_s = None
    if isinstance(rate, str):
        count, _, unit = rate.partition("r/")
        per_s = int(count) / (1 if unit == "s" else 60)
    # The schema allows conn_limit as an integer or a string of digits.
    return Limit(rate_per_s=per_s, conns=int(str(conns)) if conns is not None else None)


def read_deployment(path: str) -> Deployment:
    """Read and validate deployment.json; a relative api_credentials is relative to its folder."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as error:
        raise DeploymentError(f"cannot read --deployment {path}: {error.strerror}") from None
    except ValueError as error:
        raise DeploymentError(f"--deployment {path} is not valid JSON: {error}") from None
    problem = jsonschema.exceptions.best_match(
        jsonschema.Draft4Validator(SCHEMA).iter_errors(document)
    )
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "the top level"
        raise DeploymentError(
            f"--deployment {path}: {where}: {problem.message} "
            '(e.g. "api_rate_limiting": {"per_ip": {"rate_limit": "500r/s", "conn_limit": "500"}})'
        )
    limits = document.get("api_rate_limiting", {})
    credentials = document.get("api_credentials")
    if credentials:
        credentials = os.path.join(os.path.dirname(os.path.abspath(path)), credentials)
    return Deployment(credentials, _limit(limits.get("per_ip")), _limit(limits.get("per_key")))
