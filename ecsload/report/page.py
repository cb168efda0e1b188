"""A run's report page and its PDF, from its summaries, settings and samples.

The charts (matplotlib) and the page (Jinja2) take a second to import, so the
report command imports this module only once its arguments are checked.
"""

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecsload.analysis.documents import level_key
from ecsload.analysis.samples import SampleFileError, read_samples
from ecsload.report.charts import (
    Build,
    Chart,
    DrawnChart,
    level_chart,
    sweep_builds,
    type_colours,
    write_pdf,
)
from ecsload.report.drawing import drawn
from ecsload.report.html import LevelPart, RunPart, report_html
from ecsload.run_folder import RunFolder, write_text


class PdfNotWritten(Exception):
    """The PDF (--graphs) could not be written, after report.html was: the message says why."""


def level_links(folder: Path, level: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The links to a level's files that are there: (path relative to the run, text)."""
    files = RunFolder(folder).level(level_key(level))
    return [
        (str(path.relative_to(folder)), text)
        for path, text in (
            (files.locust_report, "Locust's report"),
            (files.summary_text, "table as text"),
            (files.samples, files.samples.name),
        )
        if path.is_file()
    ]


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


def write_report(
    folder: Path,
    summary: Mapping[str, Any],
    plan: Mapping[str, Any],
    texts: dict[str, str],
    graphs: Path | None,
    history: Mapping[str, Any] | None = None,
) -> Path:
    """report.html in `folder`, written whole or not at all, and the PDF at `graphs`;
    `history` is the History section (ecsload.history.report_section), if any."""
    levels = summary["levels"]
    sweep = sweep_builds(levels)
    colours = type_colours(levels)
    per_level = [level_build(folder, level, colours) for level in levels]
    done = drawn([*sweep, *per_level])
    run_part = RunPart(
        name=folder.resolve().name,
        summary=summary,
        plan=plan,
        texts=texts,
        sweep=[chart for chart in done[: len(sweep)] if isinstance(chart, DrawnChart)],
        levels=[
            LevelPart(
                level,
                chart if isinstance(chart, DrawnChart) else None,
                chart if isinstance(chart, str) else "",
                level_links(folder, level),
            )
            for level, chart in zip(levels, done[len(sweep) :], strict=True)
        ],
        history=history,
    )
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = report_html(run_part, written)
    target = RunFolder(folder).report
    write_text(target, page)
    if graphs is not None:
        # Built again: the figures drawn above were built in whichever process drew them.
        built = [build() for build in (*sweep, *per_level)]
        try:
            write_pdf([chart for chart in built if isinstance(chart, Chart)], graphs)
        except OSError as error:
            raise PdfNotWritten(error.strerror or str(error)) from None
    return target
