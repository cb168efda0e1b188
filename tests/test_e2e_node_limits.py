"""End to end: the local node applies a deployment's rate limits, and a node that cannot start.

`--node-deployment` hands the local node a deployment.json; its
`api_rate_limiting` is enforced as nginx does in a deployment, so a sweep shows
where the limiter bites. A deployment.json the node would refuse is refused at
plan time (exit 2, the node's own words); a node that fails to start all the
same stops the run with exit 3 and its log's last lines.
"""

import json
from pathlib import Path

import pytest

from tests.e2e_support import (
    clean_env,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
)

pytestmark = pytest.mark.e2e


def deployment(tmp_path: Path, per_key: dict[str, str]) -> Path:
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"api_rate_limiting": {"per_key": per_key}}))
    return path


def test_a_tight_limit_shows_as_rate_limited_with_a_warning(tmp_path: Path) -> None:
    limits = deployment(tmp_path, {"rate_limit": "20r/s", "conn_limit": "100"})
    result = run_script(
        "-c",
        "15",
        "-n",
        "300",
        "-r",
        "1000",
        "--node-deployment",
        str(limits),
        "--node-delay",
        "tasks=5",
        "-o",
        str(tmp_path / "results"),
    )

    assert result.returncode == 0, result.stderr + result.stdout
    run_dir = only_run_dir(tmp_path / "results")
    level = read_json(run_dir / "summary.json")["levels"][0]
    limited = sum(t["rate_limited"] for t in level["types"].values())
    assert limited > 0.5 * level["requests"]
    # The line of the level marks it; its notes name the local node's limiter as the cause.
    share = 100 * limited / level["requests"]
    assert f"{share:.1f}% rate limited" in result.stdout
    notes = (run_dir / "level-15" / "summary.txt").read_text()
    assert "these numbers mostly measure the local node's limiter" in notes
    assert f"(--node-deployment {limits})" in notes
    assert "like nginx's limit_req without burst" in notes and "per_key 20r/s: 50.0 ms" in notes
    assert level["rate_limiter"] == {
        "by": "local node", "deployment": str(limits), "rates": {"per_key": 20.0}
    }  # fmt: skip
    # --node-delay reached the node (its --delay): it logs the test-only latency.
    assert "test-only latency (--delay): tasks +5 ms" in (run_dir / "node" / "ecs.log").read_text()


def test_a_deployment_the_node_would_refuse_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    limits = deployment(tmp_path, {"rate_limit": "fast"})
    result = run_script(
        "-c", "15", "-n", "100", "--node-deployment", str(limits), "-o", str(tmp_path / "results")
    )

    assert result.returncode == 2, result.stderr
    assert "rate_limit: 'fast' does not match" in result.stderr  # the node's own reason
    assert not (tmp_path / "results").exists()


def test_a_node_that_does_not_start_is_exit_3_with_its_log(tmp_path: Path) -> None:
    # The one thing simulated: a node that dies at start for a reason no plan can see (a
    # sitecustomize on PYTHONPATH, which the script passes on, makes ecservice.py exit).
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "sitecustomize.py").write_text(
        "import sys\n"
        "if sys.argv and sys.argv[0].endswith('ecservice.py'):\n"
        "    sys.exit('ecservice.py: cannot start: the machine is out of luck')\n"
    )
    env = clean_env(PYTHONPATH=str(broken))
    result = run_script("-c", "15", "-n", "100", "-o", str(tmp_path / "results"), env=env)

    assert result.returncode == 3, result.stderr
    assert "the local ECS node did not start; last lines of its logs:" in result.stderr
    assert "the machine is out of luck" in result.stderr  # the node's own reason
    assert not list(only_run_dir(tmp_path / "results").glob("level-*"))
    assert not processes_mentioning(str(tmp_path))
