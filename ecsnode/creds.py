"""Make API credentials, as ECS operators' `ecsctl.sh creds` does.

    python -m ecsnode.creds [N] --htpasswd FILE [--pairs PAIRS]
    python -m ecsnode.creds --from-pairs PAIRS --htpasswd FILE

The first form makes N new `key:secret` pairs: it writes them to PAIRS (a new file, in a
folder made 0700 when it does not exist yet, as ssh keeps ~/.ssh) or prints
them on stdout (keep them: that is the credentials file a load test uses), and appends their
`key:$apr1$...` hashes to FILE, the htpasswd file the node (or nginx) checks. The second form
hashes the pairs of an existing credentials file (ecsnode/pairs.py says its format) into FILE,
so a node accepts a user's own credentials. Only hashes go into FILE. Every file this command
creates is mode 0600 from the start, before anything is written to it.
Exit codes: 0 done; 2 bad arguments, a file that cannot be read or written, a PAIRS file that
already exists (first form) or is not a pairs file (second form), or a key FILE already has.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import uuid
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NoReturn

from passlib.hash import apr_md5_crypt

from ecsnode.pairs import PairsError, parse_pairs

MAX_PAIRS = 10_000
DEFAULT_PAIRS = 5
PRIVATE = 0o600
PRIVATE_FOLDER = 0o700


class CredsError(Exception):
    """Something this command cannot do; the message is the one line the user sees."""


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


def _open_private(path: str, flags: int) -> int:
    """Create `path` exclusively with mode 0600 whatever the umask; its descriptor."""
    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return fd


def private_folders(path: str) -> list[str]:
    """Make the missing folders above `path`, each mode 0700 whatever the umask (an existing
    one is left as it is); the ones made, outermost first."""
    missing = []
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    made: list[str] = []
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_FOLDER)
            os.chmod(folder, PRIVATE_FOLDER)
        except OSError as error:
            remove_folders(made)
            raise CredsError(
                f"cannot make the folder {folder} for {path}: {error.strerror}"
            ) from None
        made.append(folder)
    return made


def remove_folders(made: list[str]) -> None:
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


@contextlib.contextmanager
def new_private_file(path: str) -> Iterator[BinaryIO]:
    """A new file (never an existing one) for secrets, in a private folder made for it if
    need be; the file and the folders made are removed again if the block fails."""
    made = private_folders(path)
    try:
        fd = _open_private(path, os.O_WRONLY)
    except OSError as error:
        remove_folders(made)
        if isinstance(error, FileExistsError):
            raise CredsError(f"{path} already exists; give a new path for the pairs") from None
        raise CredsError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
    except BaseException:
        os.remove(path)
        remove_folders(made)
        raise


def append_hashes(path: str, pairs: Sequence[tuple[str, str]]) -> bool:
    """Append apr1 hashes of `pairs` to the htpasswd file at `path` (creating it, mode 0600);
    True if it was created. A key the file already has is refused: the first entry of a key
    is the one that counts, so the new secret would never verify."""
    try:
        try:
            fd, created = _open_private(path, os.O_RDWR | os.O_APPEND), True
        except FileExistsError:
            fd, created = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC), False
        with os.fdopen(fd, "rb+") as stream:
            existing = stream.read()
            known = {line.partition(b":")[0].decode(errors="replace") for line in existing.split()}
            for key, _ in pairs:
                if key in known:
                    raise CredsError(f"{path} already has key {key}; use a new htpasswd file")
            lines = "".join(f"{key}:{apr_md5_crypt.hash(secret)}\n" for key, secret in pairs)
            if existing and not existing.endswith(b"\n"):
                lines = "\n" + lines
            stream.write(lines.encode())
    except OSError as error:
        raise CredsError(f"cannot write {path}: {error.strerror}") from None
    return created


def read_pairs_file(path: str) -> list[tuple[str, str]]:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        raise CredsError(f"cannot read the pairs file {path}: {error.strerror}") from None
    try:
        return parse_pairs(data, f"pairs file {path}")
    except PairsError as error:
        raise CredsError(str(error)) from None


def make_credentials(args: argparse.Namespace) -> tuple[int, bool]:
    """Do what the arguments ask; (pairs hashed, whether the htpasswd file was created)."""
    if args.from_pairs:
        pairs = read_pairs_file(args.from_pairs)
        return len(pairs), append_hashes(args.htpasswd, pairs)
    pairs = [new_pair() for _ in range(args.count or DEFAULT_PAIRS)]
    text = "".join(f"{key}:{secret}\n" for key, secret in pairs).encode()
    if not args.pairs:
        created = append_hashes(args.htpasswd, pairs)
        sys.stdout.buffer.write(text)
        return len(pairs), created
    with new_private_file(args.pairs) as stream:  # first: it must not exist
        created = append_hashes(args.htpasswd, pairs)
        stream.write(text)
    return len(pairs), created


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m ecsnode.creds",
        description="Make key:secret pairs (or take them from a file) and append their apr1 "
        "hashes to an htpasswd file.",
        epilog="Exit codes: 0 done; 2 bad arguments, a file that cannot be read or written, "
        "a --pairs file that exists, a --from-pairs file that is not a pairs file, or a key "
        "the htpasswd file already has.",
    )
    add = parser.add_argument
    add("count", nargs="?", type=_count, metavar="N", help=f"new pairs (default {DEFAULT_PAIRS})")
    add("--htpasswd", required=True, metavar="FILE", help="htpasswd file to create or append to")
    add(
        "--pairs",
        metavar="PAIRS",
        help="write the new key:secret pairs to this new file (mode 0600; a missing folder "
        "is made 0700), not stdout",
    )
    add(
        "--from-pairs",
        metavar="PAIRS",
        help="hash the pairs of this existing credentials file instead of making new ones",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.from_pairs and (args.count or args.pairs):
        parser.error("--from-pairs hashes the pairs it reads: give no N and no --pairs with it")
    try:
        count, created = make_credentials(args)
    except CredsError as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    verb = "created" if created else "added to"
    print(f"{verb} {args.htpasswd}: {count} hashed credentials", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
