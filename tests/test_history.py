"""The run history on hand-made runs: the store (SQLite), its schema checks, the stored
histograms as a comparison's baseline, change points on series with a known answer,
and the location's secrets and labels."""

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ecsload.analysis.baseline import BaselineError
from ecsload.analysis.comparison import DEFAULT_DRIFT, SLOWER, Rule, compare
from ecsload.analysis.samples import Samples, read_level
from ecsload.analysis.stats import NO_ANSWER
from ecsload.history import histograms, store, windows
from ecsload.history.baseline import (
    check_stored_baseline,
    drift_between,
    measured_drift,
    stored_baseline,
)
from ecsload.history.changes import change_points
from ecsload.history.record import level_histograms
from ecsload.history.schema import ALL_TYPES, SCHEMA_VERSION
from ecsload.history_location import (
    default_label,
    parse_history,
    parse_reference,
    without_secret,
)
from ecsload.report.comparison_text import shared_machine_levels
from ecsload.sample_columns import HEADER

TYPES = ("NoOp", "Tasks-Happy-Path")


def made_run(
    n: int, latency_ms: np.ndarray, target: str = "", label: str = "", rps: float = 100.0
) -> tuple[dict, list[dict], list[dict]]:
    """A stored run's rows: one level of 10 users, two types with the same latencies."""
    run = {
        "run_key": f"run-{n}",
        "target": target,
        "endpoint": "http://127.0.0.1:1",
        "label": label or f"build-{n}",
        "branch": "",
        "created": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
        "started": None,
        "ended": None,
        "recorded": "2026-01-01T01:00:00Z",
        "run_dir": f"/runs/{n}",
        "verdict": "",
        "plan": "{}",
    }
    levels = [
        {
            "users": 10,
            "seconds": 2.0,
            "generator_share": 20.0,
            "windows": windows.encode(measured_level(latency_ms)),
        }
    ]
    rows = []
    for name in (ALL_TYPES, *TYPES):
        rows.append(
            {
                "users": 10,
                "type": name,
                "requests": len(latency_ms),
                "errors": 0,
                "rate_limited": 0,
                "p50": float(np.percentile(latency_ms, 50)),
                "p95": float(np.percentile(latency_ms, 95)),
                "p99": float(np.percentile(latency_ms, 99)),
                "rps": rps,
                "goodput": rps,
                "histogram": histograms.encode(latency_ms),
            }
        )
    return run, levels, rows


