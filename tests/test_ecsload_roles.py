"""The plan's options for more than one process: --processes, --master, --worker."""

import os
import re
from pathlib import Path

import pytest

from ecsload.exits import EXIT_USAGE
from ecsload.model import ARRIVALS_PER_PROCESS, auto_processes
from tests.ecsload_support import (
    PAIRS,
    assert_refused,
    evaluated,
    locust_argv,
    option,
    plan,
    planned,
    worker_argv,
    write,
)

ENDPOINT = {"ECS_ENDPOINT": "https://api.example.com"}


def test_processes_from_option_config_or_one_per_core(tmp_path: Path) -> None:
    assert option(locust_argv(plan(tmp_path, "--processes", "-1"), 10), "--processes") == "-1"
    config = write(tmp_path / "c.json", '{"processes": 3}')
    argv = locust_argv(plan(tmp_path, str(config)), 10)
    assert option(argv, "--processes") == "3"
    port = option(argv, "--master-bind-port")  # a free loopback port of its own, not 5557
    assert port and option(argv, "--master-port") == port and port != "5557"
    assert option(argv, "--master-bind-host") == option(argv, "--master-host") == "127.0.0.1"
    assert "--processes" not in locust_argv(plan(tmp_path), 10)  # one process: no master


@pytest.mark.parametrize(
    ("top_rate", "cores", "local_node", "expected"),
    [
        (ARRIVALS_PER_PROCESS, 8, False, 1),  # one process holds it
        (ARRIVALS_PER_PROCESS + 1, 8, False, 2),
        (ARRIVALS_PER_PROCESS * 3.5, 8, False, 4),
        (ARRIVALS_PER_PROCESS * 3.5, 8, True, 4),
        (ARRIVALS_PER_PROCESS * 20, 8, False, 8),  # one per core at most
        (ARRIVALS_PER_PROCESS * 20, 8, True, 7),  # less the local node's
        (ARRIVALS_PER_PROCESS * 20, 2, True, 1),
        (ARRIVALS_PER_PROCESS * 20, 1, True, 1),
    ],
)
def test_auto_processes_are_what_the_rate_needs_on_the_cores_there_are(
    top_rate: float, cores: int, local_node: bool, expected: int
) -> None:
    assert auto_processes(top_rate, cores, local_node) == expected


def test_processes_auto_is_the_default_and_one_process_unless_a_rate_needs_more(
    tmp_path: Path,
) -> None:
    closed = planned(plan(tmp_path))
    assert closed["processes"] == 1
    assert closed["sources"]["processes"] == "default, auto: not an arrival-rate sweep"
    top = ARRIVALS_PER_PROCESS * 4
    result = plan(tmp_path, "--rates", f"100 {top}", "--no-credentials", **ENDPOINT)
    cores = os.cpu_count() or 1
    expected = min(4, cores)
    saved = planned(result)
    assert saved["processes"] == expected, saved["sources"]["processes"]
    assert saved["sources"]["processes"] == (
        f"default, auto: {top}/s at {ARRIVALS_PER_PROCESS:,}/s a process, {cores} cores"
    )
    assert saved["arrival_users"] == expected
    argv = locust_argv(result, top)
    assert option(argv, "-u") == str(expected)
    assert option(argv, "--processes") == (str(expected) if expected > 1 else None)
    local = planned(plan(tmp_path, "--rates", f"{top}", "--processes", "AUTO"))
    assert local["processes"] == max(1, min(4, cores - 1))  # a core for the local node
    assert local["sources"]["processes"].endswith("cores, less 1 for the local node")
    low = planned(plan(tmp_path, "--rates", "10 20", "--no-credentials", **ENDPOINT))
    assert low["processes"] == 1


def test_processes_auto_in_a_config_file_and_on_a_master(tmp_path: Path) -> None:
    config = write(tmp_path / "c.json", '{"processes": "auto"}')
    assert planned(plan(tmp_path, str(config)))["processes"] == 1
    result = plan(tmp_path, "--master", "--no-credentials", "--rates", "99000", **ENDPOINT)
    assert result.returncode == 0, result.stderr
    assert planned(result)["processes"] == 1  # a master runs no users
    assert planned(result)["sources"]["processes"] == "default, auto: a master"


def test_a_master_and_its_defaults(tmp_path: Path) -> None:
    result = plan(tmp_path, "--master", "--expect-workers", "2", "--no-credentials", **ENDPOINT)
    assert evaluated(result.stdout)["ROLE"] == "master"
    argv = locust_argv(result, 10, last=False)
    assert (
        option(argv, "--expect-workers"),
        option(argv, "--master-bind-host"),
        option(argv, "--master-bind-port"),
        option(argv, "--expect-workers-max-wait"),
    ) == ("2", "*", "5557", "120")
    assert "--master" in argv and "--last-level" not in argv
    assert "--last-level" in locust_argv(result, 10, last=True)
    assert planned(result)["sources"]["expect_workers"] == "option"


def test_role_settings_come_from_a_config_file_too(tmp_path: Path) -> None:
    config = write(tmp_path / "c.json", '{"worker": true, "master_host": "m", "worker_wait": 9}')
    result = plan(tmp_path, str(config))
    saved = planned(result)
    assert saved["distribution"]["role"] == "worker"
    assert saved["sources"]["master_host"] == f"config {config}"
    assert option(worker_argv(result), "--master-host") == "m"


