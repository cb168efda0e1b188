"""The plan: every setting (declared in ecsload.setting_rows) resolved (resolve), checked
across (checks, distribution, newrelic_agent) before anything starts, and each level's
Locust command line (locust_command). ecsload.commands.plan is its command.
"""
