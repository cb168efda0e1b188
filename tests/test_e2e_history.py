"""End to end: the run history. Three sweeps of one endpoint into one SQLite history,
compared with `--baseline last` and `--baseline history` after their folders are
deleted; two sweeps writing one history at once; a locked or corrupt history that
costs the run nothing but its history row (exit 8 when the history was asked for).

The target is the nginx stand-in (10 ms service time, one port for every sweep, so
every run is of the same endpoint), as in test_e2e_verdict.py.
"""

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.exits import EXIT_HISTORY, EXIT_OK
from tests.e2e_support import SCRIPT, clean_env, only_run_dir, run_script
from tests.nginx_support import DELAYED_ENDPOINTS, free_port, nginx_ecs, nginx_missing

pytestmark = pytest.mark.e2e

PLAN = ("-c", "5 10", "-n", "300", "-r", "50", "-q")
SERVICE = dict.fromkeys(DELAYED_ENDPOINTS, 10.0)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The stand-in's environment for the script: ECS_ENDPOINT and ECS_CREDENTIALS."""
    if missing := nginx_missing():
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("stand-in")
    with nginx_ecs(folder, access_log=False, delays=SERVICE, port=free_port()) as server:
        yield clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))


def sweep(
    env: dict[str, str], results: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    return run_script(*PLAN, *args, "-o", str(results), env={**env, **extra}, timeout=300)


def history(history_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_script("history", "--history", str(history_file), *args, env=clean_env())


def test_three_sweeps_listed_and_compared_without_their_folders(
    endpoint: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "history.sqlite"
    folders = []
    for i, baseline in enumerate((None, "last", "history")):
        results = tmp_path / f"run-{i + 1}"
        args = ["--history", str(store), "--label", f"build-{i + 1}"]
        args += ["--baseline", baseline] if baseline else []
        done = sweep(endpoint, results, *args)
        assert done.returncode == EXIT_OK, done.stderr
        assert "Added to the history" in done.stdout
        run_dir = only_run_dir(results)
        folders.append(run_dir)
        if baseline:
            comparison = json.loads((run_dir / "comparison.json").read_text())
            assert comparison["baseline"].startswith(f"history {store}")
            assert [level["users"] for level in comparison["levels"]] == [5, 10]
            assert "Tasks-Happy-Path" in comparison["levels"][0]["types"]
        if i < 2:
            shutil.rmtree(run_dir)  # the next runs have no folder of this one
    assert "2 runs" in json.loads((folders[2] / "comparison.json").read_text())["baseline"]
    listed = history(store)
    assert listed.returncode == EXIT_OK, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "build-" in line]
    assert [row.split()[3] for row in rows] == ["build-1", "build-2", "build-3"]
    assert "▁" in listed.stdout or "█" in listed.stdout  # the sparklines
    data = json.loads(history(store, "--json", "--level", "10").stdout)
    assert [run["label"] for run in data["runs"]] == ["build-1", "build-2", "build-3"]
    assert data["runs"][2]["verdict"] in ("same", "slower", "faster", "not judged")
    assert data["runs"][0]["levels"]["10"]["(all)"]["p95"] > 0
    page = (folders[2] / "report.html").read_text()
    assert '<h2 id="history">History</h2>' in page
    assert 'class="this-run"' in page and "build-1" in page


def test_two_sweeps_at_once_both_recorded_whole(endpoint: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    sweeps = [
        subprocess.Popen(
            [
                str(SCRIPT),
                *PLAN,
                "--history",
                str(store),
                "--label",
                f"at-once-{i}",
                "-o",
                str(tmp_path / f"run-{i}"),
            ],
            env=endpoint,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in (1, 2)
    ]
    outputs = [script.communicate(timeout=300) for script in sweeps]
    for script, (out, err) in zip(sweeps, outputs, strict=True):
        assert script.returncode == EXIT_OK, err
        assert "Added to the history" in out
    with sqlite3.connect(store) as db:
        labels = sorted(label for (label,) in db.execute("SELECT label FROM runs"))
        per_run = db.execute(
            "SELECT r.label, COUNT(*), COUNT(f.histogram) FROM runs r JOIN figures f "
            "ON f.run_id = r.id GROUP BY r.id"
        ).fetchall()
        levels = db.execute("SELECT COUNT(*) FROM levels").fetchone()[0]
    assert labels == ["at-once-1", "at-once-2"]
    assert levels == 4
    for _, figures, histograms in per_run:  # each level's types and (all), all with histograms
        assert figures >= 6 and histograms == figures


def assert_results_complete(results: Path) -> None:
    run_dir = only_run_dir(results)
    for name in ("summary.json", "summary.txt", "report.html", "plan.json"):
        assert (run_dir / name).is_file(), name


def test_locked_history_costs_the_run_only_its_row(
    endpoint: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "history.sqlite"
    sweep(endpoint, tmp_path / "first", "--history", str(store))  # makes the file
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer that does not let go
    try:
        done = sweep(
            endpoint, tmp_path / "locked", "--history", str(store), ECS_LOAD_HISTORY_WAIT="1"
        )
    finally:
        holder.close()
    assert done.returncode == EXIT_HISTORY, done.stderr
    lines = [line for line in done.stderr.splitlines() if "not added to the history" in line]
    assert len(lines) == 1 and "locked by another process" in lines[0]
    assert_results_complete(tmp_path / "locked")


def test_corrupt_history_explicit_exit_8_default_a_note(
    endpoint: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "history.sqlite"
    store.write_bytes(b"this is not a database\n" * 100)
    done = sweep(endpoint, tmp_path / "explicit", "--history", str(store))
    assert done.returncode == EXIT_HISTORY, done.stderr
    assert "corrupt" in done.stderr and "Traceback" not in done.stderr
    assert_results_complete(tmp_path / "explicit")
    fresh = tmp_path / "fresh.sqlite"  # the run it missed, imported from its folder
    folder = str(only_run_dir(tmp_path / "explicit"))
    imported = history(fresh, "import", folder)
    assert imported.returncode == EXIT_OK and "added as run 1" in imported.stdout
    assert "already in the history" in history(fresh, "import", folder).stdout
    assert "1 run(s)" in history(fresh).stdout
    default = tmp_path / "default"
    default.mkdir()
    (default / "history.sqlite").write_bytes(store.read_bytes())
    done = sweep(endpoint, default)
    assert done.returncode == EXIT_OK, done.stderr
    assert "corrupt" in done.stderr and "the run's exit code is unchanged" in done.stderr
    assert_results_complete(default)
