"""The e2e helpers themselves, on real processes."""

import subprocess
import sys
import time

from tests.e2e_support import processes_mentioning


def test_a_process_whose_arguments_are_not_utf8_is_read_not_a_crash() -> None:
    """An unrelated process with a \\xff argument failed every test that looked for orphans."""
    marker = "ecs-load-marker-8f3a"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", marker.encode(), b"\xff\xfe"]
    )
    try:
        # Polled (up to 5 s): on a busy machine the child may not have exec'd yet.
        for _ in range(50):
            found = processes_mentioning(marker)
            if any(line.startswith(f"{proc.pid}:") for line in found):
                break
            time.sleep(0.1)
        assert any(line.startswith(f"{proc.pid}:") for line in found), found
    finally:
        proc.kill()
        proc.wait()
