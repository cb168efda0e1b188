"""Parsing the plaintext key:secret file that Locust signs its requests with."""

import base64
from pathlib import Path

import pytest

from ecsload.credentials import Credential, CredentialsError, load_credentials, parse_credentials

KEY = "b35ec3fd96564323898920d282c18bb6"
SECRET = "21023ce203851e7ec3eb1d25daf0fbcc"


def test_pairs_with_comments_blank_lines_crlf_and_spaces() -> None:
    text = f"# made by creds\r\n\r\n  {KEY}:{SECRET}  \r\n   \n{KEY[::-1]} : {SECRET[::-1]}\n"
    assert parse_credentials(text, "f") == [
        Credential(KEY, SECRET),
        Credential(KEY[::-1], SECRET[::-1]),
    ]


def test_a_secret_keeps_colons_after_the_first() -> None:
    assert parse_credentials("k:s:t\n", "f") == [Credential("k", "s:t")]


def test_authorization_is_http_basic() -> None:
    header = Credential(KEY, SECRET).authorization
    assert header.startswith("Basic ")
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{KEY}:{SECRET}"


@pytest.mark.parametrize(
    "hashed",
    [
        "$apr1$ZjTqBB3f$IF9gdYAGlMrs2fuINjHsz.",
        "$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
    ],
)
def test_hashed_lines_point_at_the_plaintext_pairs(hashed: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        parse_credentials(f"# ok\n{KEY}:{hashed}\n", "creds.txt")
    message = str(raised.value)
    assert "creds.txt line 2" in message
    assert "plaintext key:secret pairs that the creds command prints" in message
    assert hashed not in message
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("line", ["just-a-key", ":secret", "key:", "key:   "])
def test_a_line_that_is_not_a_pair_is_named_but_not_echoed(line: str) -> None:
    with pytest.raises(CredentialsError, match=r"^f line 1 is not a key:secret pair$"):
        parse_credentials(line + "\n", "f")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \r\n"])
def test_no_pair_at_all(text: str) -> None:
    with pytest.raises(CredentialsError, match="holds no key:secret pair"):
        parse_credentials(text, "f")


def test_load_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "creds.txt"
    path.write_text(f"{KEY}:{SECRET}\n")
    assert load_credentials(path) == [Credential(KEY, SECRET)]


def test_load_explains_missing_folder_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="does not exist"):
        load_credentials(tmp_path / "none.txt")
    with pytest.raises(CredentialsError, match="is a folder"):
        load_credentials(tmp_path)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00key")
    with pytest.raises(CredentialsError, match="cannot be read: not UTF-8 text"):
        load_credentials(binary)
