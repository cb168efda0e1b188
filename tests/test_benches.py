"""The benchmarks that need nothing but Python still run: each is run small, as a user
would, and must end well and print its figures (their values are not judged here: no test
times anything, docs/benchmarks.md). bench_summary's sample writer had fallen behind
samples.csv's columns, and both benchmarks failed, unseen, until this test."""

import subprocess
import sys

import pytest

from tests.e2e_support import ROOT


@pytest.mark.parametrize(
    ("bench", "args", "figures"),
    [
        ("bench_summary", ["--samples", "20000"], ["total", "whole command", "reference"]),
        (
            "bench_report",
            ["--levels", "2", "--samples", "5000"],
            ["whole command", "SVG of all charts", "on every core", "reference"],
        ),
    ],
)
def test_a_benchmark_runs_and_prints_its_figures(
    bench: str, args: list[str], figures: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for figure in figures:
        assert figure in done.stdout, done.stdout
