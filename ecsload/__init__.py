"""The load-test harness's Python, in three layers and a shared base.

    commands/   what run_load_test.sh runs (`python -m ecsload.commands.<name>`)
    plugin/     what runs inside Locust: the level, its budget, roles and users
    report/     what turns samples into figures: statistics, summary.json, tables

The modules at this level are the base every layer shares: the API's facts
(api), exit codes (exits), one-line errors (cli), value parsers (values),
credentials, TLS trust (tls), the traffic model's weights (model), the samples'
columns and timestamps. They and the plan command use only the standard
library, so `run_load_test.sh --help` and the plan work before the venv exists.
"""
