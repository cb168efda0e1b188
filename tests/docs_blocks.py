"""The fenced blocks of README.md and docs/*.md, read the way the docs test runs them.

The convention (docs/development.md, "Docs that are tested"):
- a ```bash (or ```sh) block is a command a reader copies: it runs as written in a scratch
  clone, unless its first line is `# docs-test: syntax-only (REASON)` (another machine, a
  registry, root, or minutes of time): then `bash -n` checks it and nothing runs;
- a plain ``` block right under a block that runs (at most one paragraph between, no
  heading) is the output shown for it: its line heads (a table's row names, a note's
  label) must appear in that order in what the block printed;
- synopses, trees and file formats go in ```text (or ```json, ```yaml ...): never run.
A command of the project in a plain block would escape the test: `hidden_commands` finds those.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "sh")
SYNTAX_ONLY = re.compile(r"^# docs-test: syntax-only \((?P<reason>.+)\)\s*$")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
# The start of a line that is a command of this project, not output, a synopsis or a
# transcript (`$ command` above what it printed).
COMMAND = re.compile(r"^([A-Z_]+=\S+ )*(\./run_|\.venv/bin/|scripts/|apt-get |python )")
# A line's head: words that start with a letter, up to two spaces, a colon, a number or a path
# (a word that starts with / is a path).
HEAD = re.compile(r"^\s*([A-Za-z][^\s:@'\"=(]*(?: [A-Za-z%][^\s:@'\"=(]*)*:?)")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and text, and the output shown under it."""

    doc: str  # the doc's path relative to the repository
    line: int  # the line of its opening fence
    lang: str
    text: str
    output: str | None = None  # the plain block right under it, if any

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.lang in SHELLS

    @property
    def syntax_only_reason(self) -> str | None:
        first = self.text.split("\n", 1)[0]
        match = SYNTAX_ONLY.match(first)
        return match["reason"] if match else None


def doc_paths(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def read_blocks(path: Path, root: Path = ROOT) -> list[Block]:
    """Every fenced block of one Markdown file, shell blocks paired with their output."""
    blocks: list[Block] = []
    lines = path.read_text().split("\n")
    between: list[str] = []  # the lines since the last block closed
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            between.append(lines[i])
            i += 1
            continue
        indent, start, body = len(fence["indent"]), i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i].lstrip())
            i += 1
        text = "\n".join(body)
        previous = blocks[-1] if blocks else None
        if (
            fence["lang"] == ""
            and previous is not None
            and previous.is_shell
            and previous.syntax_only_reason is None
            and previous.output is None
            and close_under(between)
        ):
            blocks[-1] = Block(previous.doc, previous.line, previous.lang, previous.text, text)
        blocks.append(Block(str(path.relative_to(root)), start, fence["lang"], text))
        between = []
        i += 1
    return blocks


def close_under(lines: list[str]) -> bool:
    """At most one paragraph and no heading between a command and a block under it."""
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines).strip())
    return (
        not any(line.startswith("#") for line in lines) and len([p for p in paragraphs if p]) <= 1
    )


def all_blocks(root: Path = ROOT) -> Iterator[Block]:
    for path in doc_paths(root):
        yield from read_blocks(path, root)


def shell_blocks(root: Path = ROOT) -> list[Block]:
    return [block for block in all_blocks(root) if block.is_shell]


def hidden_commands(root: Path = ROOT) -> list[str]:
    """Lines of plain ``` blocks that are commands of the project (`where: line`), which would
    escape the test: a command belongs in a ```bash block, a synopsis in ```text."""
    found = []
    for block in all_blocks(root):
        if block.lang == "":
            for offset, line in enumerate(block.text.split("\n"), 1):
                if COMMAND.match(line):
                    found.append(f"{block.doc}:{block.line + offset}: {line.strip()}")
    return found


def heads(text: str) -> list[str]:
    """The stable part of each line of shown output: its leading words (a table's row name,
    a note's label up to its colon); lines without one (numbers, rules, `...`) give none."""
    found = []
    for line in text.split("\n"):
        match = HEAD.match(line)
        if match and match[1].strip():
            found.append(match[1].strip())
    return found


def missing_heads(shown: str, printed: str) -> list[str]:
    """The heads of `shown` that `printed` lacks, in order: each must come after the last found."""
    printed_heads = heads(printed)
    missing, at = [], 0
    for head in heads(shown):
        try:
            at = printed_heads.index(head, at) + 1
        except ValueError:
            missing.append(head)
    return missing


# The live line (ecsload/report/live.py), printed every 10 s when not on a terminal: how many
# a run prints depends on the machine's speed, so the sample output leaves them out.
LIVE_LINE = re.compile(r"^level \d+/\d+, ")
RULE = re.compile(r"^[=\-\s]+$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def shape(line: str) -> tuple[str | int, ...]:
    """What a line of output is, its figures aside: a rule; a table's row (its name and how
    many cells); or a line of text (its words up to a colon, a quote or a path, numbers as
    N: `N users`, `Saturation`, `Find the report @`)."""
    if RULE.match(line):
        return ("rule",)
    normalised = NUMBER.sub("N", line.strip())
    cells = re.split(r"\s{2,}", normalised)
    if len(cells) >= 3:
        return ("row", cells[0], len(cells))
    return ("text", re.split(r"[:'/]", normalised)[0].strip())


def structure_differences(shown: str, printed: str) -> list[str]:
    """Where `printed` is not shaped as `shown` (each line's `shape`, in order; [] when it
    is): each shown line must be printed, in that order, and each printed line shown, but
    for live lines, the rows a table prints only when something happened (a busy generator,
    rate limiting) and what a `...` line of `shown` stands for."""
    lines = [line for line in printed.split("\n") if line.strip() and not LIVE_LINE.match(line)]
    differences, at, skipping = [], 0, False
    for wanted in (line for line in shown.split("\n") if line.strip()):
        if wanted.strip() == "...":
            skipping = True
            continue
        found = next((i for i in range(at, len(lines)) if shape(lines[i]) == shape(wanted)), None)
        if found is None:
            differences.append(f"shown but not printed (in that order): {wanted.strip()}")
            continue
        if not skipping:
            differences += [
                f"printed but not shown: {line.strip()}"
                for line in lines[at:found]
                if shape(line)[0] != "row"
            ]
        at, skipping = found + 1, False
    if not skipping:
        differences += [f"printed but not shown: {line.strip()}" for line in lines[at:]]
    return differences
