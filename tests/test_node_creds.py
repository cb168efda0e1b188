"""The creds command: new pairs (stdout or a private file), pairs from a user's file, and
the htpasswd file; checked against a real node, so what is hashed is what authenticates."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
import requests

from tests.node_fixtures import make_credentials, read_pairs, run_creds


def noop(node, auth: tuple[str, str]) -> requests.Response:
    """GET _noop signed with UTF-8 credentials (requests would encode them as Latin-1)."""
    token = base64.b64encode(":".join(auth).encode()).decode()
    return requests.get(
        f"{node.api}/_noop", headers={"Authorization": f"Basic {token}"}, timeout=30
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creds_command_output_authenticates(node_factory, tmp_path):
    htpasswd = tmp_path / "creds" / ".htpasswd"
    htpasswd.parent.mkdir()
    made = make_credentials(htpasswd, 4)
    assert made.returncode == 0, made.stderr
    assert "created" in made.stderr
    more = make_credentials(htpasswd, 2)
    assert "added to" in more.stderr
    pairs = read_pairs(made.stdout) + read_pairs(more.stdout)
    assert len(pairs) == 6
    for key, secret in pairs:
        assert len(key) == 32 and int(key, 16) >= 0
        assert len(secret) == 32 and int(secret, 16) >= 0
    stored = htpasswd.read_text()
    assert all(secret not in stored for _, secret in pairs)
    assert [line.split(":")[0] for line in stored.splitlines()] == [key for key, _ in pairs]
    assert all(line.split(":", 1)[1].startswith("$apr1$") for line in stored.splitlines())
    node = node_factory("--htpasswd", str(htpasswd))
    for pair in pairs:
        assert noop(node, pair).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0", "--htpasswd", "f"], "N must be"),
        (["two", "--htpasswd", "f"], "N must be"),
        (["1"], "--htpasswd"),
        (["1", "--htpasswd", "no/such/folder/f"], "cannot write"),
    ],
)
def test_creds_command_rejects_bad_input(tmp_path: Path, args, message):
    args = [str(tmp_path / arg) if arg.endswith("f") else arg for arg in args]
    done = run_creds(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert not (tmp_path / "f").exists()


def test_pairs_file_and_htpasswd_are_private_whatever_the_umask(node_factory, tmp_path):
    pairs_file, htpasswd = tmp_path / "credentials.txt", tmp_path / ".htpasswd"
    done = run_creds("3", "--htpasswd", str(htpasswd), "--pairs", str(pairs_file), umask=0)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (mode(pairs_file), mode(htpasswd)) == (0o600, 0o600)
    pairs = read_pairs(pairs_file.read_text())
    assert len(pairs) == 3
    node = node_factory("--htpasswd", str(htpasswd))
    assert all(noop(node, pair).status_code == 200 for pair in pairs)


@pytest.mark.parametrize("where", ["exists", "a-file/credentials.txt"])
def test_pairs_file_is_never_overwritten_and_nothing_is_hashed_then(tmp_path, where):
    pairs_file, htpasswd = tmp_path / where, tmp_path / ".htpasswd"
    if where == "exists":
        pairs_file.write_text("mine:keep me\n")
    else:  # its folder cannot be made: a file is in the way
        (tmp_path / "a-file").write_text("")
    done = run_creds("2", "--htpasswd", str(htpasswd), "--pairs", str(pairs_file))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert str(pairs_file) in done.stderr
    assert not htpasswd.exists()
    if where == "exists":
        assert pairs_file.read_text() == "mine:keep me\n"


def test_pairs_file_is_removed_when_the_htpasswd_cannot_be_written(tmp_path):
    pairs_file = tmp_path / "credentials.txt"
    done = run_creds("2", "--htpasswd", str(tmp_path / "no" / "h"), "--pairs", str(pairs_file))
    assert done.returncode == 2
    assert "cannot write" in done.stderr
    assert not pairs_file.exists()


def test_pairs_folder_that_does_not_exist_is_made_private(tmp_path):
    """`--pairs ~/.ecs/creds.txt` on a machine without ~/.ecs: the folders are made 0700."""
    pairs_file = tmp_path / "home" / ".ecs" / "creds.txt"
    done = run_creds(
        "2", "--htpasswd", str(tmp_path / ".htpasswd"), "--pairs", str(pairs_file), umask=0
    )
    assert done.returncode == 0, done.stderr
    assert [mode(p) for p in (tmp_path / "home", pairs_file.parent, pairs_file)] == [
        0o700,
        0o700,
        0o600,
    ]
    assert len(read_pairs(pairs_file.read_text())) == 2


def test_folders_made_for_the_pairs_are_removed_when_the_command_fails(tmp_path):
    pairs_file = tmp_path / "new" / "credentials.txt"
    done = run_creds("2", "--htpasswd", str(tmp_path / "no" / "h"), "--pairs", str(pairs_file))
    assert done.returncode == 2
    assert not (tmp_path / "new").exists()


# A user's own credentials file, as an editor may leave it: a byte order mark, CRLF and LF
# endings, comments, blank lines, and secrets whose spaces and colons are part of them.
USER_PAIRS = [
    ("alpha", "plain-secret"),
    ("beta", " spaces around "),
    ("gamma", "with:colons:inside"),
    ("delta", "ünïcødé sécret\t"),
    ("epsilon", "#not-a-comment"),
]
USER_FILE = (
    b"\xef\xbb\xbf# my ECS credentials\r\n"
    b"alpha:plain-secret\r\n"
    b"\r\n"
    b"   \n"
    b"beta: spaces around \n"
    b"  # an indented comment\n"
    b"gamma:with:colons:inside\r\n"
    + "delta:ünïcødé sécret\t\n".encode()
    + b"epsilon:#not-a-comment"
)


def test_from_pairs_hashes_a_users_file_byte_exact(node_factory, tmp_path):
    pairs_file, htpasswd = tmp_path / "mine.txt", tmp_path / ".htpasswd"
    pairs_file.write_bytes(USER_FILE)
    done = run_creds("--from-pairs", str(pairs_file), "--htpasswd", str(htpasswd), umask=0)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "created" in done.stderr and "5 hashed credentials" in done.stderr
    assert mode(htpasswd) == 0o600
    assert pairs_file.read_bytes() == USER_FILE  # read, never written
    node = node_factory("--htpasswd", str(htpasswd))
    for key, secret in USER_PAIRS:
        assert noop(node, (key, secret)).status_code == 200, key
    assert noop(node, ("beta", "spaces around")).status_code == 401  # nothing was stripped
    assert noop(node, ("delta", "ünïcødé sécret")).status_code == 401


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no key:secret pair"),
        (b"# only a comment\n\n", "holds no key:secret pair"),
        (b"k1:s1\nno colon here\n", "line 2 is not a key:secret pair"),
        (b":secret\n", "line 1 is not a key:secret pair"),
        (b"k1:\n", "line 1 is not a key:secret pair"),
        (b" k1:secret\n", "line 1: the key holds spaces"),
        (b"k 1:secret\n", "line 1: the key holds spaces"),
        (b"k1:$apr1$ecsload1$1DiU2j47VqeXS.v4Bo4ir1\n", "line 1 holds a hashed password"),
        (b"k1:s1\nk2:s2\nk1:s3\n", "line 3 repeats the key of line 1"),
        (b"k1:s\xff1\n", "line 1 is not UTF-8"),
    ],
)
def test_from_pairs_refuses_a_file_that_is_not_pairs(tmp_path, content, message):
    pairs_file, htpasswd = tmp_path / "mine.txt", tmp_path / ".htpasswd"
    pairs_file.write_bytes(content)
    done = run_creds("--from-pairs", str(pairs_file), "--htpasswd", str(htpasswd))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr, done.stderr
    assert "s1" not in done.stderr and "secret" not in done.stderr.replace("key:secret", "")
    assert not htpasswd.exists()


def test_from_pairs_refuses_a_key_the_htpasswd_already_has(tmp_path):
    htpasswd = tmp_path / ".htpasswd"
    made = make_credentials(htpasswd, 1)
    [(key, _)] = read_pairs(made.stdout)
    (tmp_path / "mine.txt").write_text(f"other:secret\n{key}:new secret\n")
    before = htpasswd.read_text()
    done = run_creds("--from-pairs", str(tmp_path / "mine.txt"), "--htpasswd", str(htpasswd))
    assert done.returncode == 2
    assert f"already has key {key}" in done.stderr
    assert htpasswd.read_text() == before


@pytest.mark.parametrize("extra", [["3"], ["--pairs", "new.txt"]], ids=["with N", "with --pairs"])
def test_from_pairs_takes_no_count_and_no_pairs_file(tmp_path, extra):
    (tmp_path / "mine.txt").write_text("k1:s1\n")
    done = run_creds(
        *extra, "--from-pairs", str(tmp_path / "mine.txt"), "--htpasswd", str(tmp_path / "h")
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "--from-pairs" in done.stderr
    assert not (tmp_path / "h").exists()


def test_from_pairs_of_a_missing_file(tmp_path):
    done = run_creds("--from-pairs", str(tmp_path / "none.txt"), "--htpasswd", str(tmp_path / "h"))
    assert done.returncode == 2
    assert "cannot read the pairs file" in done.stderr and "No such file" in done.stderr
