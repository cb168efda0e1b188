"""End to end: the run history in PostgreSQL, through a URL with a password (started by
the test: tests/postgres_support.py). Three sweeps listed, `--baseline last` and
`--baseline history` without the earlier folders, the report's History section, and the
password never printed nor written to plan.json."""

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsload.exits import EXIT_OK
from tests.e2e_support import clean_env, only_run_dir, run_script
from tests.postgres_support import PASSWORD, postgres_missing, postgres_server
from tests.test_e2e_history import endpoint, sweep  # noqa: F401  (the stand-in fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    if missing := postgres_missing():
        pytest.skip(missing)
    # Not under pytest's temp folder: that is root's alone, and the server runs as another user.
    with postgres_server(Path(tempfile.mkdtemp(prefix="ecs-history-pg-"))) as url:
        yield url


def test_three_sweeps_through_a_url(
    endpoint: dict[str, str],  # noqa: F811
    database: str,
    tmp_path: Path,
) -> None:
    env = {**endpoint, "ECS_LOAD_HISTORY": database}
    folders = []
    for i, baseline in enumerate((None, "last", "history:5")):
        results = tmp_path / f"run-{i + 1}"
        args = ["--label", f"pg-{i + 1}", *(("--baseline", baseline) if baseline else ())]
        done = sweep(env, results, *args)
        assert done.returncode == EXIT_OK, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        run_dir = only_run_dir(results)
        folders.append(run_dir)
        plan = (run_dir / "plan.json").read_text()
        assert PASSWORD not in plan and json.loads(plan)["history"].count("***") == 1
        if baseline:
            comparison = json.loads((run_dir / "comparison.json").read_text())
            assert "postgresql://ecs:***@127.0.0.1" in comparison["baseline"]
            assert [level["users"] for level in comparison["levels"]] == [5, 10]
        if i < 2:
            shutil.rmtree(run_dir)
    listed = run_script("history", "--history", database, env=clean_env())
    assert listed.returncode == EXIT_OK, listed.stderr
    assert PASSWORD not in listed.stdout
    rows = [line.split()[3] for line in listed.stdout.splitlines() if "pg-" in line]
    assert rows == ["pg-1", "pg-2", "pg-3"]
    page = (folders[2] / "report.html").read_text()
    assert '<h2 id="history">History</h2>' in page and PASSWORD not in page
