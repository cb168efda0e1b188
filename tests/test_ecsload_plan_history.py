"""The plan's history settings: where the history is, labels, a password never shown,
and a baseline from the history refused before the run when it cannot be had."""

import json
from pathlib import Path

from ecsload.exits import EXIT_CONFIG, EXIT_USAGE
from tests.ecsload_support import assert_refused, evaluated, plan

URL = "postgresql://ci:hunter2@127.0.0.1:1/history"


def saved_plan(stdout: str) -> dict:
    return json.loads((Path(evaluated(stdout)["RUN_DIR"]) / "plan.json").read_text())


def test_a_url_reaches_bash_but_no_file_nor_line_holds_its_password(tmp_path: Path) -> None:
    result = plan(tmp_path, "-v", "--history", URL)
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["HISTORY"] == URL
    assert "hunter2" not in result.stderr
    assert "postgresql://ci:***@127.0.0.1:1/history" in result.stderr
    saved = saved_plan(result.stdout)
    assert saved["history"] == "postgresql://ci:***@127.0.0.1:1/history"
    assert "hunter2" not in json.dumps(saved)


def test_no_history_label_from_ci_and_from_the_option(tmp_path: Path) -> None:
    result = plan(tmp_path, "--no-history", GITHUB_SHA="ab" * 20, GITHUB_REF_NAME="main")
    assert evaluated(result.stdout)["HISTORY"] == ""
    saved = saved_plan(result.stdout)
    assert (saved["history"], saved["label"], saved["branch"]) == (None, "ab" * 6, "main")
    result = plan(tmp_path, "--label", "v1.2", ECS_LOAD_HISTORY=str(tmp_path / "h.sqlite"))
    assert evaluated(result.stdout)["HISTORY"] == str(tmp_path / "h.sqlite")
    assert saved_plan(result.stdout)["label"] == "v1.2"


def test_baseline_from_a_history_that_cannot_give_one(tmp_path: Path) -> None:
    first = plan(tmp_path, "--baseline", "last")  # a first CI job: nothing to compare with
    assert first.returncode == 0, first.stderr
    assert "note: baseline last:" in first.stderr and "not compared" in first.stderr
    assert saved_plan(first.stdout)["baseline"] is None
    (tmp_path / "other").mkdir()
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database" * 100)
    assert_refused(
        plan(tmp_path / "other", "--baseline", "history", "--history", str(broken)),
        tmp_path / "other",
        EXIT_CONFIG,
        "baseline history: history|corrupt",
    )
    assert_refused(
        plan(tmp_path / "other", "--baseline", "history:5", "--no-history"),
        tmp_path / "other",
        EXIT_USAGE,
        "reads the history|--no-history",
    )
    assert_refused(
        plan(tmp_path / "other", "--history", "mysql://x/y"),
        tmp_path / "other",
        EXIT_USAGE,
        "mysql:// is not",
    )
