"""Reading a file the user points at: a regular file only, and up to a size, in one read.

A FIFO would hang the reader and a device such as /dev/zero would fill memory, so a
path is opened without blocking, checked with fstat (the file that was opened, not
the name), and read only when it is a regular file within `limit` bytes. Standard
library only.
"""

import os
import stat
from pathlib import Path


class FileProblem(Exception):
    """A file that cannot be read whole: its message says why (no path), to follow
    "PATH cannot be read: "."""


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """The whole of a regular file of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise FileProblem(error.strerror or str(error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("not a regular file (a folder, FIFO or device)")
        if info.st_size > limit:
            raise FileProblem(f"over {limit:,} bytes ({info.st_size:,})")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as error:
        raise FileProblem(error.strerror or str(error)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileProblem(f"over {limit:,} bytes (it grew while read)")
    return data
