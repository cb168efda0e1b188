"""The run plan: `python -m ecsload.commands.plan` run for real, as run_load_test.sh runs it.

Every bad input must give its exit code and one line on stderr, and make no run
folder; a good one prints shell assignments that bash can eval.
"""

import json
from pathlib import Path

import pytest

from ecsload.exits import EXIT_CODES
from ecsload.setting_rows import SETTINGS
from tests.ecsload_support import (
    PAIRS,
    assert_refused,
    evaluated,
    evaluated_by_bash,
    locust_argv,
    locust_reads,
    option,
    plan,
    plan_process,
    planned,
    run_module,
    write,
)

NODE_FILES = ("NODE_DIR", "NODE_CONFIG", "NODE_HTPASSWD", "NODE_CREDS_LOG", "NODE_PAIRS",
              "NODE_STDOUT", "NODE_LOG", "NODE_STATUS")  # fmt: skip
HASHED = "b35ec3fd96564323898920d282c18bb6:$apr1$ZjTqBB3f$IF9gdYAGlMrs2fuINjHsz.\n"


def test_defaults_as_bash_reads_them(tmp_path: Path) -> None:
    result = plan_process(tmp_path)  # the bash contract: a process of its own, eval'd by bash
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("RUN_DIR=")
    values = evaluated_by_bash(result.stdout)
    assert values == evaluated(result.stdout)
    run_dir = Path(values.pop("RUN_DIR"))
    assert run_dir.parent == tmp_path / "results"
    assert len(run_dir.name) == len("YYYYmmdd-HHMMSS")
    exits = {name: values.pop(name) for name in list(values) if name.startswith("EXIT_")}
    assert exits == {f"EXIT_{exit.name}": str(exit.code) for exit in EXIT_CODES}
    assert values.pop("REPORT_FILE") == str(run_dir / "report.html")
    node = {
        name: values.pop(name)
        for name in list(values)
        if name.startswith("NODE_") and name not in ("NODE_DEPLOYMENT", "NODE_DELAY")
    }
    assert node["NODE_DIR"] == str(run_dir / "node")
    assert all(
        path.startswith(str(run_dir / "node") + "/")
        for name, path in node.items()
        if name != "NODE_DIR"
    )
    assert values == {
        "LEVELS": "10 15 20 25",
        "RATES": "",
        "REPEAT": "1",
        "ENDPOINT": "",
        "CREDENTIALS": "",
        "CA_BUNDLE": "",
        "INSECURE": "false",
        "HAPPY_IMAGE": "127.0.0.1:5000/ubuntu:14.04",
        "NODE_DEPLOYMENT": "",
        "NODE_DELAY": "",
        "NEWRELIC_CONFIG": "",
        "VERBOSE": "0",
        "ROLE": "local",
        "MASTER_HOST": "",
        "MASTER_PORT": "5557",
        "GRAPHS": "",
        "HISTORY": str(tmp_path / "results" / "history.sqlite"),
    }
    saved = json.loads((run_dir / "plan.json").read_text())
    assert saved["concurrency"] == [10, 15, 20, 25]
    assert (saved["number_of_requests"], saved["level_time_cap"], saved["probe_rate"]) == (
        1000,
        600,
        2,
    )
    assert (saved["quiet"], saved["verbose"], saved["rates"]) == (False, False, [])
    assert saved["endpoint"] is None
    assert saved["sources"]["number_of_requests"] == "default"
    assert (saved["arrivals"], saved["max_in_flight"], saved["hatch_rate"]) == ("constant", 0, 5)
    assert (saved["level_seconds"], saved["warmup"], saved["processes"]) == (None, 0, 1)
    assert saved["missing_image"] == "127.0.0.1:5000/bindle:berry"
    assert saved["distribution"] == {
        "role": "local",
        "expect_workers": 1,
        "master_bind_host": "*",
        "master_host": "",
        "master_port": 5557,
        "worker_wait": 120,
    }


