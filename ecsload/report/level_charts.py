"""The report's charts drawn ahead: each finished level's while the next levels run, and
the sweep's while the run's summary and verdict are written, so that the report mostly
only has to write its page.

Why: the report's charts cost about 1.4 s of CPU for a 4-level sweep, all of it after the
last level, on the sweep's critical path (issue 31's figure: docs/harness.md, "What a
level costs besides its load"). The run-end server (commands/level_server.py) has
nothing to do while the levels run, and its first request (the run's summary) says that
they are over. Its `Ahead`:

- between requests, looks for level summaries that are new or rewritten, and has a forked
  child at SCHED_IDLE draw their charts: it takes only CPU time that nothing else wants
  (the next level's Locust, the node, the service on this machine);
- on the run's first run-end request, has a child draw on every core, at normal priority,
  the sweep's charts and the level charts not drawn yet, while the summary and the
  verdict are written;
- when the report is asked for, waits for that child.

The report, a forked child of the same server, takes a chart from AHEAD when it was drawn
from the very inputs the report would draw it from, all in one digest (`inputs`): for a
sweep chart, every level's figures; for a level's chart, its figures, the run's colour
per request type, its number of repeats and its samples file (path, size, change time).
Otherwise (a verdict that rewrote a level's figures, a request type that only a later
level had) it draws the chart itself. So a chart drawn ahead is the one the report would
have drawn, or it is not used. A report run by itself (`run_load_test.sh report RUN`)
finds AHEAD empty and draws every chart.
"""

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import select
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ecsload.analysis.documents import level_key
from ecsload.analysis.samples import SampleFileError, read_samples
from ecsload.children import Child, close_now, redirect
from ecsload.report.charts import (
    Build,
    Chart,
    DrawnChart,
    level_chart,
    sweep_builds,
    type_colours,
)
from ecsload.report.drawing import drawn
from ecsload.run_folder import DocumentError, LevelFolder, RunFolder, read_plan, read_summary

AHEAD: dict[str, DrawnChart] = {}  # charts drawn ahead, by their inputs' digest
BOOSTED_SECONDS = 30.0  # the report's wait for the drawer: far more than its charts need
CHUNK = 1 << 16


def level_build(folder: Path, level: Mapping[str, Any], colours: Mapping[str, Any]) -> Build:
    """What builds a level's chart from its samples (a level run several times: its first
    repeat's), or says why it has none."""

    def build() -> Chart | str:
        repeats = RunFolder(folder).level(level_key(level)).repeats()
        try:
            samples = read_samples(repeats[0].samples)
        except SampleFileError as error:
            return str(error)
        if not len(samples):
            return "the level recorded no samples"
        return level_chart(level, samples, colours, len(repeats))

    return build


def report_builds(folder: Path, levels: Sequence[Mapping[str, Any]]) -> list[Build]:
    """What builds each of the report's charts: the sweep's, then each level's."""
    colours = type_colours(levels)
    return [*sweep_builds(levels), *(level_build(folder, level, colours) for level in levels)]


