"""End to end: run_load_test.sh against nginx serving TLS with certificates the test makes.

A certificate that verifies runs the sweep (users and probe over TLS, one
connection per user); one that does not ends the run before the first level,
with one line and exit 2, and nginx's access log shows that no request (so no
credential) reached it; --insecure runs and every level says so.
"""

import csv
import itertools
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ecsload.analysis.samples import read_samples
from ecsload.tls import NOT_VERIFIED
from tests.e2e_support import (
    Sweep,
    clean_env,
    only_run_dir,
    processes_mentioning,
    read_json,
    run_script,
)
from tests.ecsload_support import locust_args, run_command
from tests.nginx_support import Nginx, nginx_ecs, nginx_missing
from tests.tls_support import Authority, issue, make_ca

pytestmark = pytest.mark.e2e

LEVELS = ("-c", "5 8", "-n", "300", "-r", "1000", "-t", "60")

Server = Callable[..., Nginx]


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def server(tmp_path: Path, ca: Authority) -> Iterator[Server]:
    """Start the ECS stand-in: over TLS with a certificate for `names` signed by `ca`
    (expired or not), or plain http with tls=False."""
    if missing := nginx_missing():
        pytest.skip(missing)
    count = itertools.count(1)
    with ExitStack() as stack:

        def start(
            names: tuple[str, ...] = ("127.0.0.1",),
            expired: bool = False,
            tls: bool = True,
            keepalive_requests: int = 1_000_000,
        ) -> Nginx:
            folder = tmp_path / f"nginx-{next(count)}"
            pair = issue(folder / "tls", ca, names, expired) if tls else None
            return stack.enter_context(
                nginx_ecs(folder, tls=pair, keepalive_requests=keepalive_requests)
            )

        yield start


def sweep(
    tmp_path: Path, target: Nginx, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = clean_env(ECS_ENDPOINT=target.url, ECS_CREDENTIALS=str(target.credentials), **env)
    return run_script(*LEVELS, "-o", str(tmp_path / "results"), *args, env=environ, timeout=240)


def levels_of(tmp_path: Path) -> list[dict]:
    return read_json(only_run_dir(tmp_path / "results") / "summary.json")["levels"]


def test_a_verified_run_passes_over_tls_with_one_connection_per_user(
    tmp_path: Path, server: Server, ca: Authority
) -> None:
    target = server()
    result = sweep(tmp_path, target, "-v", ECS_CA_BUNDLE=str(ca.pem))

    assert result.returncode == 0, result.stderr + result.stdout
    assert f"verified against the system's CAs and {ca.pem}" in result.stdout
    assert NOT_VERIFIED not in result.stdout
    run_dir = only_run_dir(tmp_path / "results")
    for level in levels_of(tmp_path):
        assert sum(t["error"] for t in level["types"].values()) == 0, level
        assert level["tls"] == {"verified": True, "ca_bundle": str(ca.pem)}
        assert level["connections"] == level["users"]
        with (run_dir / f"level-{level['users']}" / "probe.csv").open(newline="") as f:
            statuses = [row["status"] for row in csv.DictReader(f)]
        assert statuses and set(statuses) == {"200"}  # the probe over TLS, verified
    assert "NOTE: the users opened" not in result.stdout


@pytest.mark.parametrize(
    ("names", "expired", "bundle", "says"),
    [
        (("127.0.0.1",), False, False, "unable to get local issuer certificate"),
        (("localhost",), False, True, "certificate is not valid for '127.0.0.1'"),
        (("127.0.0.1",), True, True, "certificate has expired"),
    ],
    ids=["unknown-ca", "another-name", "expired"],
)
def test_a_certificate_that_does_not_verify_stops_the_run_before_any_request(
    tmp_path: Path,
    server: Server,
    ca: Authority,
    names: tuple[str, ...],
    expired: bool,
    bundle: bool,
    says: str,
) -> None:
    target = server(names=names, expired=expired)
    env = {"ECS_CA_BUNDLE": str(ca.pem)} if bundle else {}
    result = sweep(tmp_path, target, **env)

    assert result.returncode == 2, result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"run_load_test.sh: the certificate of {target.url} does not")
    assert says in lines[0]
    assert "--insecure" in lines[0]
    assert target.requests_seen() == 0  # no request, so no credential, reached it
    assert not list((tmp_path / "results").glob("*/level-*"))
    assert not processes_mentioning(str(tmp_path / "results"))


