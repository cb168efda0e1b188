"""The plan's history settings: where the history is, labels, a password never shown,
and a baseline from the history refused before the run when it cannot be had."""

import json
from pathlib import Path

from ecsload.exits import EXIT_USAGE
from ecsload.history import store
from tests.ecsload_support import assert_refused, evaluated, plan
from tests.test_history import latencies, made_run

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
        EXIT_USAGE,
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


def test_a_gate_whose_history_baseline_is_not_there_refuses_before_the_run(
    tmp_path: Path,
) -> None:
    history = str(tmp_path / "h.sqlite")
    store.append(history, *made_run(1, latencies(1), label="v1"))
    assert_refused(
        plan(
            tmp_path,
            "--baseline",
            "label:no-such-label",
            "--fail-on-regression",
            "--history",
            history,
        ),
        tmp_path,
        EXIT_USAGE,
        "baseline label:no-such-label: history|the last run labelled no-such-label|"
        "--fail-on-regression cannot pass|--baseline-optional",
    )
    (tmp_path / "empty").mkdir()
    assert_refused(
        plan(tmp_path / "empty", "--baseline", "history:3", "--fail-on-regression"),
        tmp_path / "empty",
        EXIT_USAGE,
        "baseline history:3: history|--fail-on-regression cannot pass",
    )
    first = plan(tmp_path, "--baseline", "last", "--fail-on-regression", "--baseline-optional")
    assert first.returncode == 0, first.stderr  # a first CI job: nothing to compare with yet
    assert "not compared" in first.stderr
    assert saved_plan(first.stdout)["baseline"] is None
    found = plan(tmp_path, "-c", "10", "--baseline", "label:v1", "--history", history)
    assert found.returncode == 0, found.stderr
    assert saved_plan(found.stdout)["baseline"] == "label:v1"


def test_a_history_baseline_of_the_other_kind_of_level_or_other_levels_is_refused(
    tmp_path: Path,
) -> None:
    history = str(tmp_path / "h.sqlite")
    run, levels, rows = made_run(1, latencies(1))  # one level of 10 users
    store.append(history, run, [{**levels[0], "model": "closed"}], rows)
    assert_refused(
        plan(tmp_path, "--rates", "10", "--baseline", "last", "--history", history),
        tmp_path,
        EXIT_USAGE,
        "baseline last: run 1 of|its levels 10 users and this run's levels 10 req/s are not "
        "the same kind of level",
    )
    assert_refused(
        plan(tmp_path, "-c", "7 8", "--baseline", "history:3", "--history", history),
        tmp_path,
        EXIT_USAGE,
        "it has no level in common with this run (its levels 10 users; this run's levels 7 8",
    )
    run, levels, rows = made_run(2, latencies(2))
    store.append(history, run, [{**levels[0], "model": "open"}], rows)  # 10 req/s
    assert_refused(
        plan(tmp_path, "-c", "10", "--baseline", "last", "--history", history),
        tmp_path,
        EXIT_USAGE,
        "its levels 10 req/s and this run's levels 10 users are not the same kind of level",
    )
    rates = plan(tmp_path, "--rates", "10 20", "--baseline", "last", "--history", history)
    assert rates.returncode == 0, rates.stderr
