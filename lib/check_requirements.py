"""Exit 0 when this Python has every pin of the requirements files given installed.

Stdlib only: it runs before any environment exists, to decide whether one
must be made. Follows `-r other.txt` lines; compares `name==version` pins
with what importlib.metadata reports.
"""

import sys
from importlib import metadata
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


def missing(requirements: Path) -> list[str]:
    """The pins that are absent or at another version, as `name==version` strings."""
    wrong = []
    for name, version in pins(requirements).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong.append(f"{name}=={version}")
    return wrong


if __name__ == "__main__":
    sys.exit(1 if any(missing(Path(path)) for path in sys.argv[1:]) else 0)
