"""Where the run history lives, what its runs are labelled, and its URL with no secret.

A history is a SQLite file (a path) or a database URL (postgresql://…). Standard
library only: the plan resolves these before anything else runs.
"""

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

DEFAULT_FILE = "history.sqlite"  # beside the run folders, under -o (./results)
URL_SCHEMES = ("postgresql", "postgresql+psycopg", "sqlite")
# A CI's own variables, in this order: the commit first, then a build number.
LABEL_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_NUMBER", "BUILD_ID")
BRANCH_VARIABLES = ("GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "GIT_BRANCH", "BRANCH_NAME")
SHA_LENGTH = 12
MAX_LABEL = 256  # characters of a label or a branch (the history's columns)


def is_url(text: str) -> bool:
    return "://" in text


def parse_history(text: str) -> str:
    """A SQLite file's path or a database URL (postgresql://user@host/db), parsed as
    SQLAlchemy will parse it to connect."""
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
        if parsed_url(text) is None:
            raise ValueError(
                f"{without_secret(text)} is not a database URL (a port must be a number; "
                "percent-encode /, #, @ and : in a password): docs/history.md"
            )
    return text


def parsed_url(location: str) -> Any:
    """SQLAlchemy's own parse of a history URL (the one it connects with), or None when it
    cannot parse it. SQLAlchemy is imported here: `--help` runs on bare python3."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(location)
        url.port  # noqa: B018 (a port that is not a number fails here on some versions)
    except (ArgumentError, ValueError, TypeError):
        return None
    return url


HISTORY_OPTION = "ECSLOAD_HISTORY_OPTION"  # a --history URL that run_load_test.sh hid


def with_history_option(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The command line as the user gave it: run_load_test.sh moves a --history URL into
    the environment (it holds a password, and every user sees a command line)."""
    hidden = environ.get(HISTORY_OPTION, "")
    return [*argv, "--history", hidden] if hidden else list(argv)


def default_history(results: str) -> str:
    return os.path.abspath(Path(results) / DEFAULT_FILE)


def history_location(plan: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """The run's history: ECS_LOAD_HISTORY as run_load_test.sh passes it (a URL with its
    password, which plan.json never holds), else plan.json's."""
    return environ.get("ECS_LOAD_HISTORY", "").strip() or plan.get("history") or None


def hidden_password(location: str) -> bool:
    """A URL as a file keeps it, its password masked (without_secret): logging in with it
    would send *** to the server."""
    url = parsed_url(location) if is_url(location) else None
    return url is not None and (url.password == "***" or url.host == "***")


NO_PASSWORD = (
    "its URL in plan.json has no password (it is kept in no file): give the URL in "
    "ECS_LOAD_HISTORY (docs/history.md)"
)


def database_url(location: str) -> str:
    """The SQLAlchemy URL of a history: a path becomes sqlite:///ABS; postgresql:// uses
    psycopg (version 3), the driver this project pins."""
    if not is_url(location):
        return f"sqlite:///{os.path.abspath(location)}"
    if location.startswith("postgresql://"):
        return "postgresql+psycopg://" + location.removeprefix("postgresql://")
    return location


def without_secret(location: str) -> str:
    """The location as it may be printed, stored or shown in a page: the one masking of a
    URL, parsed by SQLAlchemy's make_url as it is to connect, its password replaced by ***
    (render_as_string(hide_password=True)), every query value too (one may be a password),
    and a host with an @ in it (the tail of an unencoded password). A URL it cannot parse
    shows its scheme only."""
    if not is_url(location):
        return location
    url = parsed_url(location)
    if url is None:
        return f"{urlsplit(location).scheme}://***"
    if url.host and "@" in url.host:
        url = url.set(host="***")
    if url.query:
        url = url.set(query={key: "***" for key in url.query})
    return str(url.render_as_string(hide_password=True))


def scrubbed(message: str, location: str) -> str:
    """A message (a driver's error) with every secret of the location's URL replaced by
    ***: its password, a host with an @ in it, its query's values."""
    url = parsed_url(location) if is_url(location) else None
    if url is None:
        return message if not is_url(location) else message.replace(location, "***")
    secrets = [url.password, *url.query.values()]
    if url.host and "@" in url.host:
        secrets += [url.host, *url.host.split("@")[:-1]]
    for secret in sorted((str(s) for s in secrets if s), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


class CiLabel(NamedTuple):
    """A run's label and branch from the CI's variables, and a note for each that was
    not one line of printable UTF-8 (None when it was)."""

    label: str
    branch: str
    label_note: str | None = None
    branch_note: str | None = None


def default_label(environ: Mapping[str, str]) -> CiLabel:
    """The label and branch from the CI's variables: a commit is shortened to 12
    characters; empty outside CI. A variable that is not one line of printable UTF-8 of
    at most MAX_LABEL characters is made one, with a note."""
    label, label_note = ci_variable(environ, LABEL_VARIABLES)
    if len(label) == 40 and all(c in "0123456789abcdef" for c in label.lower()):
        label = label[:SHA_LENGTH]
    branch, branch_note = ci_variable(environ, BRANCH_VARIABLES)
    return CiLabel(label, branch.removeprefix("origin/"), label_note, branch_note)


def ci_variable(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str | None]:
    """The first of `names` that is set, as one printable line; a note if it was not."""
    name = next((name for name in names if environ.get(name, "").strip()), None)
    if name is None:
        return "", None
    value = environ[name].strip()
    cleaned = printable_line(value)
    if cleaned == value:
        return value, None
    return cleaned, (
        f"{name} is not one line of printable UTF-8 of at most {MAX_LABEL} characters: "
        f"the history has it as {cleaned!r}"
    )


def valid_text(text: str) -> str:
    """Text as UTF-8 can hold it: bytes that were not UTF-8 (which Python keeps as lone
    surrogates) become U+FFFD."""
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def printable_line(text: str) -> str:
    """One line of printable UTF-8 of at most MAX_LABEL characters: each control
    character (a newline, a CR, an ANSI escape) becomes ?, and the rest is cut."""
    text = valid_text(text)
    return "".join(c if c.isprintable() else "?" for c in text).strip()[:MAX_LABEL]


def parse_label(text: str) -> str:
    """A run's label: one line of printable characters, at most MAX_LABEL of them (bytes
    that are not UTF-8 become U+FFFD)."""
    text = valid_text(text).strip()
    if len(text) > MAX_LABEL or not text.isprintable():
        raise ValueError(
            f"a label is one line of at most {MAX_LABEL} printable characters (no control "
            "character: newline, CR, tab, escape)"
        )
    return text


DEFAULT_HISTORY_RUNS = 10
MAX_HISTORY_RUNS = 1000  # history:N
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
        return Reference(text, label=parse_label(found["label"]))
    if text.strip().startswith("history"):
        runs = int(found["runs"] or DEFAULT_HISTORY_RUNS)
        if runs > MAX_HISTORY_RUNS:
            raise ValueError(
                f"{text.strip()[:40]!r}: history:N pools at most {MAX_HISTORY_RUNS} runs"
            )
        return Reference(text, runs=runs)
    return Reference(text)
