"""TLS: the plan's settings, the check before the first level, and the probe, against nginx
serving certificates that the test makes (a private CA, a wrong name, an expired one).

Every refusal is one line, exit 2, and nginx's access log shows that no request
(so no credential) reached it.
"""

import csv
import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ecsload.tls import NOT_VERIFIED
from tests.ecsload_support import PAIRS, assert_refused, evaluated, plan, run_module, write
from tests.nginx_support import Nginx, nginx_ecs, nginx_missing
from tests.tls_support import Authority, issue, make_ca

HTTPS = "https://api.example.com"
FIXES = ("--ca-bundle FILE", "--insecure")

TlsNginx = Callable[..., Nginx]


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def tls_nginx(tmp_path: Path, ca: Authority) -> Iterator[TlsNginx]:
    """Start the ECS stand-in over TLS with a certificate for `names` (expired or not)."""
    if missing := nginx_missing():
        pytest.skip(missing)
    servers = itertools.count(1)
    with ExitStack() as stack:

        def start(names: tuple[str, ...] = ("127.0.0.1",), expired: bool = False) -> Nginx:
            folder = tmp_path / f"nginx-{next(servers)}"
            chain, key = issue(folder / "tls", ca, names, expired)
            return stack.enter_context(nginx_ecs(folder, tls=(chain, key)))

        yield start