def test_a_worker_takes_its_own_credentials(tmp_path: Path) -> None:
    write(tmp_path / "creds.txt", PAIRS)
    result = plan(
        tmp_path,
        "--worker",
        "--master-host",
        "10.0.0.5",
        "--master-port",
        "6000",
        "--processes",
        "2",
        ECS_CREDENTIALS=str(tmp_path / "creds.txt"),
    )
    values = evaluated(result.stdout)
    assert (values["ROLE"], values["MASTER_HOST"], values["MASTER_PORT"]) == (
        "worker",
        "10.0.0.5",
        "6000",
    )
    argv = worker_argv(result)
    assert (option(argv, "--master-host"), option(argv, "--master-port")) == ("10.0.0.5", "6000")
    assert option(argv, "--processes") == "2"
    assert option(argv, "--ecs-credentials") == str(tmp_path / "creds.txt")
    assert "--happy-image" not in argv  # the rest of a level comes from its master


BAD = [
    (["--processes", "0"], {}, "'0' is not a positive integer, -1 (one per core) or auto"),
    (["--processes", "many"], {}, "'many' is not a positive integer, -1 (one per core) or auto"),
    (["--master", "--worker", "--master-host", "h"], ENDPOINT, "exclude each other"),
    (["--master"], {}, "--master needs ECS_ENDPOINT"),
    (["--master", "--processes", "2"], ENDPOINT, "--processes does not apply"),
    (["--expect-workers", "2"], ENDPOINT, "--expect-workers goes with --master"),
    (["--master", "--expect-workers", "0"], ENDPOINT, "'0' is not a whole number from 1"),
    (["--master-host", "h"], {}, "--master-host goes with --worker"),
    (["--worker"], {}, "--worker needs --master-host HOST"),
    (["--worker", "--master-host", "h", "--master-port", "70000"], {}, "'70000' is not a whole"),
    (["--master", "--master-bind-host", " "], ENDPOINT, "--master-bind-host: is empty"),
    (["-c", "10 25", "--processes", "11"], {}, "the smallest level has 10 users, so 11 Locust"),
    (["-c", "1 25", "--processes", "2"], {}, "smallest level has 1 user, so 2 Locust processes"),
]


@pytest.mark.parametrize(("args", "env", "message"), BAD)
def test_options_that_do_not_fit_are_usage_errors(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    assert_refused(plan(tmp_path, *args, **env), tmp_path, 2, message)


def test_processes_as_many_as_the_smallest_level_has_users(tmp_path: Path) -> None:
    result = plan(tmp_path, "-c", "10 25", "--processes", "10")
    assert option(locust_argv(result, 10), "--processes") == "10"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: -1 is one process")
def test_one_process_per_core_is_held_to_the_smallest_level_too(tmp_path: Path) -> None:
    cores = os.cpu_count() or 1
    result = plan(tmp_path, "-c", str(cores - 1), "--processes", "-1")
    assert_refused(result, tmp_path, 2, f"so {cores} Locust processes would leave 1 with none")


def test_a_worker_is_not_held_to_levels_of_its_own(tmp_path: Path) -> None:
    """A worker follows its master's levels; its own -c (the default here) does not apply."""
    write(tmp_path / "creds.txt", PAIRS)
    args = ("--worker", "--master-host", "10.0.0.5", "-c", "2", "--processes", "4")
    result = plan(tmp_path, *args, ECS_CREDENTIALS=str(tmp_path / "creds.txt"))
    assert option(worker_argv(result), "--processes") == "4"


def test_processes_in_a_config_file_must_be_a_number(tmp_path: Path) -> None:
    config = write(tmp_path / "c.json", '{"processes": "2"}')
    assert_refused(plan(tmp_path, str(config)), tmp_path, 2, "processes: '2' is not a positive")


def test_a_workers_plan_says_its_levels_are_the_masters(tmp_path: Path) -> None:
    """-v on a worker: its own settings, and no levels of its own (not the default 10 to 25)."""
    write(tmp_path / "creds.txt", PAIRS)
    args = ("-v", "--worker", "--master-host", "10.0.0.5", "--processes", "2")
    printed = plan(tmp_path, *args, ECS_CREDENTIALS=str(tmp_path / "creds.txt")).stderr
    assert re.search(r"^  processes +2 ", printed, re.M), printed
    assert re.search(r"^  master_host +10.0.0.5 +\(option\)", printed, re.M), printed
    assert re.search(r"^  levels +the master's: its endpoint, levels", printed, re.M), printed
    assert "level 10" not in printed
    assert "concurrency" not in printed
    assert "number_of_requests" not in printed


def test_a_master_and_its_workers_share_a_token_file(tmp_path: Path) -> None:
    """Only the run's own processes speak to its master: with --master/--worker the run's
    secret is in a file both sides read, its path (never the secret) on Locust's line."""
    secret = "9f" * 16
    token = write(tmp_path / "token", secret + "\n")
    master = plan(
        tmp_path, "--master", "--master-token-file", str(token), "--no-credentials", **ENDPOINT
    )
    argv = locust_argv(master, 10)
    assert option(argv, "--master-token-file") == str(token)
    assert secret not in " ".join(argv) and secret not in master.stdout + master.stderr
    worker = plan(tmp_path, "--worker", "--master-host", "m", ECS_LOAD_MASTER_TOKEN_FILE=str(token))
    assert option(worker_argv(worker), "--master-token-file") == str(token)
    (tmp_path / "other").mkdir()
    for text in ("short", ""):
        write(tmp_path / "bad", text)
        assert_refused(
            plan(
                tmp_path / "other",
                "--master",
                "--master-token-file",
                str(tmp_path / "bad"),
                **ENDPOINT,
            ),
            tmp_path / "other",
            EXIT_USAGE,
            "does not start with a secret of 16 to 1024",
        )
