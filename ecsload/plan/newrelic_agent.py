"""Checks, before anything starts, that the local node can run under New Relic's agent.

The agent is optional (requirements-newrelic.txt), and the template newrelic.ini
holds the placeholder %LICENSE_KEY%: a node started with either problem would
fail late or report nowhere, so the plan refuses them in one line instead.
Standard library only: `--help` runs on bare python3 and imports the plan, which
imports this.
"""

import configparser
import importlib.util
import sys
from collections.abc import Mapping

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE

PLACEHOLDER = "%LICENSE_KEY%"


def check_agent_config(path: str, environ: Mapping[str, str]) -> None:
    """Raise a UserError unless the agent is installed and `path` can report (or is in
    developer_mode)."""
    if importlib.util.find_spec("newrelic") is None:
        raise UserError(
            f"the New Relic agent is not installed for {sys.executable}: run "
            f"'{sys.executable} -m pip install -r requirements-newrelic.txt' and try again",
            EXIT_USAGE,
        )
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise UserError(f"New Relic config {path} cannot be read: {reason}", EXIT_USAGE) from None
    if not parser.has_section("newrelic"):
        raise UserError(f"New Relic config {path} has no [newrelic] section", EXIT_USAGE)
    section = parser["newrelic"]
    try:
        developer_mode = section.getboolean("developer_mode", fallback=False)
    except ValueError:
        raise UserError(
            f"New Relic config {path}: developer_mode is not true or false", EXIT_USAGE
        ) from None
    key = environ.get("NEW_RELIC_LICENSE_KEY") or section.get("license_key", "").strip()
    if not developer_mode and key in ("", PLACEHOLDER):
        raise UserError(
            f"New Relic config {path} has no license key (license_key is {key or 'empty'}): "
            "put your key there, or set developer_mode = true to run the agent without "
            "sending data",
            EXIT_USAGE,
        )
