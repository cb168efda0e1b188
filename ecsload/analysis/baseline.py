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
    from ecsload.analysis.samples import Samples

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


def read_object(
    path: Path,
    read: "Callable[[Path], Mapping[str, Any]]",
    error: type[Exception] = BaselineError,
) -> dict[str, Any]:
    """A document of the run folder read whole (ecsload.run_folder: a regular file of at
    most MAX_DOCUMENT_BYTES, valid JSON, an object, this version's), or `error` saying why
    not (the history's RecordError reads run folders the same way)."""
    try:
        return dict(read(path))
    except DocumentError as problem:
        if problem.missing:
            raise error(f"it has no {path.name}: give the folder of a run that ended") from None
        raise error(f"its {path.name} {problem.problem}") from None


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
    keys = [level_of(level) for level in summary["levels"]]
    if not keys:
        raise BaselineError("its summary.json has no level: give a run that measured one")
    if len(set(keys)) != len(keys):
        raise BaselineError(f"its summary.json names a level twice (levels: {keys})")
    return summary


def level_of(level: Mapping[str, Any]) -> int:
    """A summary level's key in a comparison: its arrival rate (req/s, whole) in an
    arrival-rate sweep, else its users: rate levels are paired by rate."""
    return int(level.get("rate") or level["users"])


def model_of(levels: Iterable[Mapping[str, Any]]) -> str:
    """ "open" when a run's levels are arrival rates, else "closed"."""
    rates = any(level.get("model") == "open" or level.get("rate") for level in levels)
    return "open" if rates else "closed"


def level_kind(model: str, keys: Iterable[int]) -> str:
    """`levels 10 20 users` or `levels 100 200 req/s`: what a run's levels are."""
    unit = "req/s" if model == "open" else "users"
    return f"levels {' '.join(map(str, keys))} {unit}"


def check_common_levels(before: tuple[str, Iterable[int]], now: tuple[str, Iterable[int]]) -> None:
    """A BaselineError unless both runs vary the same thing (closed users or arrival rates:
    never compared with each other) and have a level in common; each is (model, keys)."""
    (model_before, keys_before), (model_now, keys_now) = before, now
    keys_before, keys_now = sorted(set(keys_before)), sorted(set(keys_now))
    if model_before != model_now:
        raise BaselineError(
            f"its {level_kind(model_before, keys_before)} and this run's "
            f"{level_kind(model_now, keys_now)} are not the same kind of level (closed users "
            "vs arrival rates are never compared): give a baseline run of the same kind"
        )
    if not set(keys_before) & set(keys_now):
        raise BaselineError(
            f"it has no level in common with this run (its {level_kind(model_before, keys_before)};"
            f" this run's {level_kind(model_now, keys_now)}): give a run of some of the same levels"
        )


def measured_samples(folder: Path, levels: Iterable[int]) -> dict[int, "Samples"]:
    """The measured samples of each level of a run folder (level-USERS/samples.csv), by
    users, read whole; a BaselineError for a level without them or a malformed file."""
    from ecsload.analysis.samples import SampleFileError, WrongHeader, read_level

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
    folder: Path,
    endpoint: str,
    levels: Iterable[int],
    any_endpoint: bool = False,
    model: str = "closed",
) -> list[int]:
    """The baseline's levels (users, or rates) when `folder` fits a run of `levels` of
    `model` ("closed" users or "open" arrival rates) against `endpoint` ("" for the local
    node), or against any endpoint with `any_endpoint` (blue/green, canary); a
    BaselineError otherwise."""
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
    keys = [level_of(level) for level in summary["levels"]]
    check_common_levels((model_of(summary["levels"]), keys), (model, levels))
    measured_samples(folder, keys)
    return keys