def inputs(folder: Path, levels: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """The digest of what each of the report's charts (in report_builds' order) is drawn
    from; None for a level without a samples file."""
    colours = sorted((name, list(colour)) for name, colour in type_colours(levels).items())
    found: list[str | None] = [
        digest(["sweep", index, levels]) for index in range(len(sweep_builds(levels)))
    ]
    for level in levels:
        repeats = RunFolder(folder).level(level_key(level)).repeats()
        try:
            stat = repeats[0].samples.stat()
        except OSError:
            found.append(None)
            continue
        samples = [str(repeats[0].samples), stat.st_size, stat.st_mtime_ns]
        found.append(digest(["level", level, colours, len(repeats), samples]))
    return found


def digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def drawn_ahead(folder: Path, levels: Sequence[Mapping[str, Any]]) -> list[DrawnChart | None]:
    """Each of the report's charts (in report_builds' order) drawn ahead from the inputs it
    has, or None."""
    return [AHEAD.get(found) if found else None for found in inputs(folder, levels)]


def drawn_now(folder: Path, levels: Sequence[Mapping[str, Any]], sweep: bool,
              workers: int | None) -> dict[str, dict[str, str]]:  # fmt: skip
    """The level charts (with `sweep`, the sweep's too) that AHEAD lacks, drawn by `workers`
    processes, as JSON-ready dicts by their inputs' digest. One that cannot be drawn is
    left out: the report draws it again, and says why it has none."""
    pairs = list(zip(inputs(folder, levels), report_builds(folder, levels), strict=True))
    count = len(sweep_builds(levels))
    # The heaviest first, so that no core is left drawing one alone at the end: the latency
    # by type (the sweep's last chart, twice a level's), the levels', the sweep's others.
    of_levels = list(range(count, len(pairs)))
    order = [count - 1, *of_levels, *range(count - 1)] if sweep else of_levels
    wanted = [(found, build) for found, build in map(pairs.__getitem__, order)
              if found is not None and found not in AHEAD]  # fmt: skip
    charts = drawn([build for _, build in wanted], workers) if wanted else []
    return {
        found: dataclasses.asdict(chart)
        for (found, _), chart in zip(wanted, charts, strict=True)
        if isinstance(chart, DrawnChart)
    }


class Ahead:
    """The run-end server's drawer (see the module's doc)."""

    def __init__(self, run_dir: str) -> None:
        self.folder = Path(run_dir)
        self.seen: dict[Path, int] = {}  # a level summary -> its change time when drawn
        self.ended = False  # the run's end has begun: every level is over
        self.drawer: Child | None = None
        self.pipe = -1  # the drawer's output, read as it comes (a chart is over 64 KiB)
        self.received = bytearray()

    def look(self) -> None:
        """Take what a drawer that finished drew. While the levels run, have the charts of
        those whose summaries are new or rewritten drawn, at idle priority; once every
        level the plan names has its summary, the run's end has begun."""
        if self.drawer is not None and not self.collected(0):
            return
        if self.ended:
            return
        changes = {}
        for path in RunFolder(self.folder).level_summaries():
            with contextlib.suppress(OSError):
                changes[path] = path.stat().st_mtime_ns
        if changes == self.seen:
            return
        self.seen = changes
        if self.planned() <= {LevelFolder(path.parent).key for path in changes}:
            self.end()
        else:
            self.start(sweep=False, idle=True)

    def before(self, command: str) -> None:
        """Before a request: the run's first (its summary) says that the levels are over;
        the report waits for the drawer."""
        if command == "report":
            if self.drawer is not None:
                self.collected(BOOSTED_SECONDS)
        elif not self.ended:
            self.end()

    def end(self) -> None:
        """The levels are over: the sweep's charts and the level charts not drawn yet are
        drawn now, on every core."""
        self.ended = True
        if self.drawer is not None and not self.collected(0):
            self.close()  # at idle priority: its charts are drawn again
        self.start(sweep=True, idle=False)

    def planned(self) -> set[float]:
        """The levels the plan names; for a capacity search (its steps are found as it
        goes), one that never runs: its end is its first run-end request."""
        with contextlib.suppress(DocumentError):
            plan = read_plan(RunFolder(self.folder).plan)
            if not plan.get("search"):
                return set(plan.get("rates") or plan.get("concurrency") or [math.inf])
        return {math.inf}

    def close(self) -> None:
        """A drawer still at work is stopped."""
        if self.drawer is not None:
            close_now(self.pipe)  # first: a drawer blocked writing to it ends
            self.drawer.stop(0)
            self.drawer = None

    def levels(self) -> list[dict[str, Any]]:
        """The figures of each level that has a summary, in the run summary's order."""
        found = []
        for path in RunFolder(self.folder).level_summaries():
            with contextlib.suppress(DocumentError, IndexError, KeyError):
                found.append(dict(read_summary(path)["levels"][0]))
        return found

    def start(self, sweep: bool, idle: bool) -> None:
        levels = self.levels()
        if not levels:
            return
        reading, writing = os.pipe()

        def work() -> int:
            close_now(reading)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # not the server's
                signal.signal(signum, signal.SIG_DFL)
            redirect(Path(os.devnull))  # what fails here, the report draws again and says
            if idle:
                with contextlib.suppress(OSError):  # refused (a sandbox's filter): normal
                    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            charts = drawn_now(self.folder, levels, sweep, workers=1 if idle else None)
            with os.fdopen(writing, "w", encoding="utf-8") as pipe:
                json.dump(charts, pipe)
            return 0

        try:
            self.drawer = Child.fork(work)
        except OSError:  # no process to spare: the report draws the charts
            close_now(reading)
            return
        finally:
            close_now(writing)
        self.pipe = reading
        self.received.clear()

    def collected(self, seconds: float) -> bool:
        """Whether the drawer is done, reading what it sent, waiting up to `seconds` for its
        end (then it is stopped); once it is, its charts are in AHEAD."""
        assert self.drawer is not None
        deadline = time.monotonic() + seconds
        while True:
            ready, _, _ = select.select([self.pipe], [], [], max(0, deadline - time.monotonic()))
            if not ready:
                if time.monotonic() < deadline:
                    continue
                if seconds == 0:
                    return False
                self.close()  # stuck: the report draws its charts
                return True
            data = os.read(self.pipe, CHUNK)
            if not data:
                break
            self.received += data
        code = self.drawer.finish(seconds)
        close_now(self.pipe)
        self.drawer = None
        if code == 0:
            with contextlib.suppress(ValueError, TypeError):
                charts = json.loads(self.received)
                AHEAD.update((found, DrawnChart(**chart)) for found, chart in charts.items())
        return True
