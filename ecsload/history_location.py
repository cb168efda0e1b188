"""Where the run history lives, what its runs are labelled, and its URL with no secret.

A history is a SQLite file (a path) or a database URL (postgresql://…). Standard
library only: the plan resolves these before anything else runs.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_FILE = "history.sqlite"  # beside the run folders, under -o (./results)
URL_SCHEMES = ("postgresql", "postgresql+psycopg", "sqlite")
# A CI's own variables, in this order: the commit first, then a build number.
LABEL_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_NUMBER", "BUILD_ID")
BRANCH_VARIABLES = ("GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "GIT_BRANCH", "BRANCH_NAME")
SHA_LENGTH = 12


def is_url(text: str) -> bool:
    return "://" in text


def parse_history(text: str) -> str:
    """A SQLite file's path or a database URL (postgresql://user@host/db)."""
    text = text.strip()
    if not text:
        raise ValueError("give a file path or a postgresql:// URL")
    if is_url(text):
        scheme = urlsplit(text).scheme
        if scheme not in URL_SCHEMES:
            raise ValueError(
                f"{scheme}:// is not a history this version keeps: give a file path "
                "(SQLite) or a postgresql:// URL"
            )
    return text


def default_history(results: str) -> str:
    return os.path.abspath(Path(results) / DEFAULT_FILE)


def history_location(plan: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """The run's history: ECS_LOAD_HISTORY as run_load_test.sh passes it (a URL with its
    password, which plan.json never holds), else plan.json's."""
    return environ.get("ECS_LOAD_HISTORY", "").strip() or plan.get("history") or None


def database_url(location: str) -> str:
    """The SQLAlchemy URL of a history: a path becomes sqlite:///ABS; postgresql:// uses
    psycopg (version 3), the driver this project pins."""
    if not is_url(location):
        return f"sqlite:///{os.path.abspath(location)}"
    if location.startswith("postgresql://"):
        return "postgresql+psycopg://" + location.removeprefix("postgresql://")
    return location


def without_secret(location: str) -> str:
    """The location as it may be printed or stored: a URL's password (and any query,
    which may hold one) replaced by ***."""
    if not is_url(location):
        return location
    parts = urlsplit(location)
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{user}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def default_label(environ: Mapping[str, str]) -> tuple[str, str]:
    """(label, branch) from the CI's variables: a commit is shortened to 12 characters;
    ("", "") outside CI."""
    label = next((environ[name].strip() for name in LABEL_VARIABLES if environ.get(name)), "")
    if len(label) == 40 and all(c in "0123456789abcdef" for c in label.lower()):
        label = label[:SHA_LENGTH]
    branch = next((environ[name].strip() for name in BRANCH_VARIABLES if environ.get(name)), "")
    return label, branch.removeprefix("origin/")


def parse_label(text: str) -> str:
    """A run's label: one line of at most 256 characters."""
    text = text.strip()
    if "\n" in text or len(text) > 256:
        raise ValueError("a label is one line of at most 256 characters")
    return text


DEFAULT_HISTORY_RUNS = 10
REFERENCE = re.compile(r"last|label:(?P<label>.+)|history(:(?P<runs>[1-9][0-9]*))?")


@dataclass(frozen=True)
class Reference:
    """Which stored runs: the last one, the last with a label, or the last N."""

    text: str
    label: str | None = None
    runs: int = 1

    def describe(self) -> str:
        if self.label is not None:
            return f"the last run labelled {self.label}"
        return "the last run" if self.text == "last" else f"the last {self.runs} runs"


def parse_reference(text: str) -> Reference | None:
    """A history reference, or None when `text` is a folder's path."""
    found = REFERENCE.fullmatch(text.strip())
    if not found:
        return None
    if found["label"] is not None:
        return Reference(text, label=found["label"])
    if text.strip().startswith("history"):
        return Reference(text, runs=int(found["runs"] or DEFAULT_HISTORY_RUNS))
    return Reference(text)