def check(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module("tls_check", url, *args, timeout=30)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.e2e  # nginx serving TLS
def test_a_certificate_from_the_bundles_ca_verifies(tls_nginx: TlsNginx, ca: Authority) -> None:
    server = tls_nginx()
    result = check(server.url, "--ca-bundle", str(ca.pem))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("TLS: the certificate of 127.0.0.1:")
    assert f"verified against the system's CAs and {ca.pem}" in result.stdout
    assert server.requests_seen() == 0  # a handshake, no request


@pytest.mark.e2e  # nginx serving TLS
def test_a_private_ca_without_its_bundle_is_one_line_and_nothing_is_sent(
    tls_nginx: TlsNginx,
) -> None:
    server = tls_nginx()
    result = check(server.url)
    assert result.returncode == 2
    line = one_line(result)
    assert f"the certificate of {server.url} does not verify" in line
    assert "unable to get local issuer certificate" in line
    assert "nothing was sent to it" in line
    for fix in FIXES:
        assert fix in line
    assert server.requests_seen() == 0


@pytest.mark.e2e  # nginx serving TLS
def test_a_certificate_for_another_name_names_the_mismatch(
    tls_nginx: TlsNginx, ca: Authority
) -> None:
    server = tls_nginx(names=("ecs.example.com", "localhost"))
    line = one_line(result := check(server.url, "--ca-bundle", str(ca.pem)))
    assert result.returncode == 2
    assert "IP address mismatch, certificate is not valid for '127.0.0.1'" in line
    assert "it was issued for ecs.example.com, localhost" in line
    assert "--insecure" in line
    assert server.requests_seen() == 0


@pytest.mark.e2e  # nginx serving TLS
def test_an_expired_certificate_says_expired(tls_nginx: TlsNginx, ca: Authority) -> None:
    server = tls_nginx(expired=True)
    line = one_line(result := check(server.url, "--ca-bundle", str(ca.pem)))
    assert result.returncode == 2
    assert "certificate has expired" in line
    for fix in FIXES:
        assert fix in line


@pytest.mark.e2e  # nginx serving TLS
def test_insecure_completes_the_handshake_without_verifying(tls_nginx: TlsNginx) -> None:
    server = tls_nginx(expired=True, names=("localhost",))
    result = check(server.url, "--insecure")
    assert (result.returncode, result.stdout.strip()) == (0, NOT_VERIFIED)


def test_plain_http_and_no_server(tmp_path: Path) -> None:
    result = check("http://127.0.0.1:1")
    assert result.returncode == 0
    assert result.stdout == "TLS: none (http://127.0.0.1:1 is plain http)\n"
    line = one_line(result := check("https://127.0.0.1:1"))
    assert result.returncode == 2
    assert "cannot connect to 127.0.0.1:1" in line
    bundle = write(tmp_path / "bundle.pem", "not a certificate\n")
    line = one_line(result := check("https://127.0.0.1:1", "--ca-bundle", str(bundle)))
    assert result.returncode == 2
    assert f"CA bundle {bundle} holds no PEM certificate" in line


def probe_statuses(tmp_path: Path, server: Nginx, *args: str) -> list[str]:
    out = tmp_path / "probe.csv"
    result = run_module(
        "probe",
        server.url,
        "--out",
        str(out),
        "--credentials",
        str(server.credentials),
        "--rate",
        "20",
        "--max-seconds",
        "0.5",
        *args,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    with out.open(newline="") as f:
        return [row["status"] for row in csv.DictReader(f)]


@pytest.mark.e2e  # nginx serving TLS
def test_the_probe_verifies_as_the_users_do(
    tmp_path: Path, tls_nginx: TlsNginx, ca: Authority
) -> None:
    server = tls_nginx()
    verified = probe_statuses(tmp_path, server, "--ca-bundle", str(ca.pem))
    assert len(verified) >= 3 and set(verified) == {"200"}
    assert server.requests_seen() == len(verified)
    unverified = probe_statuses(tmp_path, server)
    assert len(unverified) >= 3 and set(unverified) == {"0"}  # no answer: not even asked
    assert server.requests_seen() == len(verified)
    insecure = probe_statuses(tmp_path, server, "--insecure")
    assert set(insecure) == {"200"}


# The plan's TLS settings (no server needed).


def test_the_bundle_comes_from_option_environment_or_config(tmp_path: Path, ca: Authority) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf" / "ca.pem", "# a comment\n" + ca.pem.read_text())
    config = write(tmp_path / "conf" / "c.json", json.dumps({"ca_bundle": "ca.pem"}))
    from_config = evaluated(
        plan(tmp_path, "--no-credentials", str(config), ECS_ENDPOINT=HTTPS).stdout
    )
    assert from_config["CA_BUNDLE"] == str(tmp_path / "conf" / "ca.pem")
    from_env = evaluated(
        plan(tmp_path, "--no-credentials", ECS_ENDPOINT=HTTPS, ECS_CA_BUNDLE=str(ca.pem)).stdout
    )
    assert (from_env["CA_BUNDLE"], from_env["INSECURE"]) == (str(ca.pem), "false")
    result = plan(tmp_path, "--no-credentials", "--ca-bundle", str(ca.pem), ECS_ENDPOINT=HTTPS)
    saved = json.loads((Path(evaluated(result.stdout)["RUN_DIR"]) / "plan.json").read_text())
    assert saved["tls"] == {"verified": True, "ca_bundle": str(ca.pem)}
    assert saved["notes"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "ECS_CA_BUNDLE: CA bundle |does not exist"),
        ("hello\n", "holds no PEM certificate|openssl x509 -inform der"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "holds a certificate that cannot be read",
        ),
    ],
)
def test_an_unusable_bundle_is_refused(tmp_path: Path, text: str | None, message: str) -> None:
    bundle = tmp_path / "ca.pem"
    if text is not None:
        bundle.write_text(text)
    result = plan(tmp_path, "--no-credentials", ECS_ENDPOINT=HTTPS, ECS_CA_BUNDLE=str(bundle))
    assert_refused(result, tmp_path, 2, message)


def test_a_corrupt_certificate_in_a_bundle_is_named(tmp_path: Path, ca: Authority) -> None:
    good = ca.pem.read_text()
    lines = good.splitlines()
    corrupt = "\n".join([lines[0], "!" + lines[1][1:], *lines[2:]])  # one character off
    bundle = write(tmp_path / "bundle.pem", f"{good}# the next one\n{corrupt}\n")
    result = plan(tmp_path, "--no-credentials", "--ca-bundle", str(bundle), ECS_ENDPOINT=HTTPS)
    first_line = good.count("\n") + 2
    assert_refused(
        result,
        tmp_path,
        2,
        f"CA bundle {bundle} holds a certificate that cannot be read (PEM block 2 of 2, "
        f"from line {first_line}): its base64 text is corrupt",
    )


