"""Helpers for the harness's tests and benchmarks: its commands and a real ECS node.

Every process runs in its own process group, bounded in time, and the group is
killed afterwards, so nothing is left running.
"""

import argparse
import contextlib
import importlib
import io
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecsload.cli import invoke
from ecsload.plan.locust_command import level_command, worker_command
from ecsload.plugin.options import add_options
from ecsload.run_folder import RunFolder
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


def run_module(
    module: str,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`python -m ecsload.commands.MODULE ARGS…` run in-process, as its `main(argv)` (httpie's
    tests do the same): its exit code and what it wrote, from `cwd`, with `env` as the
    environment (default: the test's, without ECS_*). The process adds nothing these
    commands do (no signal, no child); run_module_process keeps the bash contract tested.
    `timeout` is pytest-timeout's here."""
    command = importlib.import_module(f"ecsload.commands.{module}")
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env or command_env())
    try:
        with (
            contextlib.chdir(cwd or Path.cwd()),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = invoke(lambda: command.main(list(args)), command.PROG)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def run_module_process(module: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`python -m ecsload.commands.MODULE ARGS…` as a process of its own, as bash runs it."""
    return run_command([sys.executable, "-m", f"ecsload.commands.{module}", *args], **kwargs)


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
    """The plan command, in-process (run_module), from `tmp_path`, with `env` added."""
    return run_module(
        "plan", "-o", str(tmp_path / "results"), *args, cwd=tmp_path, env=command_env(**env)
    )


def plan_process(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The plan command as run_load_test.sh runs it: a process of its own."""
    return run_module_process(
        "plan",
        "-o",
        str(tmp_path / "results"),
        *args,
        cwd=tmp_path,
        env=command_env(**env),
        timeout=30,
    )


def evaluated(stdout: str) -> dict[str, str]:
    """The variables bash has after `eval "$stdout"` (each line NAME=VALUE, the value quoted
    for the shell; evaluated_by_bash checks that bash reads them so)."""
    values = {}
    for line in stdout.splitlines():
        name, quoted = line.split("=", 1)
        values[name] = "".join(shlex.split(quoted))
    return values


def evaluated_by_bash(stdout: str) -> dict[str, str]:
    """The variables bash has after `eval "$stdout"`, asked from bash itself."""
    names = [line.split("=", 1)[0] for line in stdout.splitlines()]
    script = f'eval "$PLAN"; for n in {" ".join(names)}; do printf "%s=%s\\0" "$n" "${{!n}}"; done'
    out = subprocess.run(
        ["bash", "-c", script], env={"PLAN": stdout}, capture_output=True, text=True, check=True
    ).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


def planned(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The plan.json of the run folder a plan made."""
    run_dir = Path(evaluated(result.stdout)["RUN_DIR"])
    return json.loads((run_dir / "plan.json").read_text())


def locust_argv(result: subprocess.CompletedProcess[str], key: int, last: bool = True) -> list[str]:
    """The Locust command line of the level `key` of the run a plan made, as bash gets it
    (the endpoint a deployment's, or a stand-in for the local node's)."""
    saved = planned(result)
    folder = RunFolder(Path(saved["run_dir"])).level(key)
    endpoint = saved["endpoint"] or "http://127.0.0.1:9"
    return level_command(saved, folder, key, last, endpoint, saved["credentials"] or "")


def worker_argv(result: subprocess.CompletedProcess[str], index: int = 1) -> list[str]:
    """The Locust command line of a worker machine's level `index`, from the plan it made."""
    saved = planned(result)
    return worker_command(saved, RunFolder(Path(saved["run_dir"])).worker(index))


def option(argv: Sequence[str], name: str) -> str | None:
    """The value given to option `name` in `argv` (None: not given)."""
    return argv[argv.index(name) + 1] if name in argv else None


def locust_reads(argv: Sequence[str]) -> argparse.Namespace:
    """The locustfile's options as Locust parses them from `argv` (with their defaults)."""
    parser = argparse.ArgumentParser()
    add_options(parser)
    return parser.parse_known_args(argv)[0]


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
