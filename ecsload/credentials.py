"""The plaintext `key:secret` pairs that Locust signs its requests with.

The file is the one the creds command writes (`--pairs`, or its stdout), not the
`.htpasswd` it writes for the server. Its format is the creds command's own
(`ecsnode.pairs`, through `ecsload.node_files`): the pairs read here are byte for byte the ones its
`--from-pairs` hashes for a local node, so what is sent is what is checked.
Standard library only: `--help` runs on bare python3 and imports the plan, which
imports this.
"""

import base64
from dataclasses import dataclass
from pathlib import Path

from ecsload.cli import UserError
from ecsload.exits import EXIT_USAGE
from ecsload.input_files import MIB, InputFileError, read_input_file
from ecsload.node_files import PairsError, parse_pairs

CREDENTIALS_LIMIT = MIB  # some 16,000 pairs


class CredentialsError(UserError):
    """A credentials file that cannot be used; exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


@dataclass(frozen=True)
class Credential:
    key: str
    secret: str

    @property
    def authorization(self) -> str:
        """The HTTP Basic `Authorization` header value for this pair."""
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode("ascii")
        return f"Basic {token}"


def load_credentials(path: str | Path) -> list[Credential]:
    """Pairs from the file at `path`, or a CredentialsError saying why it cannot be used.

    Error messages name the line but never echo it: it may hold a secret.
    """
    source = f"credentials file {path}"
    try:
        data = read_input_file(path, CREDENTIALS_LIMIT)
    except InputFileError as error:
        raise CredentialsError(f"{source} {error}") from None
    try:
        return [Credential(key, secret) for key, secret in parse_pairs(data, source)]
    except PairsError as error:
        raise CredentialsError(
            f"{error}: give the pairs that the creds command writes (--pairs FILE)"
        ) from None
