"""End to end: each bad input to run_load_test.sh gives one line, its exit code, no run."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e_support import SCRIPT, clean_env, only_run_dir, processes_mentioning, run_script

pytestmark = pytest.mark.e2e

HASHED = "b35ec3fd96564323898920d282c18bb6:$apr1$Qx1b2c3d$abcdefghijklmnopqrstu.\n"
PAIR = "b35ec3fd96564323898920d282c18bb6:21023ce203851e7ec3eb1d25daf0fbcc\n"
REMOTE = "https://api.ecs.example.com"

# (case id, files to write {name: text}, arguments, environment, exit code, part of the message)
CASES = [
    ("unknown option", {}, ["--bogus"], {}, 2, "unrecognized arguments: --bogus"),
    ("level not an integer", {}, ["-c", "10 x"], {}, 2, "'x' is not a positive integer"),
    ("zero requests", {}, ["-n", "0"], {}, 2, "'0' is not a positive integer"),
    # OverflowError in gevent when the arrival user started; the level sat to its time cap.
    ("rate too high", {}, ["--rates", "99999999999999999999"], {}, 2, "from 1 to 1000000"),
    # OverflowError after the whole sweep.
    ("run noise too high", {}, ["--run-noise", "1e100"], {}, 2, "from 0 to 1000"),
    ("negative hatch rate", {}, ["-r", "-5"], {}, 2, "is not a positive number"),
    ("config missing", {}, ["{tmp}/nope.json"], {}, 2, "does not exist"),
    ("bad threshold", {}, ["--fail-on", "NoOp.p99<"], {}, 2, "bad threshold 'NoOp.p99<'"),
    (
        "threshold in config with an unknown metric",
        {"c.json": '{"thresholds": ["p95<500", "latency<5"]}'},
        ["{tmp}/c.json"],
        {},
        2,
        "unknown metric 'latency' for a level; allowed: ",
    ),
    ("baseline missing", {}, ["--baseline", "{tmp}/nope"], {}, 2, "nope: it is not a folder"),
    (
        "baseline of another endpoint",
        {
            "A/plan.json": json.dumps({"endpoint": REMOTE}),
            "A/summary.json": json.dumps({"version": 2, "levels": [{"users": 10}]}),
        },
        ["--baseline", "{tmp}/A"],
        {},
        2,
        f"it ran against {REMOTE}, this run against the local ECS node",
    ),
    (
        "config not JSON",
        {"c.json": "{concurrency: [1]"},
        ["{tmp}/c.json"],
        {},
        2,
        "is not valid JSON",
    ),
    (
        "config not an object",
        {"c.json": "[1, 2]"},
        ["{tmp}/c.json"],
        {},
        2,
        "must hold a JSON object",
    ),
    (
        "config unknown key",
        {"c.json": '{"users": 5}'},
        ["{tmp}/c.json"],
        {},
        2,
        "unknown key(s) users",
    ),
    (
        "config level not positive",
        {"c.json": '{"concurrency": [10, -1]}'},
        ["{tmp}/c.json"],
        {},
        2,
        "-1 is not a positive integer",
    ),
    (
        "config count a string",
        {"c.json": '{"number_of_requests": "1000"}'},
        ["{tmp}/c.json"],
        {},
        2,
        "is not a positive integer",
    ),
    (
        "endpoint not http",
        {},
        [],
        {"ECS_ENDPOINT": "ftp://api.example.com"},
        2,
        "is not an http(s) URL",
    ),
    (
        "credentials missing",
        {},
        [],
        {"ECS_ENDPOINT": REMOTE, "ECS_CREDENTIALS": "{tmp}/nope"},
        2,
        "does not exist",
    ),
    (
        "credentials unreadable",
        {"dir/keep": ""},
        [],
        {"ECS_ENDPOINT": REMOTE, "ECS_CREDENTIALS": "{tmp}/dir"},
        2,
        "is a folder, not a regular file",
    ),
    (
        "credentials without a pair",
        {"creds.txt": "# only a comment\n\n"},
        [],
        {"ECS_ENDPOINT": REMOTE, "ECS_CREDENTIALS": "{tmp}/creds.txt"},
        2,
        "holds no key:secret pair",
    ),
    (
        "credentials hashed",
        {"creds.txt": HASHED},
        [],
        {"ECS_ENDPOINT": REMOTE, "ECS_CREDENTIALS": "{tmp}/creds.txt"},
        2,
        "holds a hashed password: this is an .htpasswd, not the key:secret pairs",
    ),
    (
        "credentials hashed in config",
        {
            "creds.txt": PAIR + "k:{SHA}abc=\n",
            "c.json": json.dumps({"endpoint": REMOTE, "credentials": "creds.txt"}),
        },
        ["{tmp}/c.json"],
        {},
        2,
        "line 2 holds a hashed password",
    ),
]


@pytest.mark.parametrize(
    ("files", "args", "env", "code", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_one_line_and_its_exit_code(
    tmp_path: Path,
    files: dict[str, str],
    args: list[str],
    env: dict[str, str],
    code: int,
    message: str,
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    results = tmp_path / "results"
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    env = {name: value.replace("{tmp}", str(tmp_path)) for name, value in env.items()}

    result = run_script(*args, "-o", str(results), env=clean_env(**env), timeout=120)

    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("run_load_test.sh: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not results.exists() or not any(results.iterdir()), "a run was started"
    assert not processes_mentioning(str(tmp_path))


def test_help_documents_options_environment_and_exit_codes() -> None:
    result = run_script("--help")

    assert result.returncode == 0
    for text in (
        "--concurrency",
        "--requests",
        "--hatch-rate",
        "--results",
        "--level-time-cap",
        "--newrelic",
        "ECS_ENDPOINT",
        "ECS_CREDENTIALS",
        "number_of_requests",
        "exit codes:",
        "3  the local ECS node did not start",
    ):
        assert text in result.stdout


def test_a_folder_holding_its_own_ecsload_does_not_change_what_runs(tmp_path: Path) -> None:
    # `python -m` puts the current folder first on the import path: a run started from a
    # folder with an `ecsload` of its own (another checkout, a fork) ran that one's commands.
    decoy = tmp_path / "elsewhere" / "ecsload"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy ecsload was imported')\n")
    result = subprocess.run(
        [str(SCRIPT), "-c", "1", "-n", "20", "--no-history", "-o", str(tmp_path / "r")],
        cwd=decoy.parent, env=clean_env(), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "decoy" not in result.stdout + result.stderr
    assert (only_run_dir(tmp_path / "r") / "report.html").is_file()
