"""Where the plan expects a file, only a regular file up to a size limit will do.

A FIFO given as the config file, ECS_CREDENTIALS or --ca-bundle hung the plan waiting for a
writer; /dev/zero read until memory ran out. Each is now one line and exit 2. The plan
runs for real (`python -m ecsload.commands.plan`), bounded in time.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ecsload.exits import EXIT_USAGE
from ecsload.input_files import MIB
from tests.ecsload_support import assert_refused, plan


def fifo(tmp_path: Path) -> str:
    path = tmp_path / "in.fifo"
    os.mkfifo(path)
    return str(path)


def device(_tmp_path: Path) -> str:
    return "/dev/zero"


def folder(tmp_path: Path) -> str:
    path = tmp_path / "folder"
    path.mkdir()
    return str(path)


def oversized(tmp_path: Path) -> str:
    path = tmp_path / "big"
    path.write_text("{}" + " " * (16 * MIB))  # valid JSON, over every limit
    return str(path)


BAD_FILES: dict[str, tuple[Callable[[Path], str], str]] = {
    "fifo": (fifo, "is a FIFO (named pipe), not a regular file: give a file"),
    "device": (device, "is a character device, not a regular file: give a file"),
    "folder": (folder, "is a folder, not a regular file: give a file"),
    "oversized": (oversized, "is larger than the limit of "),
}

HTTPS = "https://127.0.0.1:1"


def plan_with(tmp_path: Path, where: str, path: str):
    if where == "config file":
        return plan(tmp_path, path)
    if where == "ECS_CREDENTIALS":
        return plan(tmp_path, ECS_ENDPOINT="http://127.0.0.1:1", ECS_CREDENTIALS=path)
    return plan(tmp_path, "--no-credentials", "--ca-bundle", path, ECS_ENDPOINT=HTTPS)


@pytest.mark.parametrize("where", ["config file", "ECS_CREDENTIALS", "--ca-bundle"])
@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_only_a_regular_file_of_bounded_size_is_read(tmp_path: Path, where: str, bad: str) -> None:
    make, problem = BAD_FILES[bad]
    path = make(tmp_path)
    assert_refused(plan_with(tmp_path, where, path), tmp_path, EXIT_USAGE, f"{path} {problem}")
