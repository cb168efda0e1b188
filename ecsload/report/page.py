"""A run's report page and its PDF, from its summaries, settings and samples.

The charts (matplotlib) and the page (Jinja2) take a second to import, so the
report command imports this module only once its arguments are checked.
"""

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecsload.report.charts import level_chart, sweep_charts, type_colours, write_pdf
from ecsload.report.documents import level_key
from ecsload.report.drawing import drawn
from ecsload.report.html import LevelPart, RunPart, report_html
from ecsload.report.samples import SampleFileError, read_samples
from ecsload.run_folder import RunFolder, write_text


class PdfNotWritten(Exception):
    """The PDF (--graphs) could not be written, after report.html was: the message says why."""


def level_parts(folder: Path, summary: Mapping[str, Any]) -> list[LevelPart]:
    """Each level's chart (from its samples) and the links to its files."""
    colours = type_colours(summary["levels"])
    parts = []
    for level in summary["levels"]:
        files = RunFolder(folder).level(level_key(level))
        links = [
            (str(path.relative_to(folder)), text)
            for path, text in (
                (files.locust_report, "Locust's report"),
                (files.summary_text, "table as text"),
                (files.samples, files.samples.name),
            )
            if path.is_file()
        ]
        try:
            samples = read_samples(files.samples)
        except SampleFileError as error:
            parts.append(LevelPart(level, None, str(error), links))
            continue
        if not len(samples):
            parts.append(LevelPart(level, None, "the level recorded no samples", links))
            continue
        parts.append(LevelPart(level, level_chart(level, samples, colours), links=links))
    return parts


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
    sweep = sweep_charts(summary["levels"])
    levels = level_parts(folder, summary)
    charts = [*sweep, *(part.chart for part in levels if part.chart)]
    run_part = RunPart(
        name=folder.resolve().name,
        summary=summary,
        plan=plan,
        texts=texts,
        sweep=sweep,
        levels=levels,
        svgs=drawn(charts),
        history=history,
    )
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = report_html(run_part, written)
    target = RunFolder(folder).report
    write_text(target, page)
    if graphs is not None:
        try:
            write_pdf(charts, graphs)
        except OSError as error:
            raise PdfNotWritten(error.strerror or str(error)) from None
    return target
