"""End to end: the live line while a level runs, on a terminal (a pseudo-terminal here), in a
file (a CI log), and silenced by -q; the level's table and summary.json owe nothing to it.
"""

import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from ecsload.report.tables import level_line
from tests.e2e_support import SCRIPT, clean_env, kill_leftovers, only_run_dir, run_script
from tests.ecsload_support import run_module

pytestmark = pytest.mark.e2e

ERASE = "\r\x1b[K"
COLUMNS = 100  # narrower than the whole line: a terminal shows its start
HEAD = r"level 1/1, 5 users, (\d+) s \(cap in (\d+) s\) \| ([\d,]+)/([\d,]+) requests, "
LINE = re.compile(
    HEAD + r"[\d,]+ req/s, [\d,]+ errors?, p95 [\d.]+ ms \| probe p50 [\d.]+ ms, Locust CPU \d+%"
)


def run_in_terminal(args: list[str], timeout: float) -> tuple[int, str]:
    """Run the script with stdout and stderr on a pseudo-terminal of COLUMNS columns;
    its exit code and everything it wrote there."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    script = subprocess.Popen(
        [str(SCRIPT), *args], env=clean_env(TERM="xterm"), stdin=subprocess.DEVNULL,
        stdout=follower, stderr=follower, start_new_session=True,
    )  # fmt: skip
    os.close(follower)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            out += data
        return script.wait(timeout=10), out.decode()
    finally:
        os.close(leader)
        if script.poll() is None:
            script.kill()
            script.wait()


def test_on_a_terminal_the_line_is_redrawn_then_replaced_by_the_table(tmp_path: Path) -> None:
    try:
        code, out = run_in_terminal(
            ["-c", "5", "-n", "3000", "-r", "100", "-t", "60", "-o", str(tmp_path)], timeout=150
        )
    finally:
        kill_leftovers(str(tmp_path))

    assert code == 0, out
    drawn = [part.split("\r")[0] for part in out.split(ERASE)[1:-1]]
    heads = [match for line in drawn if (match := re.match(HEAD, line))]
    assert len(heads) >= 2, drawn  # redrawn about once a second
    assert all(len(line) < COLUMNS for line in drawn)  # cut, never wrapped
    assert all("\n" not in line for line in drawn)
    requests = [int(match[3].replace(",", "")) for match in heads]
    assert requests == sorted(requests) and requests[-1] <= 3000
    assert {match[4] for match in heads} == {"3,000"}
    # erased at the end: the level's line follows on a clean line, as its summary says
    level_dir = only_run_dir(tmp_path) / "level-5"
    table = (level_dir / "summary.txt").read_text()
    level = json.loads((level_dir / "summary.json").read_text())["levels"][0]
    assert ERASE + level_line(level, "level-5/summary.txt") + "\r\n" in out
    after = out.split(ERASE)[-1]
    assert "level 1/1" not in after
    # summary.json is what the samples say, with or without a watcher reading them
    copy = tmp_path / "again"
    shutil.copytree(level_dir, copy)
    assert run_module("summarize", "level", str(copy), "--probe-rate", "2").returncode == 0
    assert json.loads((copy / "summary.json").read_text()) == json.loads(
        (level_dir / "summary.json").read_text()
    )
    assert (copy / "summary.txt").read_text() == table


CAPPED_LEVEL = ("-c", "5", "-n", "1000000", "-r", "100", "-t", "12")  # ends at its time cap


def test_in_a_file_a_plain_line_every_ten_seconds(tmp_path: Path) -> None:
    result = run_script(*CAPPED_LEVEL, "-o", str(tmp_path), timeout=120)

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("level 1/1")]
    assert len(lines) == 1, result.stderr  # at 10 s; the level ends at its 12 s cap
    match = LINE.fullmatch(lines[0])
    assert match, lines[0]
    assert 9 <= int(match[1]) <= 12 and int(match[1]) + int(match[2]) == 12
    assert match[4] == "1,000,000"
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    assert "level 1/1" not in result.stdout
    assert "5 users: " in result.stdout and "! time cap hit" in result.stdout
    level_dir = only_run_dir(tmp_path) / "level-5"
    assert "NOTE: the level hit its time cap of 12 s" in (level_dir / "summary.txt").read_text()


def test_quiet_prints_no_live_line(tmp_path: Path) -> None:
    result = run_script(*CAPPED_LEVEL, "-q", "-o", str(tmp_path), timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "5 users: " in result.stdout
