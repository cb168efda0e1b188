"""What turns samples into figures and judgements: reading samples, statistics, intervals,
summary.json's documents, saturation, capacity, thresholds, the comparison. Nothing here
formats for a reader (that is ecsload.report) or imports it."""
