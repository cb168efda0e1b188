"""The load-test harness's Python: plan, credentials, samples, statistics, tables.

Modules import only the standard library at module level where a command must
work before the virtual environment exists (`plan`, `credentials`, `cli`).
"""
