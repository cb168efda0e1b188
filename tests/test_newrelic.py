"""The local node under New Relic's Python agent (--newrelic / NEW_RELIC_CONFIG_FILE).

The agent runs for real, in developer_mode: it instruments the node but sends
nothing off the machine ("Reporting to fake collector").
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e_support import ROOT, clean_env, only_run_dir, read_json, run_script

pytestmark = pytest.mark.e2e


def agent_config(tmp_path: Path, log: Path, developer_mode: bool = True) -> Path:
    """The project's newrelic.ini with developer_mode and a debug log at `log`."""
    text = (ROOT / "newrelic.ini").read_text()
    text = text.replace("log_file = stdout", f"log_file = {log}", 1)
    text = text.replace("log_level = info", "log_level = debug", 1)
    if developer_mode:
        text = text.replace("[newrelic]\n", "[newrelic]\ndeveloper_mode = true\n", 1)
    ini = tmp_path / "newrelic.ini"
    ini.write_text(text)
    return ini


def plan(tmp_path: Path, *args: str, python: tuple[str, ...] = (sys.executable,), **env: str):
    """Run the plan command alone, as run_load_test.sh does, in a clean environment."""
    return subprocess.run(
        [*python, "-m", "ecsload.commands.plan", "-o", str(tmp_path / "results"), *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_sweep_runs_the_node_under_the_agent(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    ini = agent_config(tmp_path, log)
    result = run_script(
        "-v",
        "--newrelic",
        str(ini),
        "-c",
        "15",
        "-n",
        "200",
        "-r",
        "1000",
        "-o",
        str(tmp_path / "results"),
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert f"Running ECS under the New Relic agent; config file '{ini}'" in result.stdout
    agent_log = log.read_text()
    assert "Reporting to fake collector" in agent_log  # developer_mode: nothing leaves
    for module in ("tornado.web", "tornado.httpserver", "tornado.routing"):
        assert f"instrument module ((<module '{module}'" in agent_log
    level = read_json(only_run_dir(tmp_path / "results") / "summary.json")["levels"][0]
    assert sum(t["error"] for t in level["types"].values()) == 0


def test_the_templates_placeholder_key_is_refused(tmp_path: Path) -> None:
    result = run_script("--newrelic", "-o", str(tmp_path / "results"))

    assert result.returncode == 2
    assert "has no license key (license_key is %LICENSE_KEY%)" in result.stderr
    assert "developer_mode = true" in result.stderr
    assert not (tmp_path / "results").exists()


def test_the_environment_variable_turns_the_agent_on_too(tmp_path: Path) -> None:
    ini = agent_config(tmp_path, tmp_path / "agent.log", developer_mode=False)
    result = plan(tmp_path, NEW_RELIC_CONFIG_FILE=str(ini))

    assert result.returncode == 2
    assert f"New Relic config {ini} has no license key" in result.stderr


def test_a_python_without_the_agent_is_told_how_to_install_it(tmp_path: Path) -> None:
    # `python -S` is a real Python that does not see site-packages, where the
    # agent is installed: the plan needs only the standard library to run.
    ini = agent_config(tmp_path, tmp_path / "agent.log")
    result = plan(tmp_path, "--newrelic", str(ini), python=(sys.executable, "-S"))

    assert result.returncode == 2
    assert "the New Relic agent is not installed" in result.stderr
    assert "pip install -r requirements-newrelic.txt" in result.stderr


def test_against_a_deployment_the_agent_is_explained_and_left_out(tmp_path: Path) -> None:
    ini = agent_config(tmp_path, tmp_path / "agent.log")
    result = plan(
        tmp_path, "--newrelic", str(ini), "--no-credentials", ECS_ENDPOINT="https://api.example.com"
    )

    assert result.returncode == 0, result.stderr
    assert "the New Relic agent runs on the deployment's nodes, not here" in result.stderr
    assert "NEWRELIC_CONFIG=''" in result.stdout
