"""The commands run_load_test.sh runs, one per `python -m ecsload.commands.<name>`, each thin.

plan       resolve and check every setting, make the run folder, print them for bash
ready      wait for the local node's status file and a healthy endpoint
tls_check  one verified TLS handshake before any credential is sent
level_server  one process a sweep, Locust and the tables imported once: runs each level
level_client  what bash runs for a level: the server runs it on the client's stdio
level      one level: the probe, the live line and Locust forked beside each other, its table
probe      paced GET _noop beside a level (probe.csv)
watch      the live line while a level runs
summarize  a level's or a run's tables and summary.json
capacity   a capacity search's next step
supervise  runs one command for bash, and stops it and all it started when told
locust_args  a worker machine's Locust command line
verdict    thresholds, junit.xml, the comparison with a baseline; the exit code
report     report.html (and the --graphs PDF)
worker_state  one word for a worker machine's bash: next, over or lost
history    the run history: add a run, show the trend and change points, import, prune

What they share lives where its concept does: ecsload.plan, ecsload.report,
ecsload.run_folder.
"""
