"""The timestamps of level.json and summary.json: ISO 8601, UTC, to the millisecond."""

from datetime import UTC, datetime, timedelta


def iso_utc(epoch_ms: float) -> str:
    """`2024-05-01T12:00:00.123Z` for a time in ms since the epoch."""
    seconds, ms = divmod(round(epoch_ms), 1000)  # integers: no float truncation of the ms
    moment = datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
