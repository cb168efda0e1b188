"""docs/settings.md against the code: every option of `--help` and every config key is in its
table, and each default it gives is the code's (ecsload/setting_rows.py)."""

import re
import subprocess
from collections.abc import Sequence

from ecsload.setting_rows import SETTINGS, Setting, shell_text
from tests.e2e_support import ROOT, SCRIPT

SETTINGS_DOC = ROOT / "docs" / "settings.md"
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def table_rows(text: str) -> list[list[str]]:
    """The settings table's rows (after its header `| config key | option | …`), as cells."""
    table = text.split("| config key |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    return [[cell.strip() for cell in CELL_SPLIT.split(row)[1:-1]] for row in rows]


def documented_default(s: Setting) -> str:
    """How the default column must begin: the code's default, `none` or `off`."""
    if isinstance(s.default, bool):
        return "on" if s.default else "off"
    if s.default in ("", []):
        return "none"
    return f"`{shell_text(s.default)}`"


def help_options() -> list[str]:
    """Every option `--help` lists (the sweep's and the machines' group), -h aside."""
    text = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    options = text.split("options:", 1)[1].split("other commands:", 1)[0]
    found = re.findall(r"^\s{2}(-[^\s,]+)(?:, (--[^\s,]+))?", options, flags=re.MULTILINE)
    return sorted({flag for pair in found for flag in pair if flag} - {"-h", "--help"})


def problems(text: str, settings: Sequence[Setting], options: Sequence[str]) -> list[str]:
    """What the doc's table lacks or says otherwise than the code; [] when it agrees."""
    rows = table_rows(text)
    by_key = {row[0].strip("`"): row for row in rows if row[0]}
    found = []
    for s in settings:
        row = by_key.get(s.key)
        if row is None:
            found.append(f"config key {s.key} is not in the table")
            continue
        _, option, env, default, _ = row
        found += [f"{s.key}: option {f} not in its row" for f in s.flags if f"`{f}" not in option]
        if s.env and f"`{s.env}`" not in env:
            found.append(f"{s.key}: environment variable {s.env} not in its row")
        expected = documented_default(s)
        if not re.match(re.escape(expected) + r"($|[:;]| \()", default):
            found.append(f"{s.key}: default {default!r}, the code's is {expected}")
    known = {s.key for s in settings}
    found += [f"{key} is in the table but is no setting" for key in by_key if key not in known]
    option_cells = " ".join(row[1] for row in rows)
    found += [
        f"option {o} of --help is not in the table" for o in options if f"`{o}" not in option_cells
    ]
    return found


def test_the_settings_reference_is_the_codes() -> None:
    assert problems(SETTINGS_DOC.read_text(), SETTINGS, help_options()) == []


def test_the_check_fails_on_a_missing_option_key_or_a_wrong_default() -> None:
    text = SETTINGS_DOC.read_text()
    options = help_options()
    assert "--node-delay" in options and "--verbose" in options and "--master-port" in options
    wrong_default = text.replace(
        "| `number_of_requests` | `-n`, `--requests N` | | `1000` |",
        "| `number_of_requests` | `-n`, `--requests N` | | `500` |",
    )
    assert problems(wrong_default, SETTINGS, options) == [
        "number_of_requests: default '`500`', the code's is `1000`"
    ]
    no_key = "\n".join(line for line in text.splitlines() if not line.startswith("| `label` |"))
    assert problems(no_key, SETTINGS, options) == [
        "config key label is not in the table",
        "option --label of --help is not in the table",
    ]
    assert problems(text, SETTINGS, [*options, "--brand-new"]) == [
        "option --brand-new of --help is not in the table"
    ]
