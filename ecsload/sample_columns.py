"""The columns of samples.csv, the file every figure of the tables comes from, and of probe.csv.

One line per request, with this header, e.g. `1732712400123,NoOp,7,1,200,1.234,measure,`:

    timestamp_ms      UTC time the request was sent, ms since the epoch
    request_type      the request's name in the traffic model (never holds a comma)
    user_id           the simulated user that sent it
    ok                1 when the answer was the expected one, else 0
    status            HTTP status, 0 when no answer came
    response_time_ms  as Locust measured it, to the µs; for a request with no answer
                      when the level stopped, the time from its start to the stop
    phase             "ramp" (sent while the level's users were still starting: kept,
                      but not in the tables) or "measure" (sent once all were running)
    error             why no answer came (status 0): the error's name, or "no answer
                      before the time cap"; empty otherwise (the status says it)

The plugin writes it (ecsload.plugin.recorder), the report reads it (ecsload.report.samples).
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
)
HEADER = ",".join(COLUMNS) + "\n"
RAMP = "ramp"
MEASURE = "measure"

# probe.csv (ecsload.commands.probe): one line per probe request, status 0 for no answer.
PROBE_COLUMNS = ("timestamp_ms", "status", "response_time_ms")
PROBE_HEADER = ",".join(PROBE_COLUMNS) + "\n"
