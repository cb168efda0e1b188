"""The plaintext credentials file (`ECS_CREDENTIALS`): one `key:secret` pair per line.

The rules, which the creds command applies to `--from-pairs` and which whatever signs
requests with the file must apply too, so that what is hashed is what is sent:

- a UTF-8 byte order mark at the start is dropped;
- lines end with LF or CRLF; the line ending is not part of the secret;
- blank lines, and lines whose first non-blank character is `#`, are skipped;
- the key is what comes before the first `:`: non-empty UTF-8, no spaces or control
  characters (so it cannot be mistaken for a key written with surrounding spaces);
- the secret is everything after that `:`, byte for byte (spaces and further colons are part
  of it): non-empty UTF-8 (HTTP Basic credentials are decoded as UTF-8), and not a hash, which
  would mean the file is an `.htpasswd`;
- a key appears once.

The node's format, read by the node's creds command (ecsnode.creds) and by the harness
(ecsload.credentials, through ecsload.node_files).
Standard library only: `--help` runs on bare python3 and imports the plan, which imports
this. Messages name the line, never its secret.
"""

from __future__ import annotations

BOM = b"\xef\xbb\xbf"
HASH_PREFIXES = ("$apr1$", "$2y$", "$2a$", "$2b$", "{SHA}", "$1$", "$5$", "$6$")
"""How the hashes htpasswd writes begin (apr1-MD5, bcrypt, SHA-1, crypt variants)."""


class PairsError(ValueError):
    """The file is not a pairs file; the message is one line and names the line at fault."""


def parse_pairs(data: bytes, source: str) -> list[tuple[str, str]]:
    """The (key, secret) pairs of a pairs file's bytes, or PairsError saying what is wrong."""
    pairs: list[tuple[str, str]] = []
    lines_of: dict[str, int] = {}
    for number, line in enumerate(data.removeprefix(BOM).split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        key, secret = _pair(line, f"{source} line {number}")
        if key in lines_of:
            raise PairsError(f"{source} line {number} repeats the key of line {lines_of[key]}")
        lines_of[key] = number
        pairs.append((key, secret))
    if not pairs:
        raise PairsError(f"{source} holds no key:secret pair")
    return pairs


def _pair(line: bytes, where: str) -> tuple[str, str]:
    raw_key, colon, raw_secret = line.partition(b":")
    try:
        key, secret = raw_key.decode(), raw_secret.decode()
    except UnicodeDecodeError:
        raise PairsError(f"{where} is not UTF-8 text") from None
    if not (colon and key and secret):
        raise PairsError(f"{where} is not a key:secret pair")
    if not key.isprintable() or any(character.isspace() for character in key):
        raise PairsError(f"{where}: the key holds spaces or control characters")
    if secret.startswith(HASH_PREFIXES):
        raise PairsError(
            f"{where} holds a hashed password: this is an .htpasswd, not the key:secret pairs"
        )
    return key, secret
