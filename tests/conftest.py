"""Shared test set-up: the fixtures every module may use, and CI's rule that no test may skip.

The fixture modules (a real node, the local Docker) are registered here once, so a
test module asks for a fixture by name without importing it. In CI (CI=true) a test
that skips because a tool is missing would hide an untested path, so a skip is
turned into a failure that names its reason.
"""

import os

import pytest

from tests.docs_blocks import shell_blocks

QUICK_RUN = "not e2e"  # in -m: only tests that measure nothing on real time

pytest.register_assert_rewrite("tests.e2e_support", "tests.ecsload_support")
pytest_plugins = ["tests.node_fixtures", "tests.docker_fixtures", "tests.nginx_support"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The quick run (-m "not e2e ...") spreads its tests over the cores (pytest-xdist).

    Only then: the e2e tests load the machine and measure it (a generator saturated,
    a probe's latency, a time cap), so they run one at a time.
    """
    worker = "PYTEST_XDIST_WORKER" in os.environ  # a worker of the quick run itself
    quick = QUICK_RUN in (config.getoption("markexpr") or "")
    if quick and not worker and config.option.numprocesses is None:
        config.option.numprocesses = "auto"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """When the docs test ran: how many ```bash blocks it runs and how many it only checks
    with `bash -n` (marked `# docs-test: syntax-only (REASON)`), so the second never grows
    unseen."""
    reports = (r for reports in terminalreporter.stats.values() for r in reports)
    if not any("tests/test_docs.py" in getattr(r, "nodeid", "") for r in reports):
        return
    blocks = shell_blocks()
    syntax_only = [b for b in blocks if b.syntax_only_reason]
    write = terminalreporter.write_line
    write(
        f"docs: {len(blocks) - len(syntax_only)} bash blocks run as written in a scratch clone, "
        f"{len(syntax_only)} syntax-only (bash -n):"
    )
    for block in syntax_only:
        write(f"  {block.where}: {block.syntax_only_reason}")
