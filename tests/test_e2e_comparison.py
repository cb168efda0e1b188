"""End to end: the baseline comparison, whatever the baseline's source (a folder, `last`,
`label:X`, `history:N`), on real sweeps against the nginx stand-in.

A baseline that cannot be compared with is refused by the plan, before the first level:
no level folder exists when the script exits 2.
"""

import subprocess
from pathlib import Path

import pytest

from ecsload.exits import EXIT_CONFIG
from tests.e2e_support import clean_env, only_run_dir, run_script
from tests.nginx_support import DELAYED_ENDPOINTS, free_port, nginx_ecs, nginx_missing

pytestmark = pytest.mark.e2e

SERVICE = dict.fromkeys(DELAYED_ENDPOINTS, 10.0)  # ms, every endpoint


class Target:
    """The stand-in's folder and port: each sweep starts it there, so the endpoint stays."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.runs = 0

    def sweep(
        self, results: Path, *args: str, delays: dict[str, float] = SERVICE
    ) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        stand_in = self.folder / f"nginx-{self.runs}"
        with nginx_ecs(stand_in, access_log=False, delays=delays, port=self.port) as server:
            env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
            return run_script(*args, "-o", str(results), env=env, timeout=300)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    if missing := nginx_missing():
        pytest.skip(missing)
    return Target(tmp_path_factory.mktemp("stand-in"))


def assert_refused_before_any_level(
    result: subprocess.CompletedProcess[str], results: Path, message: str, runs: int = 0
) -> None:
    """Exit 2 with `message`, and no run folder beyond the `runs` already in `results`."""
    assert result.returncode == EXIT_CONFIG, result.stderr + result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    folders = [path for path in results.glob("*") if path.is_dir()] if results.exists() else []
    assert len(folders) == runs, folders
    assert not list(results.glob("*/level-*")) or runs


def test_a_baseline_that_cannot_be_compared_exits_2_before_the_first_level(
    target: Target, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    rates = target.sweep(results, "--rates", "20", "-d", "1", "--warmup", "0")
    assert rates.returncode == 0, rates.stderr + rates.stdout
    rate_run = only_run_dir(results)
    closed = ("-c", "20", "-d", "1")

    for baseline in (str(rate_run), "last"):
        refused = tmp_path / f"refused-{baseline == 'last'}"
        history = ("--history", str(results / "history.sqlite"))
        result = target.sweep(refused, *closed, "--baseline", baseline, *history)
        assert_refused_before_any_level(
            result,
            refused,
            "its levels 20 req/s and this run's levels 20 users are not the same kind of level",
        )
    result = target.sweep(
        results, *closed, "--baseline", "label:no-such-label", "--fail-on-regression"
    )
    assert_refused_before_any_level(result, results, "the last run labelled no-such-label", 1)
