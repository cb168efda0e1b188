"""The run folder's owner (ecsload.run_folder): its documents, atomic writes, a full disk.

The full disk is real: a tmpfs of 1 MiB mounted for the test (root only; in CI the
tests run as root) and filled to its last byte.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.run_folder import (
    DocumentError,
    RunFolder,
    WriteError,
    read_plan,
    read_summary,
    write_plan,
    write_text,
)
from tests.ecsload_support import locust_args, node_running, run_command, run_module
from tests.test_ecsload_summarize import steady_rows, write_level

NO_SPACE = "No space left on device"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 1 MiB tmpfs of its own, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs root to mount a tmpfs")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(disk: Path) -> None:
    """Take every free byte of the tmpfs: whole pages first, then what is left."""
    for size in (4096, 512, 1):
        try:
            with (disk / f"filler-{size}").open("wb", buffering=0) as stream:
                while True:
                    stream.write(b"\0" * size)
        except OSError:
            pass


def test_a_document_is_written_with_its_version_and_read_back(tmp_path: Path) -> None:
    path = RunFolder(tmp_path).plan
    write_plan(path, {"endpoint": None, "concurrency": [5]})
    assert path.read_text().startswith('{\n  "version": 1,\n  "endpoint": null,')
    assert read_plan(path)["endpoint"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temp file left


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "cannot be read: Expecting value: line 1 column 1 (char 0)"),
        ("[1, 2]", "is not a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "cannot be read"),
        ('{"version": 1, "levels": []}', "is version 1 of summary.json, and this ecs-load reads "
         "version 2: make it again with this version"),
    ],
)  # fmt: skip
def test_a_document_that_cannot_be_used_says_why(tmp_path: Path, text: str, problem: str) -> None:
    path = RunFolder(tmp_path).summary
    path.write_text(text)
    with pytest.raises(DocumentError) as raised:
        read_summary(path)
    assert raised.value.problem.startswith(problem)
    assert str(raised.value) == f"{path} {raised.value.problem}"
    assert not raised.value.missing


def test_a_missing_document_says_so(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as raised:
        read_summary(tmp_path / "summary.json")
    assert raised.value.missing


def test_a_full_disk_keeps_the_previous_version_whole(disk: Path) -> None:
    path = disk / "summary.txt"
    write_text(path, "the good one\n")
    fill(disk)
    with pytest.raises(WriteError) as raised:
        write_text(path, "x" * 100_000)
    assert str(raised.value) == f"cannot write {path}: {NO_SPACE}"
    assert path.read_text() == "the good one\n"
    assert sorted(p.name for p in disk.iterdir() if not p.name.startswith("filler")) == [
        "summary.txt"
    ]


def finished_run(folder: Path, thresholds: list[str]) -> Path:
    """A run folder as a sweep leaves it before its verdict: one level, its summaries, plan."""
    folder.mkdir(exist_ok=True)
    level = write_level(folder / "level-5", steady_rows(300), {"users": 5, "host": "http://x"})
    for args in (("level", str(level), "--concurrency", "5"), ("run", str(folder))):
        done = run_module("summarize", *args)
        assert done.returncode == 0, done.stderr
    write_plan(RunFolder(folder).plan, {"thresholds": thresholds, "baseline": None})
    return folder


def test_a_full_disk_during_the_verdict_is_one_line_and_the_summary_stays_whole(
    disk: Path,
) -> None:
    run = finished_run(disk / "run", ["p95<5000", "error%<50"])
    summary = (run / "summary.json").read_bytes()
    fill(disk)

    done = run_module("verdict", str(run))

    assert done.returncode == 4, done.stderr
    assert (
        done.stderr
        == f"python -m ecsload.commands.verdict: cannot write {run}/summary.json: {NO_SPACE}\n"
    )
    assert (run / "summary.json").read_bytes() == summary
    assert json.loads(summary)["levels"]
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temp file left
    done = run_module("report", str(run))  # the report still reads it, and cannot write
    assert done.stderr == (
        f"python -m ecsload.commands.report: cannot write the report of {run}: {NO_SPACE} "
        f"({run}/report.html)\n"
    )


def test_the_verdict_writes_every_file_when_there_is_room(tmp_path: Path) -> None:
    run = finished_run(tmp_path / "run", ["p95<5000"])
    done = run_module("verdict", str(run))
    assert done.returncode == 0, done.stderr
    assert read_summary(run / "summary.json")["verdict"]["passed"] is True
    assert (run / "junit.xml").read_text().startswith("<?xml")
    assert "Thresholds" in (run / "thresholds.txt").read_text()


def test_bash_gets_a_workers_paths_and_whether_a_level_is_summarized(tmp_path: Path) -> None:
    done = run_command([sys.executable, "-m", "ecsload.run_folder", "worker", str(tmp_path), "3"])
    assert done.returncode == 0, done.stderr
    worker = RunFolder(tmp_path).worker(3)
    files = [str(worker.info), str(worker.output), str(worker.locust_log)]
    assert done.stdout.split("\0") == [*files, ""]
    assert worker.path.is_dir()
    summarized = [sys.executable, "-m", "ecsload.run_folder", "summarized", str(tmp_path)]
    assert run_command(summarized).returncode == 1
    level = RunFolder(tmp_path).level(5)
    level.path.mkdir()
    level.summary.write_text("{}")
    assert run_command(summarized).returncode == 0
    bad = run_command([sys.executable, "-m", "ecsload.run_folder", "level", str(tmp_path)])
    assert bad.returncode == 1 and bad.stderr.startswith("usage: python -m ecsload.run_folder")


@pytest.mark.e2e  # a real Locust level against a real node
def test_a_full_disk_at_the_end_of_a_level_is_one_line_naming_level_json(
    tmp_path: Path, disk: Path
) -> None:
    level = RunFolder(tmp_path / "run").level(5)
    level.path.mkdir(parents=True)
    info = disk / "level.json"  # the one file on the full disk
    fill(disk)
    with node_running(tmp_path) as node:
        args = locust_args(node.url, level.path, "-u", "5", "-r", "100", "--run-time", "30s",
                           "--stop-after-requests", "100", "--ecs-credentials",
                           str(node.credentials))  # fmt: skip
        args[args.index("--level-info") + 1] = str(info)
        locust = run_command(args, timeout=60)
    assert locust.returncode == 1, locust.stderr
    assert not info.exists()  # not an empty level.json: nothing
    done = run_module("summarize", "level", str(level.path), "--concurrency", "5",
                      "--locust-exit", str(locust.returncode))  # fmt: skip
    assert done.returncode == 4
    assert done.stderr == (
        "python -m ecsload.commands.summarize: Locust failed at 5 concurrency: the disk is full "
        f"({NO_SPACE}, writing {info}); see '{level.locust_log}'\n"
    )