@pytest.mark.e2e  # nginx serving TLS
def test_a_bundle_without_the_issuer_says_so_instead_of_asking_for_a_bundle(
    tmp_path: Path, tls_nginx: TlsNginx
) -> None:
    # The server sends its own certificate only; the bundle holds a CA that did not issue
    # it (as a root whose intermediate the server leaves out): OpenSSL's error is the same.
    server = tls_nginx()
    other = make_ca(tmp_path / "other", "another CA")
    line = one_line(result := check(server.url, "--ca-bundle", str(other.pem)))
    assert result.returncode == 2
    assert f"although {other.pem} was trusted too" in line
    assert "intermediate certificate(s)" in line
    assert "give --ca-bundle" not in line
    assert server.requests_seen() == 0


def test_insecure_and_a_bundle_exclude_each_other(tmp_path: Path, ca: Authority) -> None:
    result = plan(
        tmp_path, "--no-credentials", "--insecure", ECS_ENDPOINT=HTTPS, ECS_CA_BUNDLE=str(ca.pem)
    )
    assert_refused(
        result,
        tmp_path,
        2,
        "insecure (option) and ca_bundle (environment ECS_CA_BUNDLE) exclude each other",
    )


def test_insecure_is_said_by_the_plan_and_its_json(tmp_path: Path) -> None:
    config = write(tmp_path / "c.json", '{"insecure": true}')
    result = plan(tmp_path, "--no-credentials", "-v", str(config), ECS_ENDPOINT=HTTPS)
    assert result.returncode == 0, result.stderr
    assert evaluated(result.stdout)["INSECURE"] == "true"
    assert f"  {NOT_VERIFIED}\n" in result.stderr
    saved = json.loads((Path(evaluated(result.stdout)["RUN_DIR"]) / "plan.json").read_text())
    assert saved["insecure"] is True
    assert saved["tls"] == {"verified": False, "ca_bundle": None}
    assert saved["notes"] == [NOT_VERIFIED]


def test_tls_settings_without_an_https_endpoint_are_ignored_with_a_note(tmp_path: Path) -> None:
    result = plan(tmp_path, "--insecure")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "run_load_test.sh: note: option insecure ignored: the local node speaks plain http\n"
    )
    assert evaluated(result.stdout)["INSECURE"] == "false"
    result = plan(tmp_path, "--no-credentials", "--insecure", ECS_ENDPOINT="http://127.0.0.1:8080")
    assert "http://127.0.0.1:8080 is plain http, with no certificate to verify" in result.stderr


@pytest.mark.parametrize(
    ("endpoint", "warned"),
    [
        ("http://ecs.example.com", True),
        ("http://10.1.2.3:8080", True),
        ("http://127.0.0.1:8080", False),
        ("http://127.0.0.2:8080", False),
        ("http://localhost:8080", False),
        ("http://[::1]:8080", False),
        ("https://ecs.example.com", False),
        # Other spellings of loopback that every client here resolves as the C library does
        ("http://127.1:8080", False),
        ("http://2130706433:8080", False),
        ("http://0x7f000001:8080", False),
        ("http://0177.0.0.1:8080", False),
        ("http://[::ffff:127.0.0.1]:8080", False),
        ("http://LocalHost.:8080", False),
        ("http://10.1:8080", True),
        ("http://[::ffff:10.0.0.1]:8080", True),
        ("http://167772161:8080", True),
    ],
)
def test_credentials_in_clear_text_over_a_network_are_warned_about(
    tmp_path: Path, endpoint: str, warned: bool
) -> None:
    creds = write(tmp_path / "creds.txt", PAIRS)
    result = plan(tmp_path, ECS_ENDPOINT=endpoint, ECS_CREDENTIALS=str(creds))
    assert result.returncode == 0, result.stderr
    saved = json.loads((Path(evaluated(result.stdout)["RUN_DIR"]) / "plan.json").read_text())
    if warned:
        line = one_line(result)
        assert line.startswith(f"run_load_test.sh: WARNING: environment ECS_ENDPOINT {endpoint}")
        assert "travel in clear text" in line
        assert saved["notes"] == [line.removeprefix("run_load_test.sh: ")]
    else:
        assert result.stderr == ""
        assert saved["notes"] == []
    without = plan(
        tmp_path, "--no-credentials", ECS_ENDPOINT=endpoint
    )  # no credentials: nothing to leak
    assert without.stderr == ""
