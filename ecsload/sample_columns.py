"""The columns of samples.csv, the file every figure of the tables comes from.

One line per request, with this header, e.g. `1732712400123,NoOp,7,1,200,1.234`:

    timestamp_ms      UTC time the request was sent, ms since the epoch
    request_type      the request's name in the traffic model (never holds a comma)
    user_id           the simulated user that sent it
    ok                1 when the answer was the expected one, else 0
    status            HTTP status, 0 when no answer came (connection error)
    response_time_ms  as Locust measured it, to the µs

The plugin writes it (ecsload.plugin.recorder), the report reads it (ecsload.report.samples).
"""

COLUMNS = ("timestamp_ms", "request_type", "user_id", "ok", "status", "response_time_ms")
HEADER = ",".join(COLUMNS) + "\n"
