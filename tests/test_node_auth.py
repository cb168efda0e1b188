"""HTTP Basic auth on a real node: htpasswd files from the creds command and Apache's.

The Apache test needs `htpasswd` from Debian's apache2-utils; without it the test skips with
that reason (and in CI, where skips fail, .ci/run installs it).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import requests

from tests.node_fixtures import make_credentials, read_pairs

pytestmark = pytest.mark.e2e  # a real node process answering over loopback


def noop(node, auth) -> requests.Response:
    return requests.get(f"{node.api}/_noop", auth=auth, timeout=30)


def test_right_credentials_pass_and_wrong_ones_do_not(node_factory, credentials):
    node = node_factory("--htpasswd", str(credentials.htpasswd))
    key, secret = credentials.pairs[1]
    assert noop(node, (key, secret)).status_code == 200
    assert noop(node, (key, secret)).status_code == 200  # remembered, still right
    for wrong in [None, (key, "0" * 32), (key, ""), ("0" * 32, secret), (key, secret + "x")]:
        answer = noop(node, wrong)
        assert answer.status_code == 401, wrong
        assert answer.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header", ["Basic", "Basic !!!", "Basic a2V5", "Bearer a2V5OnNlY3JldA==", "key:secret"]
)
def test_malformed_authorization_is_401(secured_node, header):
    node, _ = secured_node
    answer = requests.get(f"{node.api}/_noop", headers={"Authorization": header}, timeout=30)
    assert answer.status_code == 401


def test_without_htpasswd_auth_is_off_and_logged(node_factory):
    node = node_factory()
    assert noop(node, None).status_code == 200
    assert noop(node, ("anyone", "anything")).status_code == 200
    assert "authentication is off" in node.log


def test_deployment_api_credentials_turn_auth_on(node_factory, credentials, tmp_path):
    deployment = tmp_path / "deployment.json"
    deployment.write_text(f'{{"api_credentials": "{credentials.htpasswd.name}"}}')
    node = node_factory("--deployment", str(deployment))
    assert noop(node, None).status_code == 401
    assert noop(node, credentials.pairs[0]).status_code == 200


def test_a_key_added_while_running_is_accepted(node_factory, credentials):
    node = node_factory("--htpasswd", str(credentials.htpasswd))
    made = make_credentials(credentials.htpasswd, 1)
    [pair] = read_pairs(made.stdout)
    assert noop(node, pair).status_code == 200  # a miss re-reads the changed file


@pytest.mark.skipif(
    not shutil.which("htpasswd"), reason="needs htpasswd (apt-get install apache2-utils)"
)
@pytest.mark.parametrize("scheme", ["-m", "-B", "-s"], ids=["apr1-md5", "bcrypt", "sha1"])
def test_apache_htpasswd_file_authenticates(node_factory, tmp_path, scheme):
    htpasswd = tmp_path / "apache.htpasswd"
    for key, secret, flags in [("k1", "s1", ["-c"]), ("k2", "s2", [])]:
        subprocess.run(
            ["htpasswd", *flags, "-b", scheme, str(htpasswd), key, secret],
            check=True,
            capture_output=True,
            timeout=30,
        )
    node = node_factory("--htpasswd", str(htpasswd))
    assert noop(node, ("k1", "s1")).status_code == 200
    assert noop(node, ("k2", "s2")).status_code == 200
    assert noop(node, ("k1", "s2")).status_code == 401
    assert noop(node, ("k3", "s1")).status_code == 401
