"""One level of a sweep, start to table: the probe, the live line and Locust, then the summary.

    python -m ecsload.commands.level RUN_DIR KEY INDEX OF REPEAT ENDPOINT CREDENTIALS [SECONDS]

KEY is the level's users (with --rates, its arrival rate); it is level INDEX of OF in
the sweep (counting every repeat), repeat REPEAT of the plan's; ENDPOINT and
CREDENTIALS are the ones the level uses (the local node's, once it runs); SECONDS is a
capacity search step's own (its files go in level-RATE/repeat-REPEAT). Everything else
comes from plan.json.

run_load_test.sh has the level server (commands/level_server.py) run it, so Locust's,
NumPy's and the tables' imports are paid once a sweep, not once a level. Each process
beside the level is a forked child of this one (ecsload/children.py): the probe (to
probe.log), the live line (on stderr, unless -q) and Locust (to output.txt). Locust's
exit code goes to the level's summary, which says why it failed.

A stop (SIGTERM: the script is stopping) stops Locust (SIGTERM: in-flight requests are
recorded as errors and level.json is written; SIGKILL for its group after 5 s), the
probe and the live line, and exits 143 without a summary: the script's cleanup writes
the run's, as far as it went. Exit codes: 0, or the summary's (exit 4: Locust
failed), or EXIT_LOCUST when Locust's command line cannot be built from plan.json.
"""

import argparse
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import locust.main
from gevent.os import fork_gevent

from ecsload.children import Child, StopRequest, redirect
from ecsload.cli import OneLineParser, UserError, invoke, run
from ecsload.commands import probe, summarize, watch
from ecsload.commands.level_server import titled
from ecsload.exits import EXIT_LOCUST
from ecsload.locust_compat import compile_report_template_once
from ecsload.plan.locust_command import level_command
from ecsload.run_folder import DocumentError, LevelFolder, RunFolder, read_plan
from ecsload.setting_rows import shell_text

PROG = "python -m ecsload.commands.level"
LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfile.py"
LOCUST_GRACE = 5.0  # seconds Locust has to record its in-flight requests when stopped
BESIDE_GRACE = 2.0  # the probe's and the live line's
POLL_SECONDS = 0.1
STOPPED = 128 + signal.SIGTERM

# The levels server imports this module once a sweep: each level's Locust, forked from it,
# renders its report.html from the template compiled here.
compile_report_template_once()


def parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    for name in ("key", "index", "of", "repeat"):
        p.add_argument(name, metavar=name.upper(), type=int)
    p.add_argument("endpoint", metavar="ENDPOINT")
    p.add_argument("credentials", metavar="CREDENTIALS")
    p.add_argument("seconds", metavar="SECONDS", type=float, nargs="?")
    return p


def forked(command: Callable[[Sequence[str]], int], prog: str, argv: Sequence[str],
           output: Path | None) -> Child:  # fmt: skip
    """A command's main run in a forked child, its output to `output` (None: stderr)."""

    def work() -> int:
        titled(command.__module__, argv)
        redirect(output)
        return invoke(lambda: command(argv), prog)

    return Child.fork(work, fork_gevent)


def run_locust(options: Sequence[str], output: Path) -> Child:
    """Locust (its `main`, already imported) in a forked child, to the level's output.txt."""

    def work() -> int:
        titled("locust", ["-f", str(LOCUSTFILE), *options])
        redirect(output)
        sys.argv = ["locust", "-f", str(LOCUSTFILE), *options]
        locust.main.main()  # exits (SystemExit: Child.fork takes its code)
        return 0

    return Child.fork(work, fork_gevent)


def beside(
    plan: Mapping[str, Any], folder: LevelFolder, options: argparse.Namespace, users: int
) -> list[Child]:
    """The probe (unless --probe-rate 0) and the live line (unless -q), started."""
    children = []
    if plan["probe_rate"]:
        argv = [options.endpoint, "--out", str(folder.probe)]
        argv += ["--rate", shell_text(plan["probe_rate"])]
        argv += ["--max-seconds", str(plan["level_time_cap"] + 60)]  # it stops by itself too
        argv += ["--credentials", options.credentials] if options.credentials else []
        if plan["insecure"]:
            argv.append("--insecure")
        elif plan["ca_bundle"]:
            argv += ["--ca-bundle", plan["ca_bundle"]]
        children.append(forked(probe.main, probe.PROG, argv, folder.probe_log))
    if not plan["quiet"]:
        argv = [str(folder.path), "--level", str(options.index), "--of", str(options.of)]
        argv += ["--users", str(users), "--requests", str(plan["number_of_requests"])]
        argv += ["--time-cap", str(plan["level_time_cap"])]
        argv += ["--rate", str(options.key)] if plan["rates"] else []
        children.append(forked(watch.main, watch.PROG, argv, None))
    return children


def wait_for(child: Child, stop: StopRequest) -> int:
    """The child's exit code once it exits by itself, or once stopped on a stop request."""
    while not child.ended(POLL_SECONDS):
        if stop.requested:
            return child.stop(LOCUST_GRACE)
    return child.finish(0)


def summaries(plan: Mapping[str, Any], folder: LevelFolder, options: argparse.Namespace, users: int,
              locust_exit: int) -> int:  # fmt: skip
    """The level's table (a search step's only in its summary.txt: the search prints a line a
    step) and, after a level's last repeat, the table over its repeats."""
    common = ["--concurrency", str(users), "--probe-rate", shell_text(plan["probe_rate"])]
    if not plan["endpoint"] and plan["node_deployment"]:  # the local node's own limits
        common += ["--node-deployment", plan["node_deployment"]]
    common += [] if plan["verbose"] else ["--short"]
    argv = ["level", str(folder.path), *common, "--locust-exit", str(locust_exit)]
    argv += ["--quiet"] if options.seconds is not None else []
    code = invoke(lambda: summarize.main(argv), summarize.PROG)
    if code == 0 and plan["repeat"] > 1 and options.repeat == plan["repeat"]:
        over_repeats = ["level", str(folder.path.parent), *common]
        code = invoke(lambda: summarize.main(over_repeats), summarize.PROG)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    stop = StopRequest(signal.SIGTERM)
    run = RunFolder(options.run_dir)
    try:
        plan = read_plan(run.plan)
    except DocumentError as error:
        raise UserError(str(error), EXIT_LOCUST) from None
    search = options.seconds is not None
    repeat = options.repeat if search or plan["repeat"] > 1 else 0
    folder = run.level(options.key)
    folder = folder.repeat(repeat) if repeat else folder
    folder.path.mkdir(parents=True, exist_ok=True)
    users = plan["arrival_users"] if plan["rates"] else options.key
    if plan["verbose"]:
        named = f"the rate {options.key}/s" if plan["rates"] else f"{options.key} concurrency"
        print(f"Find locust log file @ '{folder.locust_log}' for {named}")
        print(f"Find locust output @ '{folder.output}' for {named}", flush=True)
    try:
        locust_options = level_command(
            plan, folder, options.key, options.index == options.of, options.endpoint,
            options.credentials, options.seconds,
        )  # fmt: skip
    except (DocumentError, ValueError) as error:
        raise UserError(
            f"could not build Locust's command line from {run.plan}: {error}", EXIT_LOCUST
        ) from None
    running = beside(plan, folder, options, users)
    locust_exit = wait_for(run_locust(locust_options, folder.output), stop)
    for child in running:
        child.terminate()
    for child in running:
        child.finish(BESIDE_GRACE)
    if stop.requested:
        return STOPPED
    return summaries(plan, folder, options, users, locust_exit)


if __name__ == "__main__":
    run(main, PROG)