def test_insecure_runs_and_every_level_says_not_verified(tmp_path: Path, server: Server) -> None:
    target = server(names=("localhost",))  # an unknown CA and another name
    result = sweep(tmp_path, target, "-v", "--insecure")

    assert result.returncode == 0, result.stderr + result.stdout
    assert f"  {NOT_VERIFIED}\n" in result.stderr  # the plan
    run_dir = only_run_dir(tmp_path / "results")
    assert read_json(run_dir / "plan.json")["notes"] == [NOT_VERIFIED]
    for level in levels_of(tmp_path):
        assert level["tls"] == {"verified": False, "ca_bundle": None}
        summary = (run_dir / f"level-{level['users']}" / "summary.txt").read_text()
        assert f"\n{NOT_VERIFIED}\n" in summary
    assert result.stdout.count(f"\n{NOT_VERIFIED}\n") == 2


def test_connections_count_over_plain_http_and_closed_keep_alives_are_noted(
    tmp_path: Path, server: Server
) -> None:
    # nginx closes each connection after 40 requests: 600 requests need at least 15.
    target = server(tls=False, keepalive_requests=40)
    result = sweep(tmp_path, target, "-v", "-c", "5", "-n", "600")

    assert result.returncode == 0, result.stderr + result.stdout
    (level,) = levels_of(tmp_path)
    assert level["tls"] is None
    assert level["connections"] >= 15
    assert (
        f"NOTE: the users opened {level['connections']} connections, more than one each "
        "(5 users)" in result.stdout
    )


@pytest.mark.parametrize("insecure", [False, True], ids=["bundle", "insecure"])
def test_a_master_gives_its_verification_to_workers_that_have_none(
    tmp_path: Path, server: Server, ca: Authority, insecure: bool
) -> None:
    # With --insecure the certificate names another host: only an insecure worker gets answers.
    target = server(names=("localhost",) if insecure else ("127.0.0.1",))
    trust = ("--insecure",) if insecure else ("--ca-bundle", str(ca.pem))
    run = Sweep(tmp_path, (target.url, target.credentials), 1, *LEVELS, *trust)
    try:
        (master_rc, master_out), (worker_rc, worker_out) = run.finish()
    finally:
        run.kill()
    assert master_rc == 0, master_out
    assert worker_rc == 0, worker_out
    for users in (5, 8):
        level_dir = only_run_dir(tmp_path / "master") / f"level-{users}"
        (level,) = read_json(level_dir / "summary.json")["levels"]
        assert sum(t["error"] for t in level["types"].values()) == 0, level
        assert level["connections"] == users
        assert level["workers"] == {"joined": 1, "finished": 1, "lost": 0, "rejected": 0}
        assert level["tls"]["verified"] is not insecure


def test_the_users_verify_on_their_own(tmp_path: Path, server: Server, ca: Authority) -> None:
    """Without the check before the level, Locust's users still refuse a certificate for
    another name (so they never send it credentials), and take one that verifies."""
    wrong, right = server(names=("localhost",)), server()
    for target, folder in ((wrong, tmp_path / "wrong"), (right, tmp_path / "right")):
        folder.mkdir()
        args = ["-u", "3", "-r", "100", "--run-time", "30s", "--stop-after-requests", "60"]
        args += ["--ca-bundle", str(ca.pem), "--ecs-credentials", str(target.credentials)]
        result = run_command(locust_args(target.url, folder, *args))
        assert result.returncode == 0, result.stderr
    samples = read_samples(tmp_path / "wrong" / "samples.csv")
    assert len(samples) >= 3
    assert not samples.ok.any() and not samples.status.any()  # no answer: refused
    assert "SSLCertVerificationError" in (tmp_path / "wrong" / "samples.csv").read_text()
    assert wrong.requests_seen() == 0
    assert read_json(tmp_path / "right" / "level.json")["connections"] == 3
    assert right.requests_seen() > 0
