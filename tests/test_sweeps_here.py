"""The register of the sweeps running on a machine (ecsload/sweeps_here.py), with real processes
and real locks, in a register of the test's own (REGISTRY set in this process and the child's):
a sweep running is seen, its own sweep is not, a sweep killed outright is gone at once."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ecsload import sweeps_here
from ecsload.sweeps_here import SeenBeside, others, own_sweep, registered

REGISTERING = """
import sys
from pathlib import Path
from ecsload import sweeps_here
sweeps_here.REGISTRY = Path(sys.argv[1])
with sweeps_here.registered(sys.argv[2]) as done:
    print(done, flush=True)
    sys.stdin.read()  # until the test closes it
"""

OWN_SWEEP = """
import os
import sys
from pathlib import Path
from ecsload import sweeps_here
sweeps_here.REGISTRY = Path(sys.argv[1])
with sweeps_here.registered(sys.argv[2]):
    own = sweeps_here.own_sweep()
    print(os.getpid(), own, *(entry["pid"] for entry in sweeps_here.others(own)))
"""


@pytest.fixture(autouse=True)
def register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "register"
    monkeypatch.setattr(sweeps_here, "REGISTRY", folder)
    return folder


@contextmanager
def sweep(register: Path, run: Path) -> Iterator[subprocess.Popen[str]]:
    """A process registered as the sweep of `run` until the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", REGISTERING, str(register), str(run)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "True\n"
        yield child
    finally:
        if child.poll() is None:
            child.communicate(timeout=10)


def test_a_running_sweep_is_seen_with_its_run_and_start(register: Path, tmp_path: Path) -> None:
    with sweep(register, tmp_path / "run-a") as child:
        (seen,) = others(None)
        assert seen["pid"] == child.pid and seen["run"] == str(tmp_path / "run-a")
        assert seen["started"].endswith("Z")
        assert others(child.pid) == []  # its own levels do not count it
    assert others(None) == []  # it ended: its file removed
    assert list(register.iterdir()) == []
    assert register.stat().st_mode & 0o7777 == 0o1777  # every user's sweeps register here


def test_a_sweep_killed_outright_is_gone_though_its_file_stays(
    register: Path, tmp_path: Path
) -> None:
    with sweep(register, tmp_path / "run-a") as child:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert (register / f"{child.pid}.json").is_file()
        assert others(None) == []  # nobody holds its lock


def test_a_file_nobody_holds_is_no_sweep_and_a_new_sweep_of_its_pid_takes_it_over(
    register: Path, tmp_path: Path
) -> None:
    register.mkdir()
    (register / "999999.json").write_text(json.dumps({"pid": 999999, "run": "/gone"}))
    (register / f"{os.getpid()}.json").write_text("left by a process of this pid")
    assert others(None) == []
    with registered(str(tmp_path / "run-b")) as done:
        assert done
        entry = json.loads((register / f"{os.getpid()}.json").read_text())
        assert entry["run"] == str(tmp_path / "run-b")
        with sweep(register, tmp_path / "run-c"):  # the other sweep sees this one
            runs = sorted(entry["run"] for entry in others(None))
            assert runs == [str(tmp_path / "run-b"), str(tmp_path / "run-c")]


def test_a_register_that_is_a_link_is_not_followed(register: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    register.symlink_to(tmp_path / "elsewhere")
    with registered(str(tmp_path / "run")) as done:
        assert not done  # the sweep runs, unseen by the others
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert others(None) == []


def test_a_level_keeps_each_sweep_it_saw_once_even_after_that_sweep_ended(
    register: Path, tmp_path: Path
) -> None:
    seen = SeenBeside()
    seen.look()
    assert seen.entries() == []
    with (
        sweep(register, tmp_path / "run-a") as first,
        sweep(register, tmp_path / "run-b") as second,
    ):
        seen.look()
        seen.look()  # seen again: kept once
    seen.look()  # both ended: still kept
    assert seen.entries() == sorted(seen.entries(), key=lambda entry: entry["pid"])
    assert {entry["pid"]: entry["run"] for entry in seen.entries()} == {
        first.pid: str(tmp_path / "run-a"),
        second.pid: str(tmp_path / "run-b"),
    }


def test_a_process_s_own_sweep_is_its_nearest_registered_ancestor(tmp_path: Path) -> None:
    assert own_sweep() is None  # a Locust run by hand: no sweep of its own
    with registered(str(tmp_path / "run-a")):
        assert own_sweep() == os.getpid()
        child = subprocess.run(
            [sys.executable, "-c", OWN_SWEEP, str(sweeps_here.REGISTRY), str(tmp_path / "run-b")],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    # The child registered: its own; this process, its parent and registered too, is another.
    pid, own, *seen = child.stdout.split()
    assert own == pid and seen == [str(os.getpid())]
