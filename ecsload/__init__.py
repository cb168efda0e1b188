"""The load-test harness's Python: a shared base and six parts in five layers above it.

    analysis/   what turns samples into figures and judgements: statistics, summary.json,
                saturation, capacity, thresholds, the comparison
    plugin/     what runs inside Locust: the level, its budget, roles and users
    report/     what a user reads of them: tables, text files, junit.xml, report.html (above
                analysis/)
    history/    the run history and its views (above analysis/)
    plan/       the settings resolved and checked, each level's Locust command line
    commands/   what run_load_test.sh runs (`python -m ecsload.commands.<name>`)

The modules at this level are the base every layer shares (docs/harness.md names each).
They and the plan command use only the standard library at import time, so
`run_load_test.sh --help` and the plan work before the venv exists;
tests/test_import_layers.py checks that and the layers' order.
"""
