"""The run history: every run's figures and latency histograms, kept across builds.

location: where the history is (stdlib only, for the plan); schema and store: the
tables and reading/writing them through SQLAlchemy Core (SQLite or PostgreSQL);
record: a run folder as rows; baseline: stored runs as the comparison's input;
changes: change points over the series; trend: the `history` table and sparklines.
docs/history.md is the user's guide.
"""
