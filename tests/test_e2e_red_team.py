"""End to end: what the red team broke (issue 29), each on the real script."""

import sqlite3
from pathlib import Path

import pytest

from tests.e2e_support import only_run_dir, processes_mentioning, read_json, run_script

pytestmark = pytest.mark.e2e

NOT_UTF8 = b"build-\xff\xfe".decode("utf-8", "surrogateescape")  # the bytes reach argv as such


def test_a_level_of_five_requests_by_five_users_with_a_label_that_is_not_utf8(
    tmp_path: Path,
) -> None:
    """-c 5 -n 5: no user sent twice, and the corrected percentiles crashed (IndexError);
    a label of bytes that are not UTF-8 crashed the plan (UnicodeEncodeError): exit 1,
    no summary, no report, no history row."""
    result = run_script("-c", "5", "-n", "5", "-r", "100", "--label", NOT_UTF8, "-o", str(tmp_path))

    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    run_dir = only_run_dir(tmp_path)
    assert (run_dir / "summary.txt").read_text() in result.stdout
    level = read_json(run_dir / "summary.json")["levels"][0]
    assert level["requests"] == 5
    assert (run_dir / "report.html").is_file()
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        assert db.execute("SELECT label FROM runs").fetchall() == [("build-\ufffd\ufffd",)]
    assert not processes_mentioning(str(tmp_path))
