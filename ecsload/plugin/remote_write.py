"""Prometheus remote write 1.0: series encoded as protobuf, compressed with snappy, POSTed.

The message is prompb's WriteRequest (prometheus/prompb/types.proto), of which
only what a sender needs:

    WriteRequest { repeated TimeSeries timeseries = 1; }
    TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
    Label        { string name = 1; string value = 2; }
    Sample       { double value = 1; int64 timestamp = 2; }   // timestamp: ms since the epoch

Its classes are made at import from a descriptor built here (Google's `protobuf`
runtime; no generated code, no protoc), and the body is snappy's block format
(`cramjam`, the Rust-backed library python-snappy itself now wraps). The
receiver's credentials come from a file (ecsload.receiver_auth), never from a
command line, and no message here shows them.
"""

from collections.abc import Iterable, Mapping

import cramjam
import requests
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "ecs-load",
}
Series = tuple[Mapping[str, str], float]  # labels (with __name__) and the value


def _write_request_class() -> type:
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="ecsload_prompb.proto", package="ecsload.prompb", syntax="proto3"
    )

    def message(name: str, fields: Iterable[tuple[str, int, int, str]]) -> None:
        m = proto.message_type.add(name=name)
        for field_name, number, kind, type_name in fields:
            repeated = field.LABEL_REPEATED if type_name else field.LABEL_OPTIONAL
            f = m.field.add(name=field_name, number=number, type=kind, label=repeated)
            if type_name:
                f.type_name = f".ecsload.prompb.{type_name}"

    message("Label", [("name", 1, field.TYPE_STRING, ""), ("value", 2, field.TYPE_STRING, "")])
    message("Sample", [("value", 1, field.TYPE_DOUBLE, ""), ("timestamp", 2, field.TYPE_INT64, "")])
    message(
        "TimeSeries",
        [("labels", 1, field.TYPE_MESSAGE, "Label"), ("samples", 2, field.TYPE_MESSAGE, "Sample")],
    )
    message("WriteRequest", [("timeseries", 1, field.TYPE_MESSAGE, "TimeSeries")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("ecsload.prompb.WriteRequest")
    )


WriteRequest = _write_request_class()


def encode(series: Iterable[Series], timestamp_ms: int) -> bytes:
    """The request body: every series' value at `timestamp_ms`, labels sorted by name (as
    the protocol asks), snappy-compressed."""
    request = WriteRequest()
    for labels, value in series:
        ts = request.timeseries.add()
        for name in sorted(labels):
            ts.labels.add(name=name, value=labels[name])
        ts.samples.add(value=value, timestamp=timestamp_ms)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def decode(body: bytes) -> list[tuple[dict[str, str], list[tuple[float, int]]]]:
    """A body back as (labels, [(value, timestamp_ms)]) per series (for the tests)."""
    request = WriteRequest()
    request.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
    return [
        (
            {label.name: label.value for label in ts.labels},
            [(sample.value, sample.timestamp) for sample in ts.samples],
        )
        for ts in request.timeseries
    ]


def post(url: str, body: bytes, auth: Mapping[str, str], timeout: float) -> None:
    """Send one body; a refusal, a timeout or an answer other than 2xx raises PushError."""
    try:
        answer = requests.post(url, data=body, headers={**HEADERS, **auth}, timeout=timeout)
    except requests.RequestException as error:
        raise PushError(type(error).__name__) from None
    if not 200 <= answer.status_code < 300:
        raise PushError(f"HTTP {answer.status_code}: {answer.text.strip()[:120]}")


class PushError(Exception):
    """A push that the receiver did not take (the message says why, never the credentials)."""
