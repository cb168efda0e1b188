"""The metric vocabulary every part shares: which percentiles a level gives, which few get
more, and the error shares that change what a figure means. One home, so the tables,
summary.json, the thresholds, the comparison and the history never disagree."""

PERCENTILES = (50, 60, 70, 80, 90, 95, 99)  # a level's table and summary.json, per type
# The headline percentiles: with a 95% interval, corrected for coordinated omission, of the
# probe, judged by the comparison, stored in the history, shown in the short tables.
HEADLINE = (50, 95, 99)
HEADLINE_KEYS = tuple(f"p{p}" for p in HEADLINE)  # their keys in summary.json: p50, p95, p99

# A level's failed share of its measured requests at which the saturation line says errors
# started (ecsload.analysis.saturation).
ERRORS_START_PERCENT = 1.0
# A figure's failed share above which its latency or throughput is "not measured" by a
# threshold (ecsload.analysis.thresholds): its percentiles, over the answered requests only,
# then say little about the service.
MAX_ERROR_PERCENT = 5
