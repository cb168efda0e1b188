"""Whether a folder can be this run's baseline, checked by the plan before anything starts.

A baseline is an earlier run's results folder: a finished run (its summary.json),
against the same target (its plan.json's endpoint setting: a local node counts
as the same target whatever port it got), with a level in common with this run,
and every level's samples in this version's format (with their phase). The plan
reads it whole with the readers the comparison uses at the end of the run
(run_summary, measured_samples), so a baseline that passes the plan cannot fail
the verdict. Standard library at import: `--help` runs on bare python3 and
imports the plan, which imports this; numpy and jsonschema are imported when a
baseline is read.
"""

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecsload.run_folder import DocumentError, RunFolder, read_plan, read_summary

if TYPE_CHECKING:
    from ecsload.report.samples import Samples

# What the comparison reads of a run's summary.json (docs/summary-json.md has it all).
SUMMARY_SCHEMA = {
    "type": "object",
    "required": ["levels"],
    "properties": {
        "levels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["users"],
                "properties": {
                    "users": {"type": "integer", "minimum": 1},
                    "generator": {
                        "type": ["object", "null"],
                        "properties": {
                            "cpu_percent_max": {"type": ["number", "null"]},
                            "busy_percent_max": {"type": ["number", "null"]},
                        },
                    },
                },
            },
        }
    },
}


class BaselineError(Exception):
    """A folder that cannot be compared with; the message says why and what to give."""


def read_object(path: Path, read: "Callable[[Path], Mapping[str, Any]]") -> dict[str, Any]:
    """A document of the run folder read whole (ecsload.run_folder: a regular file of at
    most MAX_DOCUMENT_BYTES, valid JSON, an object, this version's)."""
    try:
        return dict(read(path))
    except DocumentError as error:
        if error.missing:
            raise BaselineError(
                f"it has no {path.name}: give the folder of a run that ended"
            ) from None
        raise BaselineError(f"its {path.name} {error.problem}") from None


def run_summary(folder: Path) -> dict[str, Any]:
    """A run's summary.json, checked against SUMMARY_SCHEMA, with at least one level and
    no level twice."""
    import jsonschema

    summary = read_object(RunFolder(folder).summary, read_summary)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft4Validator(SUMMARY_SCHEMA).iter_errors(summary)
    )
    if error is not None:
        where = "".join(f"[{json.dumps(part)}]" for part in error.absolute_path)
        raise BaselineError(
            f"its summary.json is not a run's summary: {where or 'the document'}: "
            f"{error.message[:200]}"
        )
    users = [level["users"] for level in summary["levels"]]
    if not users:
        raise BaselineError("its summary.json has no level: give a run that measured one")
    if len(set(users)) != len(users):
        raise BaselineError(f"its summary.json names a level twice (users: {users})")
    return summary


def measured_samples(folder: Path, levels: Iterable[int]) -> dict[int, "Samples"]:
    """The measured samples of each level of a run folder (level-USERS/samples.csv), by
    users, read whole; a BaselineError for a level without them or a malformed file."""
    from ecsload.report.samples import SampleFileError, WrongHeader, read_level

    found = {}
    for users in levels:
        level = RunFolder(folder).level(users)
        level_dir = level.path
        path = level.repeats()[0].samples  # with --repeat: each repeat's
        if not path.exists():
            raise BaselineError(f"it has no samples at {users} users ({path})")
        try:
            samples = read_level(level_dir)
        except WrongHeader:
            raise BaselineError(
                f"{path} is from an older ecs-load (no phase column): make a new baseline run"
            ) from None
        except SampleFileError as error:
            raise BaselineError(str(error)) from None
        found[users] = samples.where(samples.measured)
        if not len(found[users]):
            raise BaselineError(f"it has no samples at {users} users ({path} has none measured)")
    return found


def target_name(endpoint: str | None) -> str:
    return endpoint or "the local ECS node"


def check_baseline(
    folder: Path, endpoint: str, levels: Iterable[int], any_endpoint: bool = False
) -> list[int]:
    """The baseline's levels (users) when `folder` fits a run of `levels` against `endpoint`
    ("" for the local node), or against any endpoint with `any_endpoint` (blue/green,
    canary); a BaselineError otherwise."""
    if not folder.is_dir():
        raise BaselineError("it is not a folder: give a previous run's results/<run> folder")
    summary = run_summary(folder)
    plan = read_object(RunFolder(folder).plan, read_plan)
    if (plan.get("endpoint") or "") != endpoint and not any_endpoint:
        raise BaselineError(
            f"it ran against {target_name(plan.get('endpoint'))}, this run against "
            f"{target_name(endpoint)}: compare runs of the same target (or add "
            "--baseline-any-endpoint to compare two deployments on purpose)"
        )
    users = [level["users"] for level in summary["levels"]]
    if not set(users) & set(levels):
        raise BaselineError(
            f"it has no level in common with this run (its levels: {' '.join(map(str, users))}; "
            f"this run's: {' '.join(map(str, levels))}): give a run of some of the same users"
        )
    measured_samples(folder, users)
    return users
