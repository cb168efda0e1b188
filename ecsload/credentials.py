"""The plaintext `key:secret` pairs that Locust signs its requests with.

The file is what the creds command prints on stdout (one pair per line), not
the `.htpasswd` it writes for the server: a hashed line can never
authenticate, so it is refused with a message that says which file to use.
Standard library only: the plan validates credentials before the venv exists.
"""

import base64
from dataclasses import dataclass
from pathlib import Path

from ecsload.cli import UserError
from ecsload.exits import EXIT_CONFIG

# Prefixes of the hashes htpasswd writes (apr1-MD5, bcrypt, SHA-1, crypt variants).
HASH_PREFIXES = ("$apr1$", "$2y$", "$2a$", "$2b$", "{SHA}", "$1$", "$5$", "$6$")


class CredentialsError(UserError):
    """A credentials file that cannot be used; exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_CONFIG)


@dataclass(frozen=True)
class Credential:
    key: str
    secret: str

    @property
    def authorization(self) -> str:
        """The HTTP Basic `Authorization` header value for this pair."""
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode("ascii")
        return f"Basic {token}"


def parse_credentials(text: str, source: str) -> list[Credential]:
    """Pairs from `text`; blank lines and `#` comments skipped, CRLF and spaces tolerated.

    Error messages name the line but never echo it: it may hold a secret.
    """
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, colon, secret = (part.strip() for part in line.partition(":"))
        if secret.startswith(HASH_PREFIXES):
            raise CredentialsError(
                f"{source} line {number} holds a hashed password: it must hold the plaintext "
                "key:secret pairs that the creds command prints, not the .htpasswd"
            )
        if not (colon and key and secret):
            raise CredentialsError(f"{source} line {number} is not a key:secret pair")
        pairs.append(Credential(key, secret))
    if not pairs:
        raise CredentialsError(
            f"{source} holds no key:secret pair: give the pairs that the creds command prints"
        )
    return pairs


def load_credentials(path: str | Path) -> list[Credential]:
    """Pairs from the file at `path`, or a CredentialsError saying why it cannot be used."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"credentials file {path} does not exist") from None
    except IsADirectoryError:
        raise CredentialsError(f"credentials file {path} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise CredentialsError(f"credentials file {path} cannot be read: {reason}") from None
    return parse_credentials(text, f"credentials file {path}")
