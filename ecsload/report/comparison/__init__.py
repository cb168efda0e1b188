"""This run against a baseline run: reading the runs (reading), judging each figure against the
noise the runs themselves show (statistics), and comparison.txt (text)."""
