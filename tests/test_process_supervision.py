"""lib/process.sh and its supervisor: the script signals nothing it has reaped, and a stop
leaves nothing of the command running.

Each case drives the library's real functions from a bash script. The PID-reuse case runs
in a PID namespace of its own (unshare, as root) so that it can hand a stopped child's PID
to another process on purpose (/proc/sys/kernel/ns_last_pid) without touching the
machine's other processes.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.e2e_support import processes_mentioning

ROOT = Path(__file__).resolve().parent.parent


def drive(
    body: str, *prefix: str, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run BODY in bash with lib/process.sh sourced, after PREFIX (a wrapper command)."""
    script = f'set -euo pipefail\nsource "{ROOT}/lib/process.sh"\n' + textwrap.dedent(body)
    return subprocess.run(
        [*prefix, "bash", "-c", script],
        env={
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "PY": sys.executable,
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_reaped_childs_pid_given_to_another_process_is_not_signalled() -> None:
    # run_locust's order: launch, wait (bash reaps it), stop_group. In between, the PID
    # goes to a stranger that leads a process group of its own, as another sweep's
    # Locust does; before the supervisor, stop_group SIGTERMed it and SIGKILLed its group.
    result = drive(
        """
        echo 100 >/proc/sys/kernel/ns_last_pid
        launch /dev/null true
        pid=$LAUNCHED
        wait "$pid" || true
        echo $((pid - 2)) >/proc/sys/kernel/ns_last_pid  # the subshell takes pid-1
        (setsid sleep 30 >/dev/null 2>&1 &)
        until stranger=$(pgrep -x sleep); do sleep 0.05; done
        [[ $stranger == "$pid" ]] || { echo "no reuse: $pid $stranger"; exit 3; }
        stop_group "$pid" 0
        sleep 0.3
        if pid_alive "$stranger"; then echo untouched; else echo signalled; fi
        """,
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
    )
    assert result.stdout.strip() == "untouched", result.stdout + result.stderr


def test_exit_codes_pass_through_the_supervisor() -> None:
    result = drive(
        """
        launch /dev/null sh -c 'exit 7'
        rc=0; wait "$LAUNCHED" || rc=$?; echo "$rc"
        launch /dev/null sh -c 'kill -KILL $$'
        rc=0; wait "$LAUNCHED" || rc=$?; echo "$rc"
        """
    )
    assert result.stdout.split() == ["7", "137"], result.stderr


SLEEPER = '"$PY" -c "import time; time.sleep(300)"'  # a sleep whose command line carries a tag


def test_stop_ends_a_command_that_ignores_sigterm_and_all_it_started(tmp_path: Path) -> None:
    # A child in the group, and one that left it (setsid) and is orphaned when the
    # command dies: the supervisor is their subreaper and kills both.
    tag = str(tmp_path / "stopped")
    result = drive(
        f"""
        launch /dev/null sh -c 'trap "" TERM; {SLEEPER} "$0"-group &
          setsid {SLEEPER} "$0"-escaped & exec {SLEEPER} "$0"-leader' "$TAG"
        until [[ $(pgrep -fc -- "$TAG-") == 3 ]]; do sleep 0.05; done
        started=$SECONDS
        stop_group "$LAUNCHED" 1
        echo "$((SECONDS - started))"
        """,
        TAG=tag,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) <= 3
    assert processes_mentioning(tag) == []


def test_a_command_that_ends_leaves_nothing_of_its_group(tmp_path: Path) -> None:
    tag = str(tmp_path / "left")
    result = drive(
        f"""
        launch /dev/null sh -c '{SLEEPER} "$0"-behind & exit 0' "$TAG"
        rc=0; wait "$LAUNCHED" || rc=$?; echo "$rc"
        """,
        TAG=tag,
    )
    assert result.stdout.split() == ["0"], result.stderr
    assert processes_mentioning(tag) == []
