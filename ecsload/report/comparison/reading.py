"""The runs' measured samples, level by level, for the comparison (over every repeat)."""

from pathlib import Path

from ecsload.report.baseline import level_of, measured_samples, run_summary
from ecsload.report.samples import Samples


def level_samples(run_dir: Path) -> dict[int, Samples]:
    """Every level's measured samples of a run folder (the levels its summary.json names,
    each over its repeats), by users (or arrival rate); read as the plan read the baseline
    (a BaselineError when they cannot be)."""
    keys = [level_of(level) for level in run_summary(run_dir)["levels"]]
    return measured_samples(run_dir, keys)