@pytest.mark.parametrize(
    "args",
    [
        (),  # every default: -n 1000 must reach Locust, whose own default is no limit
        ("-n", "70", "--request-timeout", "2.5", "--happy-image", "a:1", "--insecure"),
        ("-d", "5", "--warmup", "1", "--repeat", "2"),
        ("--rates", "40 80", "--arrivals", "poisson", "--max-in-flight", "9"),
        ("--trace-sample", "0.25", "--remote-write", "http://127.0.0.1:9/api/v1/write"),
        ("--otlp", "http://127.0.0.1:9/v1/metrics"),
    ],
)
def test_locust_reads_every_setting_as_the_plan_resolved_it(tmp_path: Path, args: tuple) -> None:
    """The contract of one declaration: for each row with a locustfile option, what the
    level's Locust parses from the command line built for it is the plan's value."""
    result = plan(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    saved = planned(result)
    key = (saved["rates"] or saved["concurrency"])[0]
    locust = locust_reads(locust_argv(result, key))
    for s in SETTINGS:
        if not s.locust:
            continue
        read = getattr(locust, s.locust.removeprefix("--").replace("-", "_"))
        planned_value = saved[s.key]
        if s.key == "credentials":
            continue  # the level's own: the local node's pairs, given by bash
        if s.key == "number_of_requests" and saved["level_seconds"]:
            assert read == 0, "a timed level has no request limit"
        elif planned_value in (None, "", 0, False):
            assert read in (None, "", 0, False), (s.key, read)
        else:
            assert read == planned_value, (s.key, read, planned_value)


def test_a_deployment_gets_the_seeds_images_and_the_local_node_loopback_ones(
    tmp_path: Path,
) -> None:
    remote = planned(plan(tmp_path, "--no-credentials", ECS_ENDPOINT="https://api.example.com"))
    assert (remote["happy_image"], remote["missing_image"]) == ("ubuntu:14.04", "bindle:berry")
    local = planned(plan(tmp_path, "--happy-image", "busybox:latest"))
    assert local["happy_image"] == "busybox:latest"  # a setting always wins
    assert local["missing_image"] == "127.0.0.1:5000/bindle:berry"


def test_options_beat_environment_beat_config_beat_defaults(tmp_path: Path) -> None:
    write(tmp_path / "creds.txt", PAIRS)
    config = write(
        tmp_path / "config.json",
        json.dumps(
            {
                "number_of_requests": 50,
                "hatch_rate": 2,
                "concurrency": [1, 2],
                "endpoint": "http://config.example.com",
                "credentials": "creds.txt",
                "missing_image": "nothing:here",
            }
        ),
    )
    result = plan(
        tmp_path,
        "-n",
        "70",
        "-c",
        "3,4 5",
        str(config),
        ECS_ENDPOINT="https://env.example.com/",
        ECS_HAPPY_IMAGE="registry:5000/u:1",
    )
    assert result.returncode == 0, result.stderr
    values = evaluated(result.stdout)
    assert planned(result)["number_of_requests"] == 70  # option over config
    assert values["LEVELS"] == "3 4 5"  # option over config
    assert values["ENDPOINT"] == "https://env.example.com"  # environment over config
    assert values["HAPPY_IMAGE"] == "registry:5000/u:1"  # environment over default
    saved = planned(result)
    assert saved["hatch_rate"] == 2  # config over default
    assert saved["missing_image"] == "nothing:here"
    assert saved["level_time_cap"] == 600  # default
    assert values["CREDENTIALS"] == str(tmp_path / "creds.txt")


def test_credentials_paths_in_config_are_relative_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf" / "creds.txt", PAIRS)
    write(tmp_path / "conf" / "c.json", '{"credentials": "creds.txt"}')
    result = run_module("plan", "-o", str(tmp_path / "r"), "conf/c.json", cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["CREDENTIALS"] == str(tmp_path / "conf" / "creds.txt")


def test_verbose_prints_the_plan_on_stderr_and_never_a_secret(tmp_path: Path) -> None:
    write(tmp_path / "creds.txt", PAIRS)
    result = plan(
        tmp_path, "-v", ECS_CREDENTIALS="creds.txt", ECS_ENDPOINT="https://api.example.com"
    )
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["VERBOSE"] == "1"
    assert "https://api.example.com" in result.stderr
    assert "(environment ECS_CREDENTIALS)" in result.stderr
    assert (  # every kind of user at every level, and the ramp at 5 users/s
        "level 25              ramp 4.0 s; users NoOp 1, Version 1, QuickHealth 3, "
        "SlowHealth 1, Tasks 19" in result.stderr
    )
    width = max(len(s.key) for s in SETTINGS)  # the longest name sets the value's column
    rows = {row.split()[0]: row for row in result.stderr.splitlines()[1 : len(SETTINGS) + 1]}
    assert list(rows) == [s.key for s in SETTINGS]
    for key, row in rows.items():
        assert row[: width + 3] == f"  {key:<{width}} " and row[width + 3] != " ", row
        value = row[width + 3 :].rsplit(" (", 1)[0].rstrip()
        if len(value) <= 40:  # the source in a column of its own after it
            assert row.rindex(" (") == width + 3 + 40, row
    run_dir = Path(evaluated(result.stdout)["RUN_DIR"])
    saved = (run_dir / "plan.json").read_text()
    assert json.loads(saved)["credentials"] == str(tmp_path / "creds.txt")
    for secret in ("fedcba9876543210fedcba9876543210", "11111111111111111111111111111111"):
        assert secret not in saved + result.stderr + result.stdout


def test_quiet_and_graphs_from_options_or_config(tmp_path: Path) -> None:
    (tmp_path / "pdfs").mkdir()
    result = plan(tmp_path, "-q", "--graphs", "pdfs/sweep.pdf")
    assert planned(result)["quiet"] is True
    assert evaluated(result.stdout)["GRAPHS"] == str(tmp_path / "pdfs" / "sweep.pdf")
    config = write(tmp_path / "pdfs" / "c.json", '{"quiet": true, "graphs": "graphs.PDF"}')
    result = plan(tmp_path, str(config))
    values = evaluated(result.stdout)
    assert planned(result)["quiet"] is True
    assert values["GRAPHS"] == str(tmp_path / "pdfs" / "graphs.PDF")  # beside the config


def test_graphs_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = plan(tmp_path, "--graphs", str(tmp_path / "none" / "g.pdf"))
    assert_refused(result, tmp_path, 2, "graphs (option): |none is not a folder")


def test_values_with_shell_metacharacters_are_quoted(tmp_path: Path) -> None:
    odd = tmp_path / "it's $(a) folder"
    odd.mkdir()
    write(odd / "creds.txt", PAIRS)
    result = plan(tmp_path, ECS_CREDENTIALS=str(odd / "creds.txt"))
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["CREDENTIALS"] == str(odd / "creds.txt")


def test_two_runs_in_one_second_get_two_folders(tmp_path: Path) -> None:
    first, second = plan(tmp_path), plan(tmp_path)
    assert evaluated(first.stdout)["RUN_DIR"] != evaluated(second.stdout)["RUN_DIR"]


def test_help_documents_environment_config_keys_and_exit_codes(tmp_path: Path) -> None:
    result = plan(tmp_path, "--help")
    assert result.returncode == 0
    for text in (
        "ECS_ENDPOINT",
        "ECS_CREDENTIALS",
        "ECS_HAPPY_IMAGE",
        "ECS_MISSING_IMAGE",
        "number_of_requests",
        "hatch_rate",
        "concurrency",
        "level_time_cap",
        "--level-time-cap",
        "--results",
        "exit codes",
        "3  the local ECS node",
        "--graphs FILE.pdf",
        "-q, --quiet",
        "run_load_test.sh report RUN_DIR [--graphs FILE.pdf]",
        "report.html",
    ):
        assert text in result.stdout
    assert not (tmp_path / "results").exists()


BAD_OPTIONS = [
    (["-c", "10 x"], "argument -c/--concurrency: 'x' is not a positive integer"),
    (["-c", "0"], "'0' is not a positive integer"),
    (["-c", ""], "needs at least one concurrency level"),
    (["-c", "5 5"], "level 5 is given more than once"),
    (["-n", "-3"], "argument -n/--requests: '-3' is not a positive integer"),
    (["-n", "1.5"], "'1.5' is not a positive integer"),
    (["-r", "0"], "argument -r/--hatch-rate: '0' is not a positive number"),
    (["-t", "soon"], "argument -t/--level-time-cap: 'soon' is not a positive integer"),
    (["--happy-image", "ubuntu"], "'ubuntu' is not an image name with a tag"),
    (["--probe-rate", "-1"], "'-1' is not a number from 0 (no probe) to 100"),
    (["-t", "99999999999999999999"], "is over 604800 seconds (7 days)"),
    # Unbounded counts and rates reached Locust and gevent (an OverflowError, a level stuck).
    (["-n", "99999999999999999999"], "is over 1,000,000,000 (a count of users or requests)"),
    (["-c", "5 99999999999999999999"], "is over 1,000,000,000"),
    (["-r", "1e300"], "'1e300' is over 1,000,000 users a second"),
    (["--rates", "99999999999999999999"], "is not a whole number from 1 to 1000000"),
    (["--run-noise", "1e100"], "'1e100' is not a percentage from 0 to 1000"),
    (["--tolerance", "inf"], "'inf' is not a number of 0 or more"),
    (["-o", ""], "argument -o/--results: is empty"),
    (["--no-credentials"], "--no-credentials goes with ECS_ENDPOINT"),
    (["--graphs", "sweep.png"], "argument --graphs: 'sweep.png' does not end in .pdf"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--trace-sample", "2"], "argument --trace-sample: '2' is not a number from 0 to 1"),
    (["--remote-write", "ftp://x/"], "argument --remote-write: 'ftp://x/' is not an http(s) URL"),
    (["a.json", "b.json"], "unrecognized arguments: b.json"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS)
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    assert_refused(plan(tmp_path, *args), tmp_path, 2, message)


BAD_CONFIGS = [
    ('{"concurrency": [10, true]}', "concurrency: true is not a positive integer"),
    ('{"concurrency": "10 20"}', 'concurrency: "10 20" is not a list of positive integers'),
    ('{"concurrency": []}', "concurrency: needs at least one concurrency level"),
    ('{"number_of_requests": 0}', "number_of_requests: 0 is not a positive integer"),
    ('{"number_of_requests": 2.5}', "number_of_requests: 2.5 is not a positive integer"),
    ('{"hatch_rate": "fast"}', 'hatch_rate: "fast" is not a positive number'),
    ('{"level_time_cap": -1}', "level_time_cap: -1 is not a positive integer"),
    ('{"endpoint": "api.example.com"}', "'api.example.com' is not an http(s) URL"),
    ('{"endpoint": 42}', "endpoint: 42 is not a string"),
    ('{"hatch-rate": 5, "users": 3}', "has unknown key(s) hatch-rate, users: known keys are"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"concurrency": [1,', "is not valid JSON"),
    ('{"probe_rate": 500}', "probe_rate: '500' is not a number from 0 (no probe) to 100"),
    ('{"insecure": "yes"}', 'insecure: "yes" is not true or false'),
    ('{"quiet": "yes"}', 'quiet: "yes" is not true or false'),
    ('{"graphs": "g.svg"}', "graphs: 'g.svg' does not end in .pdf"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "config.json", text)
    assert_refused(plan(tmp_path, str(config)), tmp_path, 2, message)


def test_missing_config_file(tmp_path: Path) -> None:
    result = plan(tmp_path, str(tmp_path / "none.json"))
    assert_refused(result, tmp_path, 2, "none.json does not exist")


BAD_ENVIRONMENT = [
    ({"ECS_ENDPOINT": "ftp://api.example.com"}, "ECS_ENDPOINT: 'ftp://api.example.com' is not"),
    ({"ECS_ENDPOINT": "https://"}, "ECS_ENDPOINT: 'https://' is not an http(s) URL"),
    ({"ECS_ENDPOINT": "https://h:99999"}, "'https://h:99999' has a port that is not a number"),
    ({"ECS_MISSING_IMAGE": "bindle"}, "ECS_MISSING_IMAGE: 'bindle' is not an image name"),
    ({"ECS_CREDENTIALS": "none.txt"}, "ECS_CREDENTIALS: credentials file"),
    *(
        ({"ECS_ENDPOINT": url, "ECS_CREDENTIALS": "creds.txt"}, message)
        for url, message in (
            ("http://127.0.0.1:99999", "has a port that is not a number from 1 to 65535"),
            ("http://127.0.0.1:abc", "has a port that is not a number from 1 to 65535"),
            ("http://host:8080/v1.1", "has a path: give the endpoint as scheme://host[:port]"),
            ("http://host/?x=1", "has a query: give the endpoint as scheme://host[:port]"),
            ("http://host#f", "has a fragment: give the endpoint as scheme://host[:port]"),
            ("http://user:pw@host", "has user info: give the endpoint as scheme://host[:port]"),
            # Issue 19, case 8: an empty query or fragment, and hosts no DNS name can be.
            ("http://127.0.0.1:8080/?", "has a query: give the endpoint as scheme://host[:port]"),
            ("http://127.0.0.1:8080/#", "has a fragment: give the endpoint"),
            ("http://a b", "'http://a b' has a host that is neither a DNS name nor an IP"),
            ('http://x"><svg>', "has a host that is neither a DNS name nor an IP address"),
            ("http://-x.example", "has a host that is neither a DNS name nor an IP address"),
        )
    ),
    (
        {"ECS_ENDPOINT": "https://api.example.com"},
        "ECS_ENDPOINT is set but ECS_CREDENTIALS is not|--no-credentials",
    ),
]


@pytest.mark.parametrize(("env", "message"), BAD_ENVIRONMENT)
def test_bad_environment(tmp_path: Path, env: dict[str, str], message: str) -> None:
    write(tmp_path / "creds.txt", PAIRS)
    assert_refused(plan(tmp_path, **env), tmp_path, 2, message)


def test_a_deployment_without_authentication_is_said_aloud(tmp_path: Path) -> None:
    result = plan(tmp_path, "-v", "--no-credentials", ECS_ENDPOINT="https://api.example.com")
    assert result.returncode == 0, result.stderr
    assert "no_credentials        true" in result.stderr
    saved = json.loads((Path(evaluated(result.stdout)["RUN_DIR"]) / "plan.json").read_text())
    assert saved["no_credentials"] is True and saved["credentials"] is None


def test_the_local_nodes_deployment_is_checked_before_anything_starts(tmp_path: Path) -> None:
    bad = write(tmp_path / "deployment.json", '{"api_rate_limiting": {"per_ip": {"rate_limit": 5')
    assert_refused(plan(tmp_path, "--node-deployment", str(bad)), tmp_path, 2, "is not valid JSON")
    wrong = write(tmp_path / "d2.json", '{"api_rate_limiting": {"per_ip": {"rate_limit": "5"}}}')
    assert_refused(
        plan(tmp_path, "--node-deployment", str(wrong)),
        tmp_path,
        2,
        "node_deployment from option|api_rate_limiting/per_ip/rate_limit",
    )


def test_a_results_path_too_long_for_the_runs_files_is_one_line(tmp_path: Path) -> None:
    deep = "/".join(["d" * 250] * 17)  # each name fits, the whole path does not
    assert_refused(
        run_module("plan", "-o", str(tmp_path / deep), cwd=tmp_path, timeout=30),
        tmp_path,
        2,
        "characters long, and the run's files need at most 4096 (PATH_MAX): give a shorter -o",
    )


BAD_CREDENTIALS = [
    (None, "does not exist"),
    ("", "holds no key:secret pair"),
    ("# nothing but comments\n\n", "holds no key:secret pair"),
    ("not a pair\n", "line 1 is not a key:secret pair"),
    (HASHED, "line 1 holds a hashed password|this is an .htpasswd, not the key:secret pairs"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CREDENTIALS)
def test_bad_credentials(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "creds.txt"
    if text is not None:
        path.write_text(text)
    result = plan(tmp_path, ECS_CREDENTIALS=str(path))
    assert_refused(result, tmp_path, 2, message)


def test_credentials_from_config_that_are_hashed(tmp_path: Path) -> None:
    write(tmp_path / ".htpasswd", HASHED)
    config = write(tmp_path / "c.json", '{"credentials": ".htpasswd"}')
    result = plan(tmp_path, str(config))
    assert_refused(result, tmp_path, 2, "c.json: credentials file|this is an .htpasswd")


def test_an_unusable_results_folder(tmp_path: Path) -> None:
    write(tmp_path / "file", "")
    result = run_module("plan", "-o", str(tmp_path / "file" / "results"), cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert "cannot create a run folder under" in result.stderr


def test_rates_make_an_arrival_rate_sweep_with_a_cap_sized_for_a_stall(tmp_path: Path) -> None:
    result = plan(tmp_path, "--rates", "50, 400", "--arrivals", "Poisson", "--processes", "2")
    assert result.returncode == 0, result.stderr
    values = evaluated(result.stdout)
    assert values["RATES"] == "50 400"
    assert planned(result)["arrival_users"] == 2  # one arrival user per Locust process
    argv = locust_argv(result, 400)
    locust = locust_reads(argv)
    assert (locust.arrival_rate, locust.arrivals, locust.max_in_flight) == (400, "poisson", 600)
    assert (option(argv, "-u"), option(argv, "-r"), option(argv, "--processes")) == ("2",) * 3
    given = plan(tmp_path, "--rates", "50", "--max-in-flight", "7")
    assert planned(given)["arrival_users"] == 1
    assert locust_reads(locust_argv(given, 50)).max_in_flight == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rates", "50 0"), "'0' is not a whole number from 1 to 1000000"),
        (("--rates", "50 50"), "level 50 is given more than once"),
        (("--arrivals", "bursty"), "'bursty' is not one of constant, poisson"),
        (("--max-in-flight", "-1"), "'-1' is not a positive integer"),
        (("--rates", "50", "-c", "10"), "exclude each other"),
    ],
)
def test_bad_arrival_settings_are_one_line(tmp_path: Path, args: tuple, message: str) -> None:
    result = plan(tmp_path, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_timed_levels_and_repeats(tmp_path: Path) -> None:
    """-d makes a timed level (no request limit), with its warmup and repeats."""
    result = plan(tmp_path, "-d", "10", "--warmup", "2", "--repeat", "3")
    assert result.returncode == 0, result.stderr
    values = evaluated(result.stdout)
    assert (values["REPEAT"], planned(result)["number_of_requests"]) == ("3", 0)
    argv = locust_argv(result, 10)
    locust = locust_reads(argv)
    assert (locust.level_seconds, locust.warmup_seconds) == (10, 2)
    assert "--stop-after-requests" not in argv  # the level's end is its time


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["-n", "500", "-d", "10"], 2, "exclude each other"),
        (["-d", "30", "--warmup", "5", "-t", "20"], 2, "raise -t"),
        (["-d", "0"], 2, "not a positive number"),
        (["--repeat", "0"], 2, "from 1 to 100"),
        (["--warmup", "-1"], 2, "0 or more"),
    ],
)
def test_timed_levels_refused(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    assert_refused(plan(tmp_path, *args), tmp_path, code, says)


def test_node_delay_reaches_bash_as_the_nodes_delay_words(tmp_path: Path) -> None:
    every = plan(tmp_path, "--node-delay", "5")
    assert every.returncode == 0, every.stderr
    assert evaluated(every.stdout)["NODE_DELAY"] == "noop=5 version=5 health=5 tasks=5"
    some = plan(tmp_path, "--node-delay", "tasks=12.5, NoOp=0")
    assert evaluated(some.stdout)["NODE_DELAY"] == "tasks=12.5 noop=0"
    config = write(tmp_path / "c.json", '{"node_delay": 7}')
    assert planned(plan(tmp_path, str(config)))["node_delay"] == [
        f"{name}=7" for name in ("noop", "version", "health", "tasks")
    ]
    for bad in ("fast", "-1", "tasks=", "disk=5", "70000"):
        refused = plan(tmp_path, "--node-delay", bad)
        assert refused.returncode == 2, bad
        assert "NAME=MS[,NAME=MS] with NAME one of noop, version, health, tasks" in refused.stderr
    against = plan(
        tmp_path,
        "--node-delay",
        "5",
        ECS_ENDPOINT="http://127.0.0.1:9",
        ECS_CREDENTIALS=str(write(tmp_path / "creds", "k:s\n")),
    )
    assert against.returncode == 0, against.stderr
    assert "note: option ignored against ECS_ENDPOINT: only the local node" in against.stderr
    assert evaluated(against.stdout)["NODE_DELAY"] == ""


def test_node_delay_names_are_the_nodes() -> None:
    from ecsload.values import NODE_ENDPOINTS
    from ecsnode.settings import ENDPOINTS

    assert NODE_ENDPOINTS == ENDPOINTS
