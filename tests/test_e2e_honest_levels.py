"""End to end: each level is measured at the users its title names, and the generator's share shows.

The figures are checked against the raw samples.csv (read with the csv module,
not with the code that makes the tables), so a table cannot agree with itself
and be wrong.
"""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from ecsload.analysis.sample_size import MARK
from tests.e2e_support import MODEL_TYPES, clean_env, only_run_dir, read_json, run_script
from tests.nginx_support import Nginx

pytestmark = pytest.mark.e2e


def raw_samples(level_dir: Path) -> dict[str, list[dict[str, str]]]:
    """The level's samples.csv rows, by phase."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (level_dir / "samples.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            rows[row["phase"]].append(row)
    return rows


def test_the_default_hatch_rate_measures_every_level_at_its_users_with_every_kind(
    tmp_path: Path,
) -> None:
    result = run_script("-v", "-c", "10 25", "-n", "600", "-o", str(tmp_path))  # hatch rate: 5/s

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path)
    summary = read_json(run_dir / "summary.json")
    for users, level in zip((10, 25), summary["levels"], strict=True):
        rows = raw_samples(run_dir / f"level-{users}")
        measured = rows["measure"]
        assert len(measured) == 600
        assert len({row["user_id"] for row in measured}) == users
        assert {row["request_type"] for row in measured} == MODEL_TYPES
        assert len(rows["ramp"]) == level["ramp"]["requests"] > 0
        assert (level["users"], level["users_measured"], level["requests"]) == (users, users, 600)
        assert sum(level["users_by_kind"].values()) == users
        assert min(level["users_by_kind"].values()) >= 1
        assert f"600 @ {users} from " in result.stdout
        assert f"Ramp: {users} users in " in result.stdout
    assert "NOTE: " not in result.stdout


def test_a_saturated_generator_is_warned_about_and_the_probe_shows_the_service(
    tmp_path: Path, quiet_nginx: Nginx
) -> None:
    # nginx answers in microseconds: one Locust process of 40 users is the bottleneck.
    env = clean_env(ECS_ENDPOINT=quiet_nginx.url, ECS_CREDENTIALS=str(quiet_nginx.credentials))
    results = tmp_path / "results"
    args = ("-c", "40", "-n", "20000", "-r", "1000", "-o", str(results))
    result = run_script("-v", *args, env=env)

    assert result.returncode == 0, result.stderr + result.stdout
    level = read_json(only_run_dir(results) / "summary.json")["levels"][0]
    generator = level["generator"]
    assert generator["processes"] == 1
    assert max(generator["cpu_percent_max"], generator["busy_percent_max"]) > 85
    assert "WARNING: a Locust process was busy" in result.stdout
    assert "the latencies include the load generator's own queueing" in result.stdout
    probe = level["probe"]
    assert probe["rate"] == 2 and probe["count"] >= 3 and probe["errors"] == 0
    assert probe["p50"] < level["types"]["NoOp"]["p50"]
    few = MARK if "p50" in probe["few"] else ""  # a p50 from under 20 answers is marked
    assert (
        f"Probe: GET _noop at 2/s, {probe['count']} answers, p50 {probe['p50']:.2f}{few} ms"
        in result.stdout
    )
    for row in ("Probe p50", "Probe p99", "Generator CPU %", "Generator busy %"):
        assert row in result.stdout
