"""What turns samples into figures: reading samples, statistics, summary.json, tables."""
