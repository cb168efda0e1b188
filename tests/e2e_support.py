"""Helpers for the end-to-end tests: run the real script, find its processes, read its results."""

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ecsload.model import REQUEST_TYPES
from tests.nginx_support import DELAYED_ENDPOINTS, free_port, nginx_ecs

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "run_load_test.sh"

MODEL_TYPES = set(REQUEST_TYPES)  # the end-to-end tests check that the locustfile sends these


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any ECS_* setting of the developer's, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_", "NEW_RELIC_"))}
    env.update(extra)
    return env


def run_script(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run run_load_test.sh to its end, bounded by `timeout`, capturing its output."""
    return subprocess.run(
        [str(SCRIPT), *args],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def processes_mentioning(text: str) -> list[str]:
    """`PID: command line` of live, non-zombie processes whose arguments contain `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline}")
    return found


def kill_leftovers(text: str) -> None:
    """SIGKILL what a failed test left running (processes mentioning `text`, their groups)."""
    for line in processes_mentioning(text):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(line.split(":", 1)[0]), signal.SIGKILL)


def ctrl_c_as_a_terminal_sends_it() -> None:
    """SIGINT at its default, as a terminal's script gets it: tests run from a shell's
    background job (`cmd &` without job control) inherit SIGINT ignored, and a shell cannot
    trap a signal that was ignored when it started, so its Ctrl-C tests would see nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def script_in_background(
    *args: str, results: Path, **popen: Any
) -> Iterator[subprocess.Popen[str]]:
    """run_load_test.sh ARGS -o RESULTS in its own session, for a test that signals it or
    watches it run. When the block ends the script's group and whatever still mentions
    RESULTS are killed, so a test checks for leftovers inside the block."""
    script = subprocess.Popen(
        [str(SCRIPT), *args, "-o", str(results)],
        env=clean_env(),
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_as_a_terminal_sends_it,
        **popen,
    )
    try:
        yield script
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
        kill_leftovers(str(results))


def level_under_way(
    results: Path,
    users: int,
    size: int,
    script: subprocess.Popen[str] | None = None,
    seconds: float = 120,
) -> bool:
    """Wait (bounded) until the samples.csv of the level of `users` under `results` holds
    more than `size` bytes; False if `script` ended or `seconds` passed first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (script is None or script.poll() is None):
        samples = next(results.glob(f"*/level-{users}/samples.csv"), None)
        if samples is not None and samples.stat().st_size > size:
            return True
        time.sleep(0.1)
    return False


def wait_until_gone(text: str, seconds: float) -> list[str]:
    """Wait up to `seconds` for every process mentioning `text` to end; return the survivors."""
    deadline = time.monotonic() + seconds
    while (left := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def only_run_dir(results: Path) -> Path:
    """The single run folder that one script run made under `results`."""
    runs = [p for p in results.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def sample_count(level_dir: Path) -> int:
    """Rows in a level's samples file (its first line is the header)."""
    with (level_dir / "samples.csv").open() as f:
        return sum(1 for _ in f) - 1


class Sweep:
    """A master and its workers, each a run_load_test.sh in its own process group."""

    def __init__(
        self, tmp_path: Path, endpoint: tuple[str, Path], workers: int, *args: str
    ) -> None:
        url, credentials = endpoint
        port = str(free_port())
        self.tmp_path = tmp_path
        self.master = self._start(
            [
                *args,
                "--master",
                "--expect-workers",
                str(workers),
                "--master-bind-host",
                "127.0.0.1",
                "--master-port",
                port,
                "--worker-wait",
                "60",
                "-o",
                str(tmp_path / "master"),
            ],
            clean_env(ECS_ENDPOINT=url, ECS_CREDENTIALS=str(credentials)),  # for its probe
        )
        self.workers = [
            self._start(
                [
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    port,
                    "-o",
                    str(tmp_path / f"worker-{i}"),
                ],
                clean_env(ECS_CREDENTIALS=str(credentials)),
            )
            for i in range(workers)
        ]

    @staticmethod
    def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SCRIPT), *args],
            env=env,
            text=True,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def processes(self) -> list[subprocess.Popen[str]]:
        return [self.master, *self.workers]

    def finish(self, timeout: float = 240) -> list[tuple[int, str]]:
        """Each script's exit code and output, master first."""
        return [(p.wait(timeout=timeout), "".join(p.communicate())) for p in self.processes()]

    def kill(self) -> None:
        for process in self.processes():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


TEN_MS = dict.fromkeys(DELAYED_ENDPOINTS, 10.0)  # a stand-in's service time, every endpoint


class StandInTarget:
    """A stand-in's folder and port, and the plan every sweep of it runs: each sweep starts
    the stand-in there (with its own delays), so the endpoint, and so the history's
    target, stays the same across sweeps."""

    def __init__(self, folder: Path, plan: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.plan = plan
        self.port = free_port()
        self.runs = 0

    def sweep(
        self, results: Path, *args: str, delays: dict[str, float] = TEN_MS
    ) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        stand_in = self.folder / f"nginx-{self.runs}"
        with nginx_ecs(stand_in, access_log=False, delays=delays, port=self.port) as server:
            env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
            return run_script(*self.plan, *args, "-o", str(results), env=env, timeout=300)
