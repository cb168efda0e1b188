"""The load-test harness's Python: plan, credentials, samples, statistics, tables.

`plan` and what it imports (`cli`, `credentials`, `api`) use only the standard
library, so `run_load_test.sh --help` and the plan work before the venv exists.
"""
