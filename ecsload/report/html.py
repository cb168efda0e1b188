"""report.html: one self-contained page per run, from its summaries, settings and charts.

The page needs nothing but itself: styles inline, charts as inline SVG, no
script, no font or image to fetch, and a Content-Security-Policy that forbids
any request, so it opens offline in any browser, also from a CI artifact.
The template is templates/report.html.j2 (Jinja2, escaping on).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
import matplotlib
from markupsafe import Markup
from tabulate import tabulate

from ecsload.analysis.capacity import search_grid
from ecsload.analysis.documents import level_key
from ecsload.report.charts import DrawnChart
from ecsload.report.tables import (
    level_grid,
    level_label,
    level_notes,
    level_title,
    run_grid,
    run_title,
)
from ecsload.report.text_files import TEXT_FILES
from ecsload.run_folder import level_name

PLAN_INTERNALS = ("version", "run_dir", "created", "sources", "distribution")


@dataclass
class LevelPart:
    """What the page shows of one level besides its summary: its chart and its files."""

    level: Mapping[str, Any]
    chart: DrawnChart | None
    no_chart: str = ""  # why there is no chart
    links: list[tuple[str, str]] = field(default_factory=list)  # (relative href, text)


@dataclass
class RunPart:
    """What the page shows of the run: its summary, plan, text files and sweep charts."""

    name: str
    summary: Mapping[str, Any]
    plan: Mapping[str, Any]
    texts: dict[str, str]  # file name -> contents, for those of TEXT_FILES present
    sweep: Sequence[DrawnChart]
    levels: Sequence[LevelPart]
    history: Mapping[str, Any] | None = None  # ecsload.history.report_section's


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ecsload.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def html_table(grid: Mapping[str, Any]) -> Markup:
    """A table grid of ecsload.report.tables as HTML (tabulate escapes the cells)."""
    return Markup(tabulate(**grid, tablefmt="html"))


def setting_text(key: str, value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value))
    if value is None or value == "":
        return "local ECS node" if key == "endpoint" else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def settings_rows(plan: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(setting, value, where it came from) of plan.json; credentials are a path there."""
    sources = plan.get("sources") or {}
    rows = [
        (key, setting_text(key, value), sources.get(key, ""))
        for key, value in plan.items()
        if key not in PLAN_INTERNALS
    ]
    role = plan.get("distribution") or {}
    if role.get("role") == "master":
        rows.append(("distribution", f"master of {role.get('expect_workers')} worker(s)", ""))
    return rows


def chart_context(chart: DrawnChart) -> dict[str, Any]:
    return {
        "key": chart.key,
        "title": chart.title,
        "caption": chart.caption,
        "svg": Markup(chart.svg),
    }


def report_html(run: RunPart, written: str) -> str:
    """The page, top to bottom: header (facts, verdict, settings), sweep charts, the table
    across levels, then each level's chart, table, notes and links."""
    summary = run.summary
    levels = summary["levels"]
    endpoint = summary.get("endpoint") or "the local ECS node"
    verdict = verdict_context(summary.get("verdict"))
    found = summary.get("saturation") or summary.get("capacity") or {}
    saturation = found.get("text")
    open_sweep = bool(run.plan.get("rates")) or any(level.get("rate") for level in levels)
    planned = run.plan.get("rates") or run.plan.get("concurrency") or []  # levels as named
    measured = {level["users"] for level in levels} | {level.get("rate") for level in levels}
    unfinished = [level for level in planned if level not in measured]
    sweep_notes = []
    if not any(chart.key == "probe" for chart in run.sweep):
        sweep_notes.append("No probe ran (--probe-rate 0), so there is no probe chart.")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=f"Load test of {endpoint}",
            endpoint=endpoint,
            date=run.plan.get("created") or levels[0].get("started") or "unknown",
            levels=", ".join(f"{level_key(level):g}" for level in levels)
            + (" req/s" if open_sweep else " users"),
            unit="req/s" if open_sweep else "users",
            requests=sum(level["requests"] for level in levels),
            ramp_requests=sum((level.get("ramp") or {}).get("requests") or 0 for level in levels),
            run_name=run.name,
            verdict=verdict,
            unfinished=unfinished,
            planned=planned,
            saturation=saturation,
            saturation_notes=found.get("notes", []),
            search=html_table(search_grid(found)) if found.get("steps") else None,
            search_stopped=found.get("stopped"),
            texts=[(title, run.texts[name]) for name, title in TEXT_FILES if name in run.texts],
            settings=settings_rows(run.plan),
            sweep_charts=[chart_context(chart) for chart in run.sweep],
            sweep_notes=sweep_notes,
            run_title=run_title(summary),
            run_table=html_table(run_grid(summary)),
            level_sections=[level_context(part) for part in run.levels],
            history=run.history,
            written=written,
            matplotlib_version=matplotlib.__version__,
        )
    )


def verdict_context(verdict: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """summary.json's verdict, each threshold with all its keys (absent ones as None)."""
    if not verdict:
        return None
    return {
        "passed": bool(verdict.get("passed")),
        "thresholds": [
            {
                key: threshold.get(key)
                for key in ("expr", "level", "measured", "passed", "few", "not_measured")
            }
            for threshold in verdict.get("thresholds") or []
        ],
    }


def level_context(part: LevelPart) -> dict[str, Any]:
    level = part.level
    return {
        "users": level["users"],
        "key": level_key(level),
        "label": level_label(level),
        "anchor": level_name(level_key(level)),  # also its folder's name
        "title": level_title(level),
        "chart": chart_context(part.chart) if part.chart else None,
        "no_chart": part.no_chart,
        "table": html_table(level_grid(level)),
        "notes": level_notes(level),
        "links": part.links,
    }
