"""Make API credentials, as ECS operators' `ecsctl.sh creds` does.

    python -m ecsnode.creds [N] --htpasswd FILE

prints N `key:secret` lines on stdout (keep them: that is the credentials file a load test
uses) and appends `key:$apr1$...` lines to FILE, the htpasswd file the node (or nginx) checks.
Only the hashes go into FILE. Exit codes: 0 done; 2 bad arguments or FILE not writable.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import uuid
from collections.abc import Sequence
from typing import NoReturn

from passlib.hash import apr_md5_crypt

MAX_PAIRS = 10_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAIRS:
        raise argparse.ArgumentTypeError(f"N must be a whole number 1..{MAX_PAIRS}, not {text!r}")
    return int(text)


def new_pair() -> tuple[str, str]:
    """A uuid4 hex key and a 128-bit hex secret, the shapes ECS's API documents."""
    return uuid.uuid4().hex, secrets.token_hex(16)


def append_hashes(path: str, pairs: Sequence[tuple[str, str]]) -> bool:
    """Append apr1 hashes of `pairs` to the htpasswd file at `path`; True if it was created."""
    lines = "".join(f"{key}:{apr_md5_crypt.hash(secret)}\n" for key, secret in pairs)
    created = not os.path.exists(path)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab+") as stream:
        if stream.seek(0, os.SEEK_END) > 0:
            stream.seek(-1, os.SEEK_END)
            if stream.read(1) != b"\n":
                lines = "\n" + lines
        stream.write(lines.encode())
    return created


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m ecsnode.creds",
        description="Print N key:secret lines and append their apr1 hashes to an htpasswd file.",
        epilog="Exit codes: 0 done; 2 bad arguments or the file cannot be written.",
    )
    parser.add_argument(
        "count", nargs="?", type=_count, default=5, metavar="N", help="how many pairs (default 5)"
    )
    parser.add_argument(
        "--htpasswd", required=True, metavar="FILE", help="htpasswd file to create or append to"
    )
    args = parser.parse_args(argv)
    pairs = [new_pair() for _ in range(args.count)]
    try:
        created = append_hashes(args.htpasswd, pairs)
    except OSError as error:
        print(f"{parser.prog}: cannot write {args.htpasswd}: {error.strerror}", file=sys.stderr)
        return 2
    verb = "created" if created else "added to"
    print(f"{verb} {args.htpasswd}: {len(pairs)} hashed credentials", file=sys.stderr)
    sys.stdout.write("".join(f"{key}:{secret}\n" for key, secret in pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
