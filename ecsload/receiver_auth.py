"""The credentials of a metrics receiver (--metrics-credentials): a file, never an option.

Its first line is `bearer TOKEN` or `basic USER:PASSWORD`; what comes back is the
Authorization header to send. A base module (standard library only): the plan
checks the file before the sweep, the level sends it (ecsload.plugin.live_metrics).
"""

import base64
from pathlib import Path

from ecsload.input_files import InputFileError, read_input_file

AUTH_FILE_LIMIT = 64 * 1024


class AuthFileError(Exception):
    """A receiver's credentials file that cannot be used (the message names the file only)."""


def read_auth(path: str | Path) -> dict[str, str]:
    """The Authorization header of a credentials file, whose first line is either
    `bearer TOKEN` or `basic USER:PASSWORD` (a receiver behind a proxy that checks them)."""
    try:
        text = read_input_file(str(path), AUTH_FILE_LIMIT).decode("utf-8")
    except InputFileError as error:
        raise AuthFileError(f"{path} {error}") from None
    except UnicodeDecodeError:
        raise AuthFileError(f"{path} cannot be read: not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kind, _, secret = (lines[0] if lines else "").partition(" ")
    secret = secret.strip()
    if kind.lower() == "bearer" and secret and " " not in secret:
        return {"Authorization": f"Bearer {secret}"}
    if kind.lower() == "basic" and ":" in secret:
        user, _, password = secret.partition(":")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    raise AuthFileError(
        f"{path}: its first line is neither `bearer TOKEN` nor `basic USER:PASSWORD`"
    )
