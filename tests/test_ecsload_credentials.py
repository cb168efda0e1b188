"""Reading the plaintext key:secret file that Locust signs its requests with.

The format is the creds command's (ecsnode/pairs.py, tested in test_node_creds.py);
these tests are about what the harness makes of it: credentials, byte-exact
secrets, and one-line errors that never echo a secret.
"""

import base64
from pathlib import Path

import pytest

from ecsload.credentials import Credential, CredentialsError, load_credentials

KEY = "b35ec3fd96564323898920d282c18bb6"
SECRET = "21023ce203851e7ec3eb1d25daf0fbcc"


def load(tmp_path: Path, data: bytes) -> list[Credential]:
    path = tmp_path / "creds.txt"
    path.write_bytes(data)
    return load_credentials(path)


def test_pairs_with_a_bom_comments_blank_lines_and_crlf(tmp_path: Path) -> None:
    data = f"\ufeff# made by creds\r\n\r\n{KEY}:{SECRET}\r\n   \n{KEY[::-1]}:{SECRET[::-1]}\n"
    assert load(tmp_path, data.encode()) == [
        Credential(KEY, SECRET),  # the BOM is not part of the first key
        Credential(KEY[::-1], SECRET[::-1]),
    ]


def test_a_secret_is_kept_byte_for_byte(tmp_path: Path) -> None:
    assert load(tmp_path, b"k: s:t \r\n") == [Credential("k", " s:t ")]


def test_authorization_is_http_basic() -> None:
    header = Credential(KEY, " spaced ").authorization
    assert header.startswith("Basic ")
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{KEY}: spaced "


@pytest.mark.parametrize(
    "hashed",
    [
        "$apr1$ZjTqBB3f$IF9gdYAGlMrs2fuINjHsz.",
        "$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
    ],
)
def test_hashed_lines_point_at_the_plaintext_pairs(tmp_path: Path, hashed: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        load(tmp_path, f"# ok\n{KEY}:{hashed}\n".encode())
    message = str(raised.value)
    assert "creds.txt line 2 holds a hashed password" in message
    assert "this is an .htpasswd, not the key:secret pairs" in message
    assert "give the pairs that the creds command writes" in message
    assert hashed not in message
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("line", ["just-a-key", ":secret", "key:", " key:secret"])
def test_a_line_that_is_not_a_pair_is_named_but_not_echoed(tmp_path: Path, line: str) -> None:
    with pytest.raises(CredentialsError, match=r"creds.txt line 1") as raised:
        load(tmp_path, line.encode() + b"\n")
    assert "secret" not in str(raised.value).split(":", 1)[0] or line == ":secret"


@pytest.mark.parametrize("data", [b"", b"\n\n", b"# only a comment\n", b"  \r\n"])
def test_no_pair_at_all(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CredentialsError, match="holds no key:secret pair"):
        load(tmp_path, data)


def test_load_explains_missing_folder_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="does not exist"):
        load_credentials(tmp_path / "none.txt")
    with pytest.raises(CredentialsError, match="is a folder"):
        load_credentials(tmp_path)
    with pytest.raises(CredentialsError, match="line 1 is not UTF-8 text"):
        load(tmp_path, b"\xff\xfe\x00key:secret\n")
