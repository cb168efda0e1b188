"""--otlp: a level's live figures over OTLP/HTTP (protobuf), with opentelemetry-sdk's exporter.

The figures are the ones remote write sends (ecsload.plugin.live_metrics, from
the level's sample lines), handed to the SDK's OTLPMetricExporter as its own
MetricsData, cumulative, so an OpenTelemetry collector gets what Prometheus gets:

    ecs_load_requests                a monotonic sum, by type, phase, outcome
                                     (`ecs_load_requests_total` once in Prometheus)
    ecs_load_response_seconds        a histogram (unit s) with the same explicit bounds
    ecs_load_users, ...              gauges, as in remote write

each with the level's attributes (run, endpoint, level, repeat), and the
resource's service.name "ecs-load". The SDK is imported only with --otlp.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from ecsload.plugin.remote_write import PushError

CUMULATIVE = AggregationTemporality.CUMULATIVE
RESOURCE = Resource.create({"service.name": "ecs-load"})
SCOPE = InstrumentationScope("ecsload")


def metrics_data(
    requests: Mapping[tuple[str, str, str], int],
    latencies: Mapping[tuple[str, str], Any],
    bounds: Sequence[float],
    labels: Mapping[str, str],
    gauges: Mapping[str, float],
    start_ns: int,
) -> MetricsData:
    """The level's figures (ecsload.plugin.live_metrics.LiveFigures': counts by type, phase
    and outcome, histograms by type and phase) and gauges now, as the SDK's MetricsData."""
    now = time.time_ns()

    def point(attributes: Mapping[str, str], value: float) -> NumberDataPoint:
        return NumberDataPoint(
            attributes=attributes, start_time_unix_nano=start_ns, time_unix_nano=now, value=value
        )

    counts = [
        point({**labels, "type": name, "phase": phase, "outcome": outcome}, count)
        for (name, phase, outcome), count in requests.items()
    ]
    histograms = [
        HistogramDataPoint(
            attributes={**labels, "type": name, "phase": phase},
            start_time_unix_nano=start_ns,
            time_unix_nano=now,
            count=sum(h.buckets),
            sum=h.total,
            bucket_counts=list(h.buckets),
            explicit_bounds=list(bounds),
            min=h.low,
            max=h.high,
        )
        for (name, phase), h in latencies.items()
    ]
    found: list[Metric] = [
        Metric(
            name="ecs_load_requests",
            description="requests completed, by type, phase and outcome",
            unit="{request}",
            data=Sum(data_points=counts, aggregation_temporality=CUMULATIVE, is_monotonic=True),
        ),
        Metric(
            name="ecs_load_response_seconds",
            description="latency of the requests answered as expected",
            unit="s",
            data=Histogram(data_points=histograms, aggregation_temporality=CUMULATIVE),
        ),
    ]
    found += [
        Metric(name=name, description="", unit="", data=Gauge(data_points=[point(labels, value)]))
        for name, value in gauges.items()
    ]
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=RESOURCE,
                scope_metrics=[ScopeMetrics(scope=SCOPE, metrics=found, schema_url="")],
                schema_url="",
            )
        ]
    )


def otlp_sender(url: str, auth: Mapping[str, str], timeout: float) -> Callable[[MetricsData], None]:
    """Sends one MetricsData to an OTLP/HTTP metrics endpoint; PushError when it is not taken
    within `timeout` s (the exporter retries inside it, and logs why to Locust's log)."""
    exporter = OTLPMetricExporter(endpoint=url, headers=dict(auth), timeout=timeout)

    def send(data: MetricsData) -> None:
        result: Any = exporter.export(data, timeout_millis=timeout * 1000)
        if result is not MetricExportResult.SUCCESS:
            raise PushError("the collector did not take it (Locust's log says why)")

    return send
