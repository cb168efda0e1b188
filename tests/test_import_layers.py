"""The import structure the code keeps, read from the source (ast), and its map in docs/harness.md.

The layers of ecsload, lowest first: the base (ecsload/*.py), then analysis/ and plugin/, then
report/ and history/ (above analysis), then plan/ (above history and analysis), then
commands/ on top. A
module imports only its own layer or lower ones, there is no import cycle, and the two top
packages meet in one named seam: ecsload reads the node's file formats through
ecsload/node_files.py; ecsnode imports nothing of ecsload. Imports inside functions count.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEAM = "ecsload.node_files"

# What each part of ecsload may import, besides itself and the base.
ALLOWED = {
    "base": set(),
    "analysis": set(),
    "plugin": set(),
    "report": {"analysis"},
    "history": {"analysis"},
    "plan": {"analysis", "history"},
    "commands": {"analysis", "report", "plugin", "history", "plan"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


KNOWN = set(modules("ecsload")) | set(modules("ecsnode"))


def imports_of(path: Path) -> set[str]:
    """The project modules `path` imports (ecsload.*, ecsnode.*), at any depth of the code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:  # `from package import module` imports the module
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in KNOWN else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("ecsload", "ecsnode")}


def part(module: str) -> str:
    """A module's part of ecsload: its sub-package, or `base` for a top-level module."""
    names = module.split(".")
    return names[1] if len(names) > 2 or module in ALLOWED_PACKAGES else "base"


ALLOWED_PACKAGES = {f"ecsload.{name}" for name in ALLOWED if name != "base"}


def test_every_part_of_ecsload_is_a_known_layer() -> None:
    unknown = {part(name) for name in modules("ecsload")} - set(ALLOWED) - {"ecsload"}
    assert not unknown, f"add these sub-packages to ALLOWED (and docs/harness.md): {unknown}"


def test_no_module_imports_a_higher_layer() -> None:
    breaks = []
    for name, path in modules("ecsload").items():
        if name == "ecsload":
            continue
        mine = part(name)
        for imported in imports_of(path):
            if imported.startswith("ecsnode"):
                continue  # the seam's own test
            theirs = part(imported) if imported != "ecsload" else "base"
            if theirs not in {mine, "base"} | ALLOWED[mine]:
                breaks.append(f"{name} ({mine}) imports {imported} ({theirs})")
    assert not breaks, "\n".join(breaks)


def test_ecsload_and_ecsnode_meet_in_one_seam() -> None:
    node_imports_harness = [
        f"{name} imports {imported}"
        for name, path in modules("ecsnode").items()
        for imported in imports_of(path)
        if imported.startswith("ecsload")
    ]
    harness_imports_node = [
        f"{name} imports {imported}"
        for name, path in modules("ecsload").items()
        for imported in imports_of(path)
        if imported.startswith("ecsnode") and name != SEAM
    ]
    assert not node_imports_harness
    assert not harness_imports_node, f"import the node's files through {SEAM}"


def test_no_import_cycle() -> None:
    paths = modules("ecsload") | modules("ecsnode")
    graph = {name: imports_of(path) & KNOWN for name, path in paths.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError(
                "import cycle: " + " -> ".join([*trail[trail.index(name) :], name])
            )
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*trail, name])
        done.add(name)

    for name in graph:
        visit(name, [])


def test_help_runs_on_the_standard_library_alone() -> None:
    """`./run_load_test.sh --help` runs the plan command on bare python3 (no venv): its imports
    at import time are the standard library's (-S: no site-packages)."""
    result = subprocess.run(
        [sys.executable, "-S", "-m", "ecsload.commands.plan", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: run_load_test.sh" in result.stdout


def test_docs_harness_names_every_module() -> None:
    """docs/harness.md's map names each module of ecsload/ by its path under ecsload/."""
    text = (ROOT / "docs" / "harness.md").read_text(encoding="utf-8")
    missing = [
        relative
        for path in sorted((ROOT / "ecsload").rglob("*.py"))
        if path.name != "__init__.py"
        if f"`{(relative := path.relative_to(ROOT / 'ecsload').as_posix())}`" not in text
    ]
    assert not missing, f"docs/harness.md's module table does not name: {', '.join(missing)}"


def test_bash_evals_the_plan_and_nothing_else() -> None:
    """Python answers bash once in shell code (the plan, with the run's paths and the exit
    codes); everything else bash reads is a line, NUL-separated words or an exit code."""
    scripts = [ROOT / "run_load_test.sh", *sorted((ROOT / "lib").glob("*.sh"))]
    evals = [
        f"{script.name}: {line.strip()}"
        for script in scripts
        for line in script.read_text().splitlines()
        if re.search(r"(^|[;&|({]\s*|\s)eval\s", line) and not line.lstrip().startswith("#")
    ]
    assert evals == ['run_load_test.sh: eval "$plan"']
