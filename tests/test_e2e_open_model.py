"""The open model's latency is the service's: at 1,000/s against nginx, the harness's p50
within 0.5 ms of httperf's, measured side by side in one test (bench/bench_open_model.py's
quick mode, the real run_load_test.sh and Debian's httperf).

A latency comparison means nothing on a machine too busy for httperf itself (a C client
whose reply time is nginx's ~0.1 ms on a quiet one): then the test is skipped and says
why, with httperf's figure.
"""

import shutil
from pathlib import Path

import pytest

from bench.bench_open_model import QUICK_RATE, QUICK_SECONDS, compare

pytestmark = pytest.mark.e2e

TOLERANCE_MS = 0.5
QUIET_REPLY_MS = 1.0  # httperf's mean reply above this: the machine, not a generator, is slow


def test_at_1000_per_second_the_harness_p50_is_httperfs_within_half_a_millisecond(
    tmp_path: Path,
) -> None:
    if not shutil.which("httperf"):
        pytest.fail("httperf is not installed: apt-get install -y httperf")
    [row] = compare([QUICK_RATE], QUICK_SECONDS, auto=False, folder=tmp_path)
    reference, harness = row["httperf"], row["one"]
    assert reference["errors"] == 0 and reference["ok"] == reference["requests"], reference
    assert harness["requests"] == round(QUICK_RATE * QUICK_SECONDS)
    assert harness["lag_p50_ms"] is not None  # the event loop's lag was measured
    if reference["reply_ms"] > QUIET_REPLY_MS:
        pytest.skip(f"the machine is too busy to compare latencies: {row}")
    assert harness["errors"] == 0 and harness["dropped"] == 0, harness
    assert abs(harness["p50_ms"] - reference["reply_ms"]) <= TOLERANCE_MS, row
