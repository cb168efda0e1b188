"""The e2e helpers themselves, on real processes."""

import subprocess
import sys

from tests.e2e_support import processes_mentioning


def test_a_process_whose_arguments_are_not_utf8_is_read_not_a_crash() -> None:
    """An unrelated process with a \\xff argument failed every test that looked for orphans."""
    marker = "ecs-load-marker-8f3a"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", marker.encode(), b"\xff\xfe"]
    )
    try:
        found = processes_mentioning(marker)
        assert any(line.startswith(f"{proc.pid}:") for line in found), found
    finally:
        proc.kill()
        proc.wait()
