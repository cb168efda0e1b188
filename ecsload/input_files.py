"""Read a file that the user named as input: a regular file only, and no larger than a limit.

Why: a FIFO given where a file is expected hangs whoever opens it (the plan waited forever
for a writer), and /dev/zero reads until memory runs out. So the file is opened without
blocking, its kind is checked on the open descriptor (what was checked is what is read),
and at most the limit plus one byte is read. Standard library only: the plan uses it before
the venv exists.
"""

import os
import stat
from pathlib import Path

MIB = 1024 * 1024

KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputFileError(Exception):
    """What is wrong with the file, to follow its name: "is a FIFO (named pipe), not ..."."""


def not_regular(mode: int) -> str | None:
    """Why a file of this mode is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file: give a file"


def too_large(limit: int) -> str:
    return f"is larger than the limit of {limit // MIB} MiB: is it the right file?"


def read_input_file(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, or InputFileError saying why not."""
    try:
        problem = not_regular(os.stat(path).st_mode)
        if problem:
            raise InputFileError(problem)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputFileError("does not exist") from None
    except OSError as error:
        raise InputFileError(f"cannot be read: {error.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        status = os.fstat(fd)
        problem = not_regular(status.st_mode)  # swapped in since the stat above
        if problem:
            raise InputFileError(problem)
        if status.st_size > limit:
            raise InputFileError(too_large(limit))
        try:
            data = stream.read(limit + 1)
        except OSError as error:
            raise InputFileError(f"cannot be read: {error.strerror}") from None
    if len(data) > limit:
        raise InputFileError(too_large(limit))
    return data
