"""Every command in the docs runs as written: the ```bash blocks of README.md and docs/*.md.

Each doc gets a scratch clone (the checkout's files as a fresh clone has them: no results/,
no node/) and a HOME of its own, and its blocks run there in order, each in a new
`bash -eo pipefail` as a reader pastes them, bounded in time, and must exit 0 and leave no
process behind. The output shown under a block is checked for its shape (docs_blocks.heads).
Blocks marked `# docs-test: syntax-only (REASON)` are only checked with `bash -n`; the
terminal summary prints how many (tests/conftest.py). The scratch clone shares the
checkout's .venv (a symlink): making one takes minutes, and lib/venv.sh re-checks its pins.
"""

import re
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.docs_blocks import (
    ROOT,
    Block,
    doc_paths,
    hidden_commands,
    missing_heads,
    read_blocks,
    shell_blocks,
    structure_differences,
)
from tests.e2e_support import clean_env, kill_leftovers, processes_mentioning, run_script

BLOCK_TIMEOUT = 240  # s; the longest block is the README's default sweep (~31 s idle)
DOC_TIMEOUT = 900  # s, all of one doc's blocks (the README's: about 2 minutes idle)
DOCS = [str(path.relative_to(ROOT)) for path in doc_paths()]


def scratch_clone(into: Path) -> Path:
    """The checkout's tracked and new (not ignored) files, as `git clone` would give them."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    clone = into / "ecs-load"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is not listed as a file
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    (into / "home").mkdir()
    return clone


def run_block(block: Block, clone: Path, home: Path) -> subprocess.CompletedProcess[str]:
    script = clone.parent / "block.sh"
    script.write_text(block.text + "\n")
    env = clean_env(HOME=str(home), PWD=str(clone))
    try:
        return subprocess.run(
            ["bash", "-eo", "pipefail", str(script)],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BLOCK_TIMEOUT,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{block.where}: still running after {BLOCK_TIMEOUT} s:\n{expired.output}")


def test_every_shell_block_is_valid_bash() -> None:
    blocks = shell_blocks()
    assert blocks, "no ```bash block found in the docs"
    for block in blocks:
        result = subprocess.run(
            ["bash", "-n"], input=block.text, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{block.where}: {result.stderr}"


def test_no_command_hides_in_a_block_that_does_not_run() -> None:
    hidden = hidden_commands()
    assert hidden == [], (
        "a command in a plain ``` block is never run: put it in a ```bash block (first line "
        "'# docs-test: syntax-only (REASON)' when it cannot run here), a synopsis in ```text:\n"
        + "\n".join(hidden)
    )


def test_a_syntax_only_marker_gives_its_reason() -> None:
    for block in shell_blocks():
        if "docs-test" in block.text.split("\n", 1)[0]:
            assert block.syntax_only_reason, (
                f"{block.where}: write the marker as '# docs-test: syntax-only (REASON)'"
            )


@pytest.mark.e2e  # the blocks start nodes and sweeps
@pytest.mark.timeout(DOC_TIMEOUT)
@pytest.mark.parametrize("doc", DOCS)
def test_every_command_of_the_doc_runs_as_written(doc: str, tmp_path: Path) -> None:
    runnable = [b for b in read_blocks(ROOT / doc) if b.is_shell and not b.syntax_only_reason]
    if not runnable:
        return  # nothing to run in this doc; its blocks are syntax-checked above
    clone = scratch_clone(tmp_path)
    try:
        for block in runnable:
            result = run_block(block, clone, tmp_path / "home")
            assert result.returncode == 0, (
                f"{block.where} exits {result.returncode} as written:\n{block.text}\n"
                f"--- its output (last 40 lines):\n" + "\n".join(result.stdout.split("\n")[-40:])
            )
            left = processes_mentioning(str(clone))
            assert left == [], f"{block.where} left processes running: {left}"
            if block.output is not None:
                missing = missing_heads(block.output, result.stdout)
                assert missing == [], (
                    f"{block.where}: the output shown under it has lines its run did not "
                    f"print (or not in that order): {missing}\n--- it printed:\n{result.stdout}"
                )
            if block.output is not None and doc == "README.md":  # the sample a reader trusts
                differences = structure_differences(block.output, result.stdout)
                assert differences == [], (
                    f"{block.where}: the output shown under it is not shaped as what it "
                    f"printed: {differences}\n--- it printed:\n{result.stdout}"
                )
    finally:
        kill_leftovers(str(clone))


def test_output_shape_check_catches_a_missing_row_and_the_order() -> None:
    shown = "Users   10  15\nRequests/s   1  2\n...\nSaturation: at 10 users"
    assert missing_heads(shown, "Users 10\nRequests/s  3\nSaturation: none") == []
    assert missing_heads(shown, "Users 10\nSaturation: none") == ["Requests/s"]
    assert missing_heads(shown, "Saturation: x\nUsers 1\nRequests/s  3") == ["Saturation:"]


def test_the_structure_check_catches_a_changed_sample_and_forgives_the_machine() -> None:
    shown = (
        "10 users: 1.0 ±0.1 req/s, no errors\n=====\nTitle N\n=====\nUsers  10  20\n----  --  --\n"
        "Requests/s  1.0  2.0\np50  1.0  2.0\nSaturation: at 10 users\nFind the report @ '/a/b'"
    )
    same = (
        "level 1/2, 10 users, 9 s | 5 requests\n10 users: 2.5 ±1.0 req/s, errors 3.00%  ! "
        "generator busy 97% (level-10/summary.txt)\n======\nTitle N\n======\nUsers  10  20\n"
        "----  --  --\nRequests/s  1.5  2.5\np50  1.0  2.0\nGenerator busy %  97  12\n"
        "Saturation: still growing\nFind the report @ '/tmp/x/report.html'"
    )
    assert structure_differences(shown, same) == []
    assert structure_differences(shown, same.replace("p50  1.0  2.0\n", "")) == [
        "shown but not printed (in that order): p50  1.0  2.0"
    ]
    assert structure_differences(shown, same.replace("  20\n", "  20  30\n", 1)) != []
    assert structure_differences(shown, same + "\nrun_load_test.sh: note: x") == [
        "printed but not shown: run_load_test.sh: note: x"
    ]
    assert structure_differences(shown.replace("p50  1.0  2.0\n", "...\n"), same) == []


def test_a_broken_command_fails_the_docs_test(tmp_path: Path) -> None:
    """The test can fail: a doc with a command that exits non-zero, run the same way."""
    docs = tmp_path / "repo"
    (docs / "docs").mkdir(parents=True)
    (docs / "README.md").write_text(
        "# x\n\n```bash\ntrue\n```\n\n```bash\n# docs-test: syntax-only (another machine)\n"
        "ssh far.example.com uptime\n```\n\nRun:\n\n```bash\nls no-such-file\n```\n"
    )
    blocks = read_blocks(docs / "README.md", docs)
    assert [b.syntax_only_reason for b in blocks] == [None, "another machine", None]
    (tmp_path / "home").mkdir()
    results = [run_block(b, docs, tmp_path / "home").returncode for b in blocks[::2]]
    assert results[0] == 0
    assert results[1] != 0


@pytest.mark.e2e  # one small sweep
def test_the_results_tree_names_every_file_a_run_writes(tmp_path: Path) -> None:
    """The tree of a run folder in docs/files.md (```text) against a real run's files:
    each one a run writes must be in it (by name; level-N as level-10)."""
    readme = read_blocks(ROOT / "docs" / "files.md")
    [tree] = [b.text for b in readme if b.text.startswith("results/") and "├──" in b.text]
    named = {re.sub(r"/$", "", m[1]) for m in re.finditer(r"[├└]── (\S+)", tree)}
    result = run_script("-q", "-c", "5", "-n", "100", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [run_dir] = [path for path in tmp_path.iterdir() if path.is_dir()]  # history.sqlite beside
    written = {re.sub(r"^level-\d+$", "level-10", p.name) for p in run_dir.rglob("*")}
    unnamed = [name for name in written if not any(fnmatch(name, n) for n in named)]
    assert unnamed == [], f"files a run writes that docs/files.md's tree does not name: {unnamed}"
