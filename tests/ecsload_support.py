"""Helpers for the harness's tests and benchmarks: its commands and a real ECS node.

Every process runs in its own process group, bounded in time, and the group is
killed afterwards, so nothing is left running.
"""

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.node_fixtures import make_credentials, running_node

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "locustfile.py"
PAIRS = (
    "0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210\n"
    "00000000000000000000000000000001:11111111111111111111111111111111\n"
)


def command_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's ECS_* settings, with the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECS_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_command(
    args: Sequence[str],
    timeout: float = 60,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end in its own process group, bounded by `timeout`."""
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env=env or command_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        kill_group(process)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def run_module(module: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`python -m ecsload.commands.MODULE ARGS…` with this test run's Python."""
    return run_command([sys.executable, "-m", f"ecsload.commands.{module}", *args], **kwargs)  # type: ignore[arg-type]


def locust_args(url: str, folder: Path, *args: str, locustfile: Path = LOCUSTFILE) -> list[str]:
    """Headless Locust with the locustfile, recording into `folder`, as run_load_test.sh runs it."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--host",
        url,
        "--exit-code-on-error",
        "0",
        "--only-summary",
        "--logfile",
        str(folder / "locust.log"),
        "--samples-file",
        str(folder / "samples.csv"),
        "--level-info",
        str(folder / "level.json"),
        *args,
    ]


@dataclass(frozen=True)
class Target:
    url: str
    credentials: Path  # plaintext pairs it accepts


@contextmanager
def node_running(folder: Path) -> Iterator[Target]:
    """A real ECS node (ecservice.py, process runner) on a free loopback port, checking an
    .htpasswd made by the creds command; `credentials` holds the matching plaintext pairs."""
    done = make_credentials(folder / ".htpasswd")
    if done.returncode:
        raise RuntimeError(f"the creds command failed: {done.stderr}")
    credentials = folder / "credentials.txt"
    credentials.write_text(done.stdout)
    with running_node(folder / "node", "--htpasswd", str(folder / ".htpasswd")) as node:
        yield Target(node.base, credentials)


def plan(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_module(
        "plan",
        "-o",
        str(tmp_path / "results"),
        *args,
        cwd=tmp_path,
        env=command_env(**env),
        timeout=30,
    )


def evaluated(stdout: str) -> dict[str, str]:
    """The variables bash has after `eval "$stdout"`."""
    names = [line.split("=", 1)[0] for line in stdout.splitlines()]
    script = f'eval "$PLAN"; for n in {" ".join(names)}; do printf "%s=%s\\0" "$n" "${{!n}}"; done'
    out = subprocess.run(
        ["bash", "-c", script], env={"PLAN": stdout}, capture_output=True, text=True, check=True
    ).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def assert_refused(
    result: subprocess.CompletedProcess[str], tmp_path: Path, code: int, message: str
) -> None:
    """Exit `code`, one line on stderr holding every |-separated part of `message`, no folder."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("run_load_test.sh: ")
    for part in message.split("|"):
        assert part in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()
