"""The commands run_load_test.sh runs: `python -m ecsload.commands.<name>`.

plan (resolve and check every setting, print them for bash), ready (wait for a
healthy endpoint), summarize (a level's or a run's tables and summary.json).
"""
