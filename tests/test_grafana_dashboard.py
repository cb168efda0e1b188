"""deploy/grafana/ecs-load.json: a Grafana dashboard of the live metrics (docs/metrics.md).

Its shape is checked against the parts of Grafana's dashboard model it uses, and
every query (panels, annotations) is PromQL that Prometheus's own promtool
parses; tests/test_e2e_metrics.py checks that every metric it names is one a
real run writes.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "ecs-load.json"
METRIC = re.compile(r"\becs_load_[a-z_]+")
DATASOURCE_VALUE = {"type": "prometheus", "uid": "${datasource}"}
DATASOURCE = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": {"const": "prometheus"}, "uid": {"const": "${datasource}"}},
}
SCHEMA = {
    "type": "object",
    "required": ["title", "uid", "schemaVersion", "panels", "annotations", "templating", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "panels": {
            "type": "array",
            "minItems": 6,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "datasource", "gridPos", "targets"],
                "properties": {
                    "type": {"const": "timeseries"},
                    "datasource": DATASOURCE,
                    "gridPos": {
                        "type": "object",
                        "required": ["h", "w", "x", "y"],
                        "properties": {
                            "w": {"type": "integer", "minimum": 1, "maximum": 24},
                            "x": {"type": "integer", "minimum": 0, "maximum": 23},
                        },
                    },
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["refId", "expr", "datasource"],
                            "properties": {"expr": {"type": "string", "pattern": "ecs_load_"}},
                        },
                    },
                },
            },
        },
        "annotations": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "minItems": 5}},
        },
        "templating": {
            "type": "object",
            "properties": {
                "list": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name", "type"]},
                }
            },
        },
    },
}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL query of the dashboard: its panels' and its annotations'."""
    panels = [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    return panels + [a["expr"] for a in board["annotations"]["list"] if "expr" in a]


def test_the_dashboard_has_grafanas_shape() -> None:
    board = dashboard()
    jsonschema.validate(board, SCHEMA)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)
    titles = " ".join(panel["title"].lower() for panel in board["panels"])
    for subject in ("throughput", "latency", "errors", "users", "lateness", "busy"):
        assert subject in titles
    annotations = [a for a in board["annotations"]["list"] if "expr" in a]
    assert {a["name"] for a in annotations} == {"Run start", "Run end", "Level start", "Level end"}
    assert all(a["useValueForTime"] and a["datasource"] == DATASOURCE_VALUE for a in annotations)
    assert {v["name"] for v in board["templating"]["list"]} == {"datasource", "run"}


def test_every_query_is_promql_that_prometheus_parses(tmp_path: Path) -> None:
    if not shutil.which("promtool"):
        pytest.skip("promtool (Debian's prometheus) is not installed")
    rules = [
        {
            "record": f"ecs_load_check_{i}",
            "expr": expr.replace("$__rate_interval", "1m").replace("$run", ".*"),
        }
        for i, expr in enumerate(queries(dashboard()))
    ]
    path = tmp_path / "rules.json"  # YAML is a superset of JSON
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def dashboard_metrics() -> set[str]:
    """The metric names the dashboard's queries read (a histogram's _bucket included)."""
    return {name for expr in queries(dashboard()) for name in METRIC.findall(expr)}
