"""junit.xml: the thresholds as the test report that Jenkins, GitLab and GitHub read.

One testsuite per level ("level 10 users", stamped with its measured phase's start), one
testcase per threshold checked there, named by its expression; a failed check
carries a `failure` whose message holds the measured value and the limit.
Written with junitparser, so the file follows the schema CI tools parse.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from junitparser import Failure, JUnitXml, TestCase, TestSuite

from ecsload.analysis.documents import level_key, level_label
from ecsload.analysis.thresholds import failure_text
from ecsload.run_folder import level_name, write_file

REPORT_NAME = "ecs-load thresholds"


def write_junit(
    path: Path, verdict: Mapping[str, Any], levels: Sequence[Mapping[str, Any]]
) -> None:
    report = JUnitXml(REPORT_NAME)
    for level in levels:
        key = level_key(level)  # its users, or an arrival-rate level's rate
        suite = TestSuite(f"level {level_label(level)}")
        suite.timestamp = level["started"]
        for check in verdict["thresholds"]:
            if check["level"] != key:
                continue
            case = TestCase(check["expr"], classname=f"ecs-load.{level_name(key)}", time=0)
            if not check["passed"]:
                case.result = [Failure(failure_text(check), type_="threshold")]
            suite.add_testcase(case)
        report.add_testsuite(suite)
    report.update_statistics()
    write_file(path, lambda partial: report.write(str(partial), pretty=True))
