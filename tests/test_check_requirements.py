"""lib/check_requirements.py, run as lib/venv.sh runs it: a real Python, real folders."""

import subprocess
import sys
from pathlib import Path

from tests.e2e_support import ROOT

CHECK = ROOT / "lib" / "check_requirements.py"


def check(tmp_path: Path, pins: str) -> int:
    """The check's exit code for `pins`, with tmp_path/site on this Python's path."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pins)
    return subprocess.run(
        [sys.executable, str(CHECK), str(requirements)],
        env={"PYTHONPATH": str(tmp_path / "site")},
        check=False,
    ).returncode


def installed(site: Path, folder: str, name: str, version: str) -> None:
    """A distribution's metadata folder, as pip leaves it."""
    (site / folder).mkdir(parents=True)
    (site / folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )


def test_the_projects_own_pins_are_installed_in_its_environment() -> None:
    code = subprocess.run(
        [sys.executable, str(CHECK), str(ROOT / "requirements.txt"),
         str(ROOT / "requirements-nodeps.txt")],
        check=False,
    ).returncode  # fmt: skip
    assert code == 0


def test_a_pin_at_another_version_or_absent_fails(tmp_path: Path) -> None:
    installed(tmp_path / "site", "Fake_Pkg-1.0.dist-info", "Fake.Pkg", "1.0")
    assert check(tmp_path, "fake-pkg==1.0\n") == 0  # names compared as PEP 503 does
    assert check(tmp_path, "fake-pkg==1.1\n") == 1
    assert check(tmp_path, "fake-pkg==1.0\nno-such-dist==2.0\n") == 1


def test_a_folder_name_that_says_nothing_is_read_from_the_metadata(tmp_path: Path) -> None:
    """Not every metadata folder is named `name-version`: such a pin is looked up in
    importlib.metadata, which reads the METADATA file."""
    installed(tmp_path / "site", "oddly.dist-info", "oddly", "3.2")
    assert check(tmp_path, "oddly==3.2\n") == 0
    assert check(tmp_path, "oddly==3.3\n") == 1


def test_the_first_on_the_path_wins_as_for_an_import(tmp_path: Path) -> None:
    installed(tmp_path / "site", "requests-0.0.1.dist-info", "requests", "0.0.1")
    assert check(tmp_path, "requests==0.0.1\n") == 0
