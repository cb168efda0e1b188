"""The commands run_load_test.sh runs, one per `python -m ecsload.commands.<name>`, each thin.

plan       resolve and check every setting, make the run folder, print them for bash
ready      wait for the local node's status file and a healthy endpoint
tls_check  one verified TLS handshake before any credential is sent
probe      paced GET _noop beside a level (probe.csv)
watch      the live line while a level runs
summarize  a level's or a run's tables and summary.json
verdict    thresholds, junit.xml, the comparison with a baseline; the exit code
report     report.html (and the --graphs PDF)
worker_state  one word for a worker machine's bash: next, over or lost
history    the run history: add a run, show the trend and change points, import, prune

What they share lives where its concept does: ecsload.plan, ecsload.report,
ecsload.run_folder.
"""
