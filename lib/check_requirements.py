"""Exit 0 when this Python has every pin of the requirements files given installed.

Stdlib only: it runs before any environment exists, to decide whether one
must be made. Follows `-r other.txt` lines; compares `name==version` pins
with what is installed: first from the names of the `.dist-info` folders on
sys.path (`name-version.dist-info`), and only for a pin they do not show, from
importlib.metadata, whose import alone took half of this check's 60 ms, on
every sweep's critical path.
"""

import os
import re
import sys
from pathlib import Path


def pins(requirements: Path) -> dict[str, str]:
    """Map each pinned distribution in `requirements` (and its -r includes) to its version."""
    found: dict[str, str] = {}
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(requirements.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==", 1)
            found[name.strip()] = version.strip()
    return found


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_info_versions() -> dict[str, str]:
    """The version of each distribution with a `.dist-info` folder on sys.path, by its
    normalized name; the first on the path wins, as it does for an import."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if folder.endswith(".dist-info"):
                name, _, version = folder.removesuffix(".dist-info").partition("-")
                found.setdefault(normalized(name), version)
    return found


def missing(requirements: Path) -> list[str]:
    """The pins that are absent or at another version, as `name==version` strings."""
    seen = dist_info_versions()
    wrong = []
    for name, version in pins(requirements).items():
        if seen.get(normalized(name)) == version:
            continue
        from importlib import metadata  # only now: see the module's doc

        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong.append(f"{name}=={version}")
    return wrong


if __name__ == "__main__":
    sys.exit(1 if any(missing(Path(path)) for path in sys.argv[1:]) else 0)
