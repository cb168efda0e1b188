"""A run's report page and its PDF, from its summaries, settings and samples.

The charts (matplotlib) and the page (Jinja2) take a second to import, so the
report command imports this module only once its arguments are checked.
"""

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecsload.analysis.documents import level_key
from ecsload.report.charts import Chart, DrawnChart, sweep_builds, write_pdf
from ecsload.report.drawing import drawn
from ecsload.report.html import LevelPart, RunPart, report_html
from ecsload.report.level_charts import drawn_ahead, report_builds
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
    builds = report_builds(folder, levels)
    sweep = len(sweep_builds(levels))
    # The charts the run-end server drew ahead (report/level_charts.py); the rest, now.
    ahead = drawn_ahead(folder, levels)
    now = iter(drawn([build for build, chart in zip(builds, ahead, strict=True) if chart is None]))
    done = [chart if chart is not None else next(now) for chart in ahead]
    run_part = RunPart(
        name=folder.resolve().name,
        summary=summary,
        plan=plan,
        texts=texts,
        sweep=[chart for chart in done[:sweep] if isinstance(chart, DrawnChart)],
        levels=[
            LevelPart(
                level,
                chart if isinstance(chart, DrawnChart) else None,
                chart if isinstance(chart, str) else "",
                level_links(folder, level),
            )
            for level, chart in zip(levels, done[sweep:], strict=True)
        ],
        history=history,
    )
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = report_html(run_part, written)
    target = RunFolder(folder).report
    write_text(target, page)
    if graphs is not None:
        # Built again: the figures drawn above were built in whichever process drew them.
        built = [build() for build in builds]
        try:
            write_pdf([chart for chart in built if isinstance(chart, Chart)], graphs)
        except OSError as error:
            raise PdfNotWritten(error.strerror or str(error)) from None
    return target
