"""The one table of exit codes, and the places that must say the same: docs/exit-codes.md,
--help, bash."""

import re
import subprocess

from ecsload.exits import EXIT_CODES, EXIT_NO_PYTHON, shell_assignments
from tests.e2e_support import ROOT, SCRIPT


def readme_exit_codes() -> list[tuple[int, str]]:
    """The rows of the table of docs/exit-codes.md."""
    text = (ROOT / "docs" / "exit-codes.md").read_text()
    table = "| code |" + text.split("| code |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", table, flags=re.MULTILINE)
    return [(int(code), meaning) for code, meaning in rows]


def test_the_readme_table_is_the_python_table() -> None:
    assert readme_exit_codes() == [(e.code, e.meaning) for e in EXIT_CODES]


def test_help_lists_every_exit_code() -> None:
    result = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30, check=True
    )
    text = " ".join(result.stdout.split("exit codes:", 1)[1].split())  # unwrapped
    for exit in EXIT_CODES:
        assert f"{exit.code} {exit.meaning}" in text


def test_bash_reads_the_table_and_knows_only_the_code_it_needs_before_python() -> None:
    assert shell_assignments().splitlines() == [f"EXIT_{e.name}={e.code}" for e in EXIT_CODES]
    script = SCRIPT.read_text()
    assert f"\nEXIT_NO_PYTHON={EXIT_NO_PYTHON} " in script
    assert 'fail "$EXIT_NO_PYTHON" "python3 not found' in script
    literal = re.findall(r"\b(?:exit|fail) ([0-9]+)\b", script)
    assert literal == [], "bash must take exit codes from ecsload.exits (through the plan)"
