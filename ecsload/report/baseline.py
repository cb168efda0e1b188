"""Whether a folder can be this run's baseline, checked by the plan before anything starts.

A baseline is an earlier run's results folder: a finished run (its summary.json),
against the same target (its plan.json's endpoint setting: a local node counts
as the same target whatever port it got), with every level's samples in this
version's format (with their phase). Standard library only: the plan imports it
before the venv exists.
"""

import json
from pathlib import Path
from typing import Any

from ecsload.sample_columns import HEADER, PREVIOUS_HEADER

# The comparison's defaults (ecsload.report.comparison), here for the plan: docs/verdicts.md
# tells how they were chosen.
DEFAULT_TOLERANCE_PERCENT = 10
DEFAULT_RUN_NOISE_PERCENT = 20


class BaselineError(Exception):
    """A folder that cannot be compared with; the message says why and what to give."""


def read_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"it has no {path.name}: give the folder of a run that ended") from None
    except (OSError, ValueError) as error:
        raise BaselineError(f"its {path.name} cannot be read: {error}") from None
    if not isinstance(value, dict):
        raise BaselineError(f"its {path.name} is not a JSON object")
    return value


def target_name(endpoint: str | None) -> str:
    return endpoint or "the local ECS node"


def check_baseline(folder: Path, endpoint: str) -> list[int]:
    """The baseline's levels (users) when `folder` fits a run against `endpoint` ("" for the
    local node); a BaselineError otherwise."""
    if not folder.is_dir():
        raise BaselineError("it is not a folder: give a previous run's results/<run> folder")
    summary = read_object(folder / "summary.json")
    plan = read_object(folder / "plan.json")
    if (plan.get("endpoint") or "") != endpoint:
        raise BaselineError(
            f"it ran against {target_name(plan.get('endpoint'))}, this run against "
            f"{target_name(endpoint)}: compare runs of the same target"
        )
    levels = [level.get("users") for level in summary.get("levels") or []]
    if not levels:
        raise BaselineError("its summary.json has no level: give a run that measured one")
    for users in levels:
        samples = folder / f"level-{users}" / "samples.csv"
        try:
            with samples.open(encoding="utf-8") as f:
                header, first = f.readline(), f.readline()
        except (OSError, UnicodeDecodeError):
            raise BaselineError(f"it has no samples at {users} users ({samples})") from None
        if header not in (HEADER, PREVIOUS_HEADER):
            raise BaselineError(
                f"{samples} is from an older ecs-load (no phase column): make a new baseline run"
            )
        if not first:
            raise BaselineError(f"it has no samples at {users} users ({samples} is empty)")
    return levels
