"""The columns of samples.csv, the file every figure of the tables comes from, and of probe.csv.

One line per request, with this header, e.g.
`1732712400123,NoOp,7,1,200,1.234,measure,,0.012,4bf92f3577b34da6a3ce929d0e0e4736`:

    timestamp_ms      UTC time the request was sent, ms since the epoch
    request_type      the request's name in the traffic model (never holds a comma)
    user_id           the simulated user that sent it
    ok                1 when the answer was the expected one, else 0
    status            HTTP status, 0 when no answer came
    response_time_ms  as Locust measured it, to the µs; for a request with no answer
                      when the level stopped, the time from its start to the stop
    phase             "ramp" (sent while the level's users were still starting: kept,
                      but not in the tables), "warmup" (sent during --warmup, after the
                      ramp: kept, not in the tables) or "measure" (counted)
    error             why no answer came (status 0): the error's name, or "no answer
                      before the time cap", or "Dropped" (an arrival-rate level's arrival
                      that found its requests in flight at --max-in-flight); empty otherwise
    late_ms           how long after it was due the request was actually sent, to the µs:
                      in an arrival-rate level, after its scheduled time; in a closed
                      level, after its user's previous answer plus its wait (0 for a
                      user's first request)
    trace_id          the W3C trace id (32 hex digits) of the `traceparent` header the
                      request carried (ecsload.plugin.tracing), to find it in the
                      service's traces; empty for an arrival dropped before it was sent

In an arrival-rate level timestamp_ms is when the request was due and
response_time_ms is counted from then (what a user arriving then waited); its
service time, from the actual send, is response_time_ms - late_ms. In a closed
level both are from the actual send. Files of ecs-load before late_ms
(PREVIOUS_HEADER) still read, as if every request was sent on time, and so do
those before trace_id (UNTRACED_HEADER).

The plugin writes it (ecsload.plugin.recorder), the report reads it (ecsload.analysis.samples).
"""

COLUMNS = (
    "timestamp_ms",
    "request_type",
    "user_id",
    "ok",
    "status",
    "response_time_ms",
    "phase",
    "error",
    "late_ms",
    "trace_id",
)
HEADER = ",".join(COLUMNS) + "\n"
UNTRACED_HEADER = ",".join(COLUMNS[:-1]) + "\n"
PREVIOUS_HEADER = ",".join(COLUMNS[:-2]) + "\n"
RAMP = "ramp"
MEASURE = "measure"
WARMUP = "warmup"

# probe.csv (ecsload.commands.probe): one line per probe request, status 0 for no answer.
PROBE_COLUMNS = ("timestamp_ms", "status", "response_time_ms")
PROBE_HEADER = ",".join(PROBE_COLUMNS) + "\n"