def measured_level(latency_ms: np.ndarray, repeats: int = 2) -> Samples:
    """A level's measured samples: the latencies over 10 s in each repeat, types in turn."""
    total = len(latency_ms)
    repeat = (np.arange(total) * repeats // total + 1).astype(np.int16)
    within = np.arange(total) % (total // repeats)
    return Samples(
        timestamp_ms=1_700_000_000_000
        + repeat.astype(np.int64) * 100_000
        + within * 10_000 // (total // repeats),
        type_code=(np.arange(total) % len(TYPES)).astype(np.int16),
        type_names=TYPES,
        user_id=np.zeros(total, dtype=np.int64),
        ok=np.ones(total, dtype=bool),
        status=np.full(total, 200, dtype=np.int16),
        response_time_ms=latency_ms,
        measured=np.ones(total, dtype=bool),
        error=np.full(total, b""),
        late_ms=np.zeros(total),
        repeat=repeat,
    )


def latencies(seed: int, scale: float = 1.0, n: int = 2000) -> np.ndarray:
    return np.exp(np.random.default_rng(seed).normal(math.log(20 * scale), 0.4, n))


def test_histogram_keeps_percentiles_within_one_percent() -> None:
    values = latencies(1)
    decoded = histograms.decode(histograms.encode(values))
    assert len(decoded) == len(values)
    for p in (50, 95, 99):
        assert np.percentile(decoded, p) == pytest.approx(np.percentile(values, p), rel=0.01)


def test_append_read_and_prune(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    for n in range(5):
        assert store.append(location, *made_run(n, latencies(n))) is not None
    assert store.append(location, *made_run(0, latencies(0))) is None  # already there
    store.append(location, *made_run(9, latencies(9), target="https://other"))
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, "", last=3)
        assert store.latest_target(connection) == "https://other"
    assert [run.label for run in runs] == ["build-2", "build-3", "build-4"]
    assert runs[0].levels[10]["NoOp"]["p95"] > runs[0].levels[10]["NoOp"]["p50"]
    assert store.prune(location, keep=2) == 3
    with store.transaction(location, create=False) as connection:
        assert [run.label for run in store.run_rows(connection, "")] == ["build-3", "build-4"]
        assert store.count_runs(connection) == 3


def test_newer_schema_and_corrupt_file_are_one_line_errors(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    store.append(str(newer), *made_run(1, latencies(1)))
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(store.HistoryError, match="newer than this ecs-load's"):
        store.append(str(newer), *made_run(2, latencies(2)))
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database" * 200)
    with pytest.raises(store.HistoryError, match="corrupt"):
        store.append(str(corrupt), *made_run(1, latencies(1)))
    with pytest.raises(store.HistoryError, match="unreachable") as refused:
        store.append("postgresql://ci:hunter2@127.0.0.1:1/h", *made_run(1, latencies(1)))
    assert "hunter2" not in str(refused.value) and "ci:***@127.0.0.1:1" in str(refused.value)
    absent = store.transaction(str(tmp_path / "absent.sqlite"), create=False)
    with pytest.raises(store.HistoryError, match="no such file"), absent:
        pass


def test_history_baseline_pools_the_runs_and_measures_their_drift(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    for n in range(6):  # between-run spread of p50: about 10% (the scale's SD)
        scale = math.exp(np.random.default_rng(100 + n).normal(0, 0.1))
        store.append(location, *made_run(n, latencies(n, scale)))
    stored = stored_baseline(location, "", parse_reference("history:6"))
    assert len(stored.runs) == 6
    assert len(stored.samples[10]) == 6 * 2000
    assert len(np.unique(stored.samples[10].repeat)) == 12  # each run's 2 repeats
    drift = drift_between(stored.runs)
    assert 3 < drift["p50"] < 25
    assert set(drift) == {"p50", "p95", "p99", "goodput", "error_percent"}
    found, source = measured_drift(location, "", "closed", DEFAULT_DRIFT)
    assert found["p50"] == drift["p50"] and "between 6 stored runs" in source
    rule = Rule(10, 0, found, source)
    slower = compare(stored.samples, {10: measured_level(latencies(50, 2.0))}, rule)
    assert slower["verdict"] == SLOWER
    same = compare(stored.samples, {10: measured_level(latencies(51))}, rule)
    assert same["verdict"] != SLOWER
    two = str(tmp_path / "two.sqlite")
    for n in range(2):
        store.append(two, *made_run(n, latencies(n)))
    assert measured_drift(two, "", "closed", DEFAULT_DRIFT)[0] == DEFAULT_DRIFT  # too few


def test_an_older_history_is_migrated_and_its_runs_without_windows_refused_as_baselines(
    tmp_path: Path,
) -> None:
    location = tmp_path / "h.sqlite"
    store.append(str(location), *made_run(1, latencies(1)))
    with sqlite3.connect(location) as db:  # the history as version 2 left it
        db.execute("ALTER TABLE levels DROP COLUMN windows")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    reference = parse_reference("last")
    assert reference is not None
    store.append(str(location), *made_run(2, latencies(2)))  # migrated to version 3
    with sqlite3.connect(location) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
        db.execute("UPDATE levels SET windows = NULL WHERE run_id = 1")
    assert len(check_stored_baseline(str(location), "", reference, ("closed", [10]))) == 1
    with pytest.raises(BaselineError, match="stored by an older ecs-load"):
        check_stored_baseline(str(location), "", parse_reference("history:2"), ("closed", [10]))


def test_a_baseline_measured_beside_another_sweep_carries_it_to_the_comparison(
    tmp_path: Path,
) -> None:
    """A version 3 history gains the count of other sweeps beside each level (null for the
    runs before); a stored run that ran beside one says so in its baseline's levels, which
    the comparison's note reads (a run at half speed beside another sweep, as a baseline,
    makes a real slowdown look the same or faster)."""
    location = tmp_path / "h.sqlite"
    store.append(str(location), *made_run(1, latencies(1)))
    with sqlite3.connect(location) as db:  # the history as version 3 left it
        db.execute("ALTER TABLE levels DROP COLUMN other_sweeps")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    run, levels, rows = made_run(2, latencies(2))
    levels[0]["other_sweeps"] = 1
    store.append(str(location), run, levels, rows)  # migrated to version 4
    with sqlite3.connect(location) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
        assert db.execute("SELECT run_id, other_sweeps FROM levels ORDER BY run_id").fetchall() == [
            (1, None),
            (2, 1),
        ]
    last = parse_reference("last")
    first = parse_reference("label:build-1")
    assert last is not None and first is not None
    [beside] = stored_baseline(str(location), "", last).levels
    assert beside["users"] == 10 and len(beside["other_sweeps"]) == 1
    assert shared_machine_levels([beside]) == [10]
    [alone] = stored_baseline(str(location), "", first).levels
    assert alone["other_sweeps"] == [] and shared_machine_levels([alone]) == []


def test_change_point_found_at_the_step_and_none_in_a_flat_series() -> None:
    rng = np.random.default_rng(7)
    runs = []
    for n in range(60):
        scale = math.exp(rng.normal(0, 0.05)) * (1.2 if n >= 40 else 1.0)
        rate = 500 * math.exp(rng.normal(0, 0.05))
        figures = {"p50": 20 * scale, "p95": 40 * scale, "rps": rate, "goodput": rate}
        runs.append(
            store.StoredRun(
                n, "", None, f"b{n}", "", f"{n:03d}", "", None, {10: {ALL_TYPES: figures}}
            )
        )
    found = change_points(runs)
    assert {change.figure for change in found} == {"p50", "p95"}
    for change in found:
        assert change.direction == "slower" and abs(change.run_id - 40) <= 2
        assert 10 < change.change_percent < 30 and change.p_value < 0.001
    assert change_points(runs[:38]) == []
    falling = [
        store.StoredRun(
            **{
                **vars(run),
                "levels": {10: {ALL_TYPES: {"goodput": 1 / run.levels[10][ALL_TYPES]["p50"]}}},
            }
        )
        for run in runs
    ]
    assert [c.direction for c in change_points(falling)] == ["slower"]


def test_location_masks_secrets_and_labels_from_ci() -> None:
    url = "postgresql://ci:hunter2@db.example:5432/perf?password=hunter2"
    assert "hunter2" not in without_secret(url)
    assert without_secret(url).startswith("postgresql://ci:***@db.example:5432/perf")
    assert without_secret("/tmp/h.sqlite") == "/tmp/h.sqlite"
    with pytest.raises(ValueError, match="mysql"):
        parse_history("mysql://x/y")
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert default_label({"GITHUB_SHA": sha, "GITHUB_REF_NAME": "main"})[:2] == (sha[:12], "main")
    assert default_label({"BUILD_NUMBER": "42", "GIT_BRANCH": "origin/dev"})[:2] == ("42", "dev")
    assert default_label({}) == ("", "", None, None)
    assert parse_reference("last").runs == 1
    assert parse_reference("history").runs == 10
    assert parse_reference("history:3").runs == 3
    assert parse_reference("label:v1.2").label == "v1.2"
    assert parse_reference("results/2026") is None


def test_histograms_hold_answered_requests_only_over_every_repeat(tmp_path: Path) -> None:
    """A request with no answer (status 0, timed until the cap) is an error, never a latency:
    the stored histogram leaves it out, and the baseline read back counts it as no answer."""
    level = tmp_path / "level-10"
    for repeat, answered_ms in enumerate((5.0, 7.0), 1):
        folder = level / f"repeat-{repeat}"
        folder.mkdir(parents=True)
        rows = [f"{1000 + i},NoOp,1,1,200,{answered_ms},measure,,0.0\n" for i in range(20)]
        rows += [f"{2000 + i},NoOp,1,0,0,3000.0,measure,no answer,0.0\n" for i in range(5)]
        rows.append(f"900,NoOp,1,1,200,{answered_ms},ramp,,0.0\n")
        (folder / "samples.csv").write_text(HEADER + "".join(rows))
    found = level_histograms(level)
    assert len(histograms.decode(found["NoOp"])) == 40  # 20 answered a repeat: no capped, no ramp
    assert histograms.decode(found["NoOp"]).max() < 10

    stored = windows.decode(windows.encode(read_level(level).where(read_level(level).measured)))
    answered = stored.status != NO_ANSWER
    assert (np.count_nonzero(answered), np.count_nonzero(~answered)) == (40, 10)
    assert np.count_nonzero(~stored.ok) == 10  # no answer: an error, never a latency
    assert stored.response_time_ms[answered].max() < 10
    assert sorted(np.unique(stored.repeat)) == [1, 2]


def test_reading_a_history_takes_no_write_lock_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read took BEGIN IMMEDIATE and set WAL: a history on read-only storage, or one
    another process was writing, could not be read."""
    location = str(tmp_path / "h.sqlite")
    store.append(location, *made_run(1, latencies(1)))
    data = Path(location).read_bytes()
    monkeypatch.setenv("ECS_LOAD_HISTORY_WAIT", "0.1")
    writer = sqlite3.connect(location, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another sweep appending its run
    try:
        with store.transaction(location, create=False) as connection:
            assert [run.label for run in store.run_rows(connection, "")] == ["build-1"]
        with pytest.raises(store.HistoryError, match="locked"):
            store.append(location, *made_run(2, latencies(2)))
    finally:
        writer.close()
    assert Path(location).read_bytes() == data


def test_runs_are_in_the_order_they_were_added_never_by_their_date(tmp_path: Path) -> None:
    """A run imported with `created` 9999-12-31 survived prune and was `last` forever."""
    location = str(tmp_path / "h.sqlite")
    future, spaced = made_run(1, latencies(1)), made_run(2, latencies(2))
    future[0]["created"] = "9999-12-31T00:00:00Z"
    spaced[0]["created"] = "2026-01-01 23:00:00Z"  # a space sorts before T
    for run in (future, spaced, *(made_run(n, latencies(n)) for n in (3, 4, 5))):
        store.append(location, *run)
    with store.transaction(location, create=False) as connection:
        assert [r.label for r in store.run_rows(connection, "", last=2)] == ["build-4", "build-5"]
    assert store.prune(location, keep=2) == 3
    with store.transaction(location, create=False) as connection:
        assert [r.label for r in store.run_rows(connection, "")] == ["build-4", "build-5"]


def test_a_symlink_a_foreign_database_and_a_bad_schema_version_are_refused(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere.sqlite"
    link = tmp_path / "h.sqlite"
    link.symlink_to(target)
    with pytest.raises(store.HistoryError, match="symbolic link"):
        store.append(str(link), *made_run(1, latencies(1)))
    assert not target.exists()
    foreign = tmp_path / "app.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(store.HistoryError, match="a database of something else"):
        store.append(str(foreign), *made_run(1, latencies(1)))
    with sqlite3.connect(foreign) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["accounts"]
    odd = tmp_path / "odd.sqlite"
    store.append(str(odd), *made_run(1, latencies(1)))
    with sqlite3.connect(odd) as db:
        db.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    for attempt in (
        lambda: store.append(str(odd), *made_run(2, latencies(2))),
        lambda: store.transaction(str(odd), create=False).__enter__(),
    ):
        with pytest.raises(store.HistoryError, match="is not a number"):
            attempt()


@pytest.mark.parametrize("wait", ["inf", "nan", "-1", "abc", "1e9"])
def test_a_history_wait_out_of_range_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wait: str
) -> None:
    monkeypatch.setenv("ECS_LOAD_HISTORY_WAIT", wait)
    with pytest.raises(store.HistoryError, match="ECS_LOAD_HISTORY_WAIT"):
        store.append(str(tmp_path / "h.sqlite"), *made_run(1, latencies(1)))


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://ecsu:p/ss/word@127.0.0.1:1/h", "p/ss/word"),
        ("postgresql://ecsw:Pw#tail@127.0.0.1:1/h", "Pw#tail"),
        ("postgresql://ecsw:Pw@tail@127.0.0.1:1/h", "tail"),
        ("postgresql://ecsw:Pw@127.0.0.1:1/h?password=qz9", "qz9"),
        ("postgresql://u:secret7@127.0.0.1:abc/db", "secret7"),
    ],
)
def test_masking_parses_a_url_as_sqlalchemy_does(url: str, password: str) -> None:
    shown = without_secret(url)
    assert password not in shown
    assert shown.startswith("postgresql://")
    with pytest.raises(store.HistoryError) as refused:
        store.append(url, *made_run(1, latencies(1)))
    assert password not in str(refused.value)


def test_a_history_url_sqlalchemy_cannot_use_is_refused_at_the_door() -> None:
    for url in ("postgresql://u:p@127.0.0.1:abc/db", "mysql://u:p@h/db"):
        with pytest.raises(ValueError) as refused:
            parse_history(url)
        assert ":p@" not in str(refused.value)


def test_ci_variables_are_made_one_printable_line_with_a_note() -> None:
    """A 300-character branch failed PostgreSQL's column (the run lost); BUILD_NUMBER with
    a newline went around the one-line rule; bytes that are not UTF-8 crashed the run."""
    found = default_label(
        {
            "BUILD_NUMBER": "12\n34\x1b[31m",
            "GITHUB_REF_NAME": "b" * 300,
        }
    )
    assert found.label == "12?34?[31m"
    assert found.branch == "b" * 256
    assert found.label_note and "BUILD_NUMBER" in found.label_note
    assert found.branch_note and "GITHUB_REF_NAME" in found.branch_note
    not_utf8 = b"rel-\xff\xfe".decode("utf-8", "surrogateescape")  # as os.environ has it
    assert default_label({"BUILD_ID": not_utf8}).label == "rel-\ufffd\ufffd"


def test_a_label_is_one_printable_line() -> None:
    from ecsload.history_location import parse_label

    assert parse_label(b"\xff\xfe".decode("utf-8", "surrogateescape")) == "\ufffd\ufffd"
    for bad in ("a\nb", "a\rb", "\x1b[2Jgone", "x" * 257):
        with pytest.raises(ValueError, match="one line of at most 256 printable"):
            parse_label(bad)


def test_change_points_from_zero_have_no_infinite_percentage() -> None:
    """Errors appearing (0 before) wrote "change_percent": Infinity, which is not JSON."""
    import json

    from ecsload.history.trend import history_json, history_table

    runs = []
    for n in range(12):
        run = store.StoredRun(n + 1, "", None, f"b{n}", "", f"2026-01-01T00:00:{n:02d}Z", "", None)
        errors = 0 if n < 6 else 50
        run.levels[10] = {ALL_TYPES: {"requests": 100, "errors": errors, "p95": 10.0, "rps": 5.0}}
        runs.append(run)
    changes = change_points(runs, figures=("error_percent",))
    assert changes and changes[0].change_percent is None
    json.dumps(history_json("h", "", runs, changes), allow_nan=False)
    assert "from 0 to 50 slower" in changes[0].short()
    assert "inf" not in history_table("local", runs, changes)


def write_run_folder(folder: Path, summary: dict) -> Path:
    import json

    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"created": "2026-01-01T00:00:00Z"}))
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def level_of(users: object = 2, p50: object = 5.0, ci: object = None) -> dict:
    return {
        "users": users,
        "seconds": 1.0,
        "all": {"ok": 10, "error": 0, "p50": p50, "p95": 6.0, "p99": 7.0, "ci": ci},
        "types": {},
    }


@pytest.mark.parametrize(
    ("level", "why"),
    [
        (level_of(users="2; DROP TABLE runs"), "not one ecs-load wrote"),
        (level_of(ci=3), "not one ecs-load wrote"),
        (level_of(p50=float("nan")), "NaN"),
        (level_of(p50=-4.0), "p50 -4.0 is not what the history holds"),
        (level_of(p50=float("inf")), "Infinity"),
    ],
)
def test_history_import_checks_each_value_of_a_summary(
    tmp_path: Path, level: dict, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile summary.json crashed `history import`, or stored NaN or a negative p50
    that crashed a later --baseline history:3."""
    from ecsload.commands.history import import_runs

    folder = write_run_folder(tmp_path / "run", {"version": 2, "levels": [level]})
    location = str(tmp_path / "h.sqlite")
    assert import_runs(location, [folder]) == 2
    err = capsys.readouterr().err
    assert "not imported" in err and why in err, err
    assert err.count("\n") == 1


def test_history_n_is_bounded_and_the_history_command_checks_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """history:99999999999999999999 overflowed SQL's LIMIT; `history` with
    ECS_LOAD_HISTORY=mysql://… gave a traceback."""
    from ecsload.cli import UserError
    from ecsload.commands.history import location_of

    with pytest.raises(ValueError, match="at most 1000 runs"):
        parse_reference("history:99999999999999999999")
    assert parse_reference("history:1000") is not None
    for url in ("mysql://u:pw9@h/db", "postgresql+psycopg2://u:pw9@h/db"):
        monkeypatch.setenv("ECS_LOAD_HISTORY", url)
        with pytest.raises(UserError, match=r"ECS_LOAD_HISTORY: .* is not a history") as refused:
            location_of(None)
        assert "pw9" not in str(refused.value)


def test_a_capacity_search_is_stored_and_shown_with_its_sparkline(tmp_path: Path) -> None:
    from ecsload.history.record import capacity_columns
    from ecsload.history.trend import history_json, history_table

    location = str(tmp_path / "h.sqlite")
    answers = [(372, 386, "service"), (351, 367, "service"), (None, 50, "errors")]
    answers.append((1000, None, "max-rate"))
    for n, (rate, high, limited) in enumerate(answers):
        run, levels, rows = made_run(n, latencies(n))
        found = {"rate": rate, "interval": [rate, high], "limited_by": limited}
        store.append(location, {**run, **capacity_columns(found)}, levels, rows)
    store.append(location, *made_run(4, latencies(4)))  # a sweep: no capacity
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, "")
    assert [run.capacity for run in runs] == [
        {"rate": 372.0, "interval": [372.0, 386.0], "limited_by": "service"},
        {"rate": 351.0, "interval": [351.0, 367.0], "limited_by": "service"},
        {"rate": None, "interval": [None, 50.0], "limited_by": "errors"},
        {"rate": 1000.0, "interval": [1000.0, None], "limited_by": "max-rate"},
        None,
    ]
    table = history_table("the local node", runs, [])
    assert "Capacity req/s" in table.splitlines()[1]
    assert "372 [372, 386] service" in table and "below 50 errors" in table
    assert "at least 1000 max-rate" in table
    assert "   capacity req/s   ▁▁ █   351.0 to 1000" in table  # a sweep: no bar
    assert history_json(location, "", runs, [])["runs"][0]["capacity"]["rate"] == 372.0


def test_a_version_1_history_gains_the_capacity_columns(tmp_path: Path) -> None:
    """A history written before capacity searches (schema 1) is migrated in place."""
    old = tmp_path / "v1.sqlite"
    store.append(str(old), *made_run(1, latencies(1)))
    with sqlite3.connect(old) as db:
        for column in ("capacity", "capacity_low", "capacity_high", "capacity_limited_by"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("ALTER TABLE levels DROP COLUMN windows")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store.append(str(old), *made_run(2, latencies(2)))
    with sqlite3.connect(old) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert {"capacity", "capacity_limited_by"} <= columns and version == (str(SCHEMA_VERSION),)
    with store.transaction(str(old), create=False) as connection:
        assert [run.capacity for run in store.run_rows(connection, "")] == [None, None]


def test_the_report_never_logs_in_with_a_masked_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report RUN` on a PostgreSQL-history run logged in with the literal password ***
    (plan.json's) and replaced the History section with the failed login."""
    from ecsload.history.report_section import history_section

    monkeypatch.delenv("ECS_LOAD_HISTORY", raising=False)
    plan = {"history": without_secret("postgresql://ci:hunter2@127.0.0.1:1/h"), "endpoint": ""}
    section = history_section(tmp_path, plan)
    assert section is not None and "ECS_LOAD_HISTORY" in section["note"]
    assert "unreachable" not in section["note"]


def test_ctrl_c_during_the_history_append_is_said_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while the run was being added: a KeyboardInterrupt traceback, exit 0, no word
    that the history did not get the run. (store.append is replaced by one that raises
    KeyboardInterrupt: a real SIGINT cannot be aimed at that moment.)"""
    import json

    from ecsload.commands import history as command
    from ecsload.exits import EXIT_INTERRUPTED

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"history": str(tmp_path / "h.sqlite")}))
    (folder / "summary.json").write_text(json.dumps({"version": 2, "levels": []}))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "folder_record", lambda folder: ({}, [], []))
    monkeypatch.setattr(store, "append", interrupted)
    assert command.append_run(folder) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted: this run was not added to the history" in err


def test_an_arrival_rate_level_is_named_by_its_rate_in_the_history(tmp_path: Path) -> None:
    from ecsload.history.trend import history_table

    location = str(tmp_path / "h.sqlite")
    for n in range(2):
        run, levels, rows = made_run(n, latencies(n))
        levels = [{**levels[0], "users": 200, "model": "open"}]
        store.append(location, run, levels, [{**row, "users": 200} for row in rows])
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, "")
    assert runs[0].models == {200: "open"}
    text = history_table("the local ECS node", runs, [])
    assert "p95 ms @200/s" in text and "req/s @200/s" in text
    assert "      200/s p95 ms " in text
    assert "users" not in text


def test_labels_and_figures_are_checked_as_the_history_is_read(tmp_path: Path) -> None:
    """ANSI escapes and CR in a stored label were printed raw by `history` (a terminal can
    be driven by a label); a NaN or negative figure a history holds is no figure."""
    location = str(tmp_path / "h.sqlite")
    store.append(location, *made_run(1, latencies(1)))
    with sqlite3.connect(location) as db:  # as an older version, or a hand, wrote it
        db.execute("UPDATE runs SET label = ?, branch = ?", ("\x1b[2Jgone\r", "b\nx"))
        db.execute("UPDATE figures SET p50 = 'NaN', p95 = -3.0")
    with store.transaction(location, create=False) as connection:
        (run,) = store.run_rows(connection, "")
    assert (run.label, run.branch) == ("?[2Jgone?", "b?x")
    assert run.levels[10][ALL_TYPES]["p95"] is None
    drift = drift_between([run, run, run])  # no NaN nor negative figure in the drift floor
    assert "p50" not in drift and "p95" not in drift and drift["p99"] == 0


def test_a_history_on_read_only_storage_is_read(tmp_path: Path) -> None:
    """`history` and --baseline last failed "cannot be opened for writing" on read-only
    storage. A read-only bind mount needs root and a mount namespace (unshare -m)."""
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a read-only mount needs root and unshare")
    folder = tmp_path / "ro"
    folder.mkdir()
    store.append(str(folder / "h.sqlite"), *made_run(1, latencies(1)))
    read = (
        "from ecsload.history import store\n"
        f"with store.transaction({str(folder / 'h.sqlite')!r}, create=False) as c:\n"
        "    print([r.label for r in store.run_rows(c, '')])\n"
    )
    script = (
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
        f'! touch {folder}/probe 2>/dev/null && exec {sys.executable} -c "$0"'
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, read],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['build-1']"


def test_a_history_an_older_ecs_load_wrote_is_read_with_its_runs(tmp_path: Path) -> None:
    """After an upgrade, reading (`history`, `--baseline last`) found "no run yet" in a
    history of schema 2: a read now brings it up to date first, once, and finds its runs."""
    location = tmp_path / "h.sqlite"
    store.append(str(location), *made_run(1, latencies(1)))
    with sqlite3.connect(location) as db:  # the history as version 2 left it
        db.execute("ALTER TABLE levels DROP COLUMN windows")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with store.transaction(str(location), create=False) as connection:
        assert store.count_runs(connection) == 1
    with sqlite3.connect(location) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)


def test_the_history_marks_the_levels_measured_beside_another_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run 2 ran beside another sweep at its one level: its figures are marked in the table,
    the JSON and the report's History section, and the mark is explained; runs 1 and 3 are
    not marked."""
    from ecsload.history.report_section import history_section
    from ecsload.history.trend import BESIDE_NOTE, history_json, history_table

    location = str(tmp_path / "h.sqlite")
    for n in (1, 2, 3):
        run, levels, rows = made_run(n, latencies(n))
        levels[0]["other_sweeps"] = 1 if n == 2 else 0
        store.append(location, run, levels, rows)
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, "")
    text = history_table("the local ECS node", runs, [])
    rows = {line.split()[0]: line for line in text.splitlines() if line[:1].isdigit()}
    assert rows["2"].count("†") == 2 and "†" not in rows["1"] + rows["3"]
    assert text.splitlines()[-1] == BESIDE_NOTE
    assert [r["other_sweeps"] for r in history_json(location, "", runs, [])["runs"]] == [
        {"10": 0},
        {"10": 1},
        {"10": 0},
    ]
    monkeypatch.delenv("ECS_LOAD_HISTORY", raising=False)
    section = history_section(tmp_path, {"history": location, "endpoint": ""})
    assert section is not None and section["title"].endswith(BESIDE_NOTE)
    marked = [row["cells"][0] for row in section["rows"] if any("†" in c for c in row["cells"])]
    assert marked == ["2"]
    alone = history_table("the local ECS node", [runs[0], runs[2]], [])
    assert "†" not in alone
